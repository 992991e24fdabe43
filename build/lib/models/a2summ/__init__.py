"""A2Summ (He et al., CVPR 2023): the network, its defaults, its passthrough columns."""
