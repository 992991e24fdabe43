"""MHMS (multimodal hierarchical multimedia summarization): the five modules of its section 3, one file
each (vts, visual, textseg, textsum, alignment), the model that chains them (model.MHMS) and its defaults
(defaults.py)."""

NETWORK = "models.mhms.model:MHMS"
PASSTHROUGH_INPUTS = ("sentences",)  # read at training and evaluation: the sentences' text, for BERT / BART
PASSTHROUGH_TARGETS = ("summary", "frame_labels")  # read at training only
