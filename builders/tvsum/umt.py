"""UMT's TVSum split (CFSum Table I's protocol): per category, four videos to train on and one to test on.

UMT (TencentARC/UMT, ``datasets/utils/static.py``, ``TVSUM_SPLITS``; CVPR 2022) trains a model per category on four
of its five videos and reports top-5 mAP on the fifth (its ``val`` list); CFSum follows it. The split is a fixed
list of video ids, so it is kept here: the one test video of each category, the other four train.
"""

from __future__ import annotations

UMT_TEST = {  # category -> the video UMT evaluates on (its ``val`` list; 50 videos: 10 categories x 5)
    "VT": "J0nA4VgnoCo", "VU": "sTEELN-vY30", "GA": "Bhxk-O1Y7Ho", "MS": "Yi4Ij2NM7U4", "PK": "cjibtmSLxQ4",
    "PR": "fWutDQy1nnY", "FM": "JKpqYvAdIsw", "BK": "Se3oxnaPsz0", "BT": "JgHubY5Vw3Y", "DS": "E11zDS9XGzg",
}
UMT_TRAIN = {  # category -> the four videos UMT trains on (its ``train`` list), to check a release against
    "VT": ("gzDbaEs1Rlg", "XzYM3PfTM4w", "98MoyGZKHXc", "AwmHb44_ouw"),
    "VU": ("akI8YFjEmUw", "HT5vyqe0Xaw", "vdmoEJ5YbrQ", "xwqBXPGE9pQ"),
    "GA": ("xxdtq8mxegs", "i3wAGJaaktw", "0tmA_C6XwfM", "3eYKfiOEJNs"),
    "MS": ("Hl-__g2gn_A", "WG0MBPpPC6I", "LRw_obCPUt0", "37rzWOQsNIw"),
    "PK": ("GsAD1KT1xo8", "XkqCExn6_Us", "b626MiF1ew4", "PJrm840pAUI"),
    "PR": ("RBCABdttQmI", "z_6gVvQb2d0", "4wU_LUjG5Ic", "91IHQYk1IQM"),
    "FM": ("_xMr-HKMfVA", "byxOvuiIJV0", "VuWGsYPqAX8", "xmEERLqJ2kU"),
    "BK": ("WxtbjNsCQ8A", "EE-bNr36nyA", "oDXZc0tZe04", "uGu_10sucQo"),
    "BT": ("eQu1rNs0an0", "qqR6AEXwxoQ", "EYqVtI9YWJA", "iVt07TCkFM0"),
    "DS": ("kLxoNp-UchI", "NyBmCxDoHJU", "jcoYJXDG9sw", "-esJrBWj2d8"),
}


def umt_split(video_id: str, category: str) -> str | None:
    """``train`` or ``test`` of a video in UMT's split; None for a video UMT does not list (left out)."""
    if UMT_TEST.get(category) == video_id:
        return "test"
    return "train" if video_id in UMT_TRAIN.get(category, ()) else None
