"""The card of a dataset's webdataset repo (``<repo>-wds`` on the Hub), rendered from build.json.

The Hub cannot mix parquet and webdataset configs in one repo, so the tars are published in a repo
of their own; its YAML declares each config's tar shards per split (``data_files`` globs that
``datasets`` reads with its webdataset loader) and its prose points back to the parquet repo, whose
card documents the columns.
"""

from __future__ import annotations

import jinja2
from huggingface_hub import DatasetCardData

from cards.render import TEMPLATES, default_config, size_category


def _pattern(name: str, split: str, files: list[str]) -> str:
    """The data_files glob of a split's tars (their suffix as written: .tar.gz, or .tar from older builds)."""
    suffix = ".tar.gz" if all(f.endswith(".tar.gz") for f in files) else ".tar"
    return f"wds/{name}/{split}-*{suffix}"


def wds_yaml(build: dict, members: dict | None = None) -> str:
    """``members``: per config, the ``datasets.Features`` of a tar sample's members
    (``builders.core.writers.wds_members``);
    declared as ``dataset_info`` (with each split's size) so the loader never guesses them."""
    card = build["card"]
    configs, infos, total = [], [], 0
    with_tars = [n for n, rec in build["configs"].items() if any(v.get("wds") for v in rec["splits"].values())]
    default = default_config(build, with_tars) if with_tars else None
    for name, rec in sorted(build["configs"].items()):
        splits = [s for s, v in rec["splits"].items() if v.get("wds")]
        if splits:
            configs.append({"config_name": name, **({"default": True} if name == default else {}),
                            "data_files": [{"split": s, "path": _pattern(name, s, rec["splits"][s]["wds"])}
                                           for s in splits]})
            if members and name in members:
                facts = rec["splits"]
                infos.append({"config_name": name, "features": members[name]._to_yaml_list(),
                              # num_bytes: the rows' Arrow bytes (as the parquet card counts them: the same rows)
                              "splits": [{"name": s, "num_bytes": facts[s]["num_bytes"],
                                          "num_examples": facts[s]["num_examples"]} for s in splits],
                              "dataset_size": sum(facts[s]["num_bytes"] for s in splits),
                              **({"download_size": sum(facts[s]["wds_bytes"] for s in splits)}
                                 if all("wds_bytes" in facts[s] for s in splits) else {})})
        total += sum(v["num_examples"] for v in rec["splits"].values())
    extra = {k: card[k] for k in ("license_name", "license_link") if card.get(k)}
    data = DatasetCardData(
        license=card["license"], task_categories=card["task_categories"], language=card.get("language", ["en"]),
        size_categories=[size_category(total)], pretty_name=f"{card['pretty_name']} (webdataset shards)",
        tags=[*card.get("tags", []), "webdataset"], configs=configs, **({"dataset_info": infos} if infos else {}), **extra,
    )
    return data.to_yaml()


def render_wds_card(build: dict, repo_id: str, parquet_repo: str, members: dict | None = None) -> str:
    """README.md of the webdataset repo ``repo_id``; ``parquet_repo`` holds the same rows as parquet;
    ``members``: see :func:`wds_yaml`."""
    configs = []
    for name, rec in sorted(build["configs"].items()):
        splits = [{"name": s, "examples": v["num_examples"], "tars": len(v.get("wds", [])),
                   "pattern": _pattern(name, s, v["wds"]).split("/")[-1]}
                  for s, v in rec["splits"].items() if v.get("wds")]
        if splits:
            configs.append({"name": name, "splits": splits})
    if not configs:
        raise ValueError("the build has no webdataset shards")
    default = default_config(build, [c["name"] for c in configs])
    configs.sort(key=lambda c: c["name"] != default)  # the snippet shows the default config
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("wds_card.md.j2").render(
        yaml=wds_yaml(build, members).strip(), card=build["card"], build=build, configs=configs,
        repo_id=repo_id, parquet_repo=parquet_repo, first=configs[0],
    )
