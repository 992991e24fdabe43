"""VDF (Liu et al., EMNLP 2022): the network, its data, its training stages and evaluation."""
