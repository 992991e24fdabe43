"""CFSum: coarse-fine fusion of video, audio and text; the network, its defaults."""
