"""What every build's webdataset shards must allow, checked on each builder's fixture build:

- ``DataLoader(webdataset.WebDataset(urls), num_workers=2)`` with default arguments reads every example
  of every split of 2+ examples (so such a split is never one tar);
- the ``-wds`` card's snippet (``empty_check=False``, ``split_by_node``) reads every example of every
  split with 8 workers, however few tars a split has;
- a config's tars are at most twice its parquet bytes.
"""

from __future__ import annotations

import json
from pathlib import Path


def card_snippet_dataset(urls):
    """The pipeline the -wds card's "Load it" section builds (cards/templates/wds_card.md.j2)."""
    import webdataset as wds

    return wds.WebDataset(urls, shardshuffle=False, nodesplitter=wds.split_by_node, empty_check=False).decode()


def assert_wds_readable(hub: Path, card_workers: int = 8) -> dict:
    """Run the checks above on a built dataset directory; returns {config: tar bytes / parquet bytes}."""
    import torch
    import webdataset as wds

    from builders.core.writers import wds_members
    from cards.wds_card import render_wds_card

    hub = Path(hub)
    build = json.loads((hub / "build.json").read_text())
    card = render_wds_card(build, "org/x-wds", "org/x", members=wds_members(build))
    assert "nodesplitter=wds.split_by_node, empty_check=False).decode()" in card  # the snippet checked below
    ratios = {}
    for config, rec in build["configs"].items():
        parquet = tars = 0
        for split, facts in rec["splits"].items():
            urls = [str(hub / p) for p in facts["wds"]]
            n = facts["num_examples"]
            ids = sorted(json.loads(s["json"])["id"] for s in wds.WebDataset(urls, shardshuffle=False))
            assert len(ids) == n, (config, split)
            if n >= 2:
                assert len(urls) >= 2, f"{config} {split}: {n} examples in one tar"
                loader = torch.utils.data.DataLoader(wds.WebDataset(urls), num_workers=2)
                got = sorted(json.loads(b["json"][0])["id"] for b in loader)
                assert got == ids, (config, split)
            loader = torch.utils.data.DataLoader(card_snippet_dataset(urls), batch_size=None, num_workers=card_workers)
            assert sorted(s["json"]["id"] for s in loader) == ids, (config, split)
            parquet += sum((hub / p).stat().st_size for p in facts["parquet"])
            tars += sum((hub / p).stat().st_size for p in facts["wds"])
        ratios[config] = tars / parquet
        assert ratios[config] <= 2, f"{config}: tars are {ratios[config]:.1f}x the parquet bytes"
    return ratios
