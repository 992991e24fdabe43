"""MHMS (multimodal hierarchical multimedia summarization): the five modules of its section 3, one file
each (vts, visual, textseg, textsum, alignment), and the model that chains them (model.MHMS)."""
