"""HierSum (Beedu & Essa): the network, its defaults, its passthrough columns."""
