"""VDF's hyper-parameters (``models.registry``): section 3.2 of the paper, the How2 recipe.

Section 3.2: 4-layer, 512-d, 8-head encoder and decoder plus one forget fusion encoder layer and one cascaded fusion
decoder layer, text cut to 800 and video to 1024, 50 epochs, batch 8, Adam at 1.5e-4, beam 6, length penalty 1,
2048-d video. Not in the paper, from the authors' code: feed-forward width 2048, dropout 0.1, no weight decay,
summaries cut to / generated up to 200 tokens; KD at the encoder output (``kd_layer`` None = the last encoder layer,
VDF-TS-E; 0 is VDF-TS-V). ``run`` holds what is not the network's: generation, KD layer, the support config of
stage 1. Another family gets the How2 recipe, with a warning (``UNLISTED = "recipe"``).
"""

from models.registry import recipe

RECIPE = {
    "train": recipe(8, 1.5e-4, 0.0, 50),
    "model": {"d_model": 512, "encoder_layers": 4, "decoder_layers": 4, "heads": 8, "ffn_dim": 2048, "dropout": 0.1,
              "video_dim": 2048, "max_text_len": 800, "max_video_len": 1024, "max_summary_len": 200},
    "run": {"num_beams": 6, "length_penalty": 1.0, "kd_layer": None, "support_config": "ms"},
}
FAMILIES = {"how2": {}}
UNLISTED = "recipe"
