"""Render a dataset card (README.md: YAML metadata + prose) from a build's facts in build.json.

The YAML carries what the Hub and ``load_dataset`` read: ``configs`` (data files per split),
``dataset_info`` (features, split sizes), license, task categories and size category.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import jinja2
from datasets import Features
from huggingface_hub import DatasetCardData

from common.safefiles import read_json

TEMPLATES = Path(__file__).parent / "templates"


def size_category(n: int) -> str:
    """The Hub's size category of ``n`` examples (cards/hub_metadata.json)."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                        (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")):
        if n < limit:
            return name
    return "100M<n<1B"


def default_config(build: dict, names) -> str:
    """The config ``load_dataset(repo)`` reads without a config name: the card's ``default_config`` when
    the build has it, else the first by name."""
    names = sorted(names)
    wanted = build["card"].get("default_config")
    return wanted if wanted in names else names[0]


def _yaml(build: dict, card: dict) -> str:
    configs, infos, total = [], [], 0
    default = default_config(build, build["configs"])
    for name, rec in sorted(build["configs"].items()):
        splits = rec["splits"]
        configs.append({
            "config_name": name,
            **({"default": True} if name == default else {}),
            "data_files": [{"split": s, "path": f"data/{name}/{s}-*.parquet"} for s in splits],
        })
        features = Features.from_dict(rec["features"])
        infos.append({
            "config_name": name,
            "features": features._to_yaml_list(),
            "splits": [{"name": s, "num_bytes": v["num_bytes"], "num_examples": v["num_examples"]} for s, v in splits.items()],
            "dataset_size": sum(v["num_bytes"] for v in splits.values()),
            **({"download_size": sum(v["parquet_bytes"] for v in splits.values())}
               if all("parquet_bytes" in v for v in splits.values()) else {}),
        })
        total += sum(v["num_examples"] for v in splits.values())
    licensing = {k: card[k] for k in ("license_name", "license_link") if card.get(k)}  # for license: other
    data = DatasetCardData(
        license=card["license"],
        **licensing,
        task_categories=card["task_categories"],
        language=card.get("language", ["en"]),
        size_categories=[size_category(total)],
        pretty_name=card["pretty_name"],
        tags=card.get("tags", []),
        configs=configs,
        dataset_info=infos,
    )
    return data.to_yaml()


def _describe_extractor(column: str, meta: dict) -> dict:
    libs = ", ".join(f"{k} {v}" for k, v in sorted(meta.get("library_versions", {}).items()))
    sampling = meta.get("sampling") or (f"{meta['fps']} fps" if meta.get("fps") else "")
    return {
        "column": column,
        "extractor": meta.get("extractor", "?"),
        "model": meta.get("model") or "none (weight-free)",
        "sha": f"`{meta['weights_sha256'][:16]}…`" if meta.get("weights_sha256") else "n/a",
        "sampling": sampling,
        "dim": meta.get("dim", "?"),
        "libs": libs,
    }


def render_card(build: dict, load_path: str | None = None, wds_repo: str | None = None) -> str:
    """README.md text for the dataset described by ``build`` (the parsed build.json). ``load_path`` is
    what the "Load it" section passes to ``load_dataset``: a Hub repo id, or None for a local build (the
    card then says ``path/to/<dataset>``, never the build machine's directories); ``wds_repo``
    names the Hub repo holding the webdataset shards when they are published apart from the parquet."""
    card = build["card"]
    configs, columns = [], {}
    for name, rec in sorted(build["configs"].items()):
        splits = []
        for s, v in rec["splits"].items():
            stats = rec["stats"].get(s, {})
            splits.append({"name": s, "examples": v["num_examples"], "videos": stats.get("videos", 0),
                           "frames": stats.get("frames", 0), "sentences": stats.get("sentences", 0),
                           "hours": stats.get("seconds", 0.0) / 3600})
        ex = rec.get("extractors", {})
        configs.append({
            "name": name, "splits": splits, "first_split": next(iter(rec["splits"]), "train"),
            "visual": _extractor_label(ex, "visual"),
            "text": _extractor_label(ex, "text"),
            "source": rec["source"], "input": _input_label(rec.get("input")), "built_at": rec["built_at"],
            "figure": rec.get("figure"),
            "items_ok": rec["items"]["ok"], "items_total": rec["items"]["total"],
            "failures": rec["failures"]["by_kind"],
            "extractors": [_describe_extractor(rec["columns"][k], m) for k, m in sorted(ex.items())],
        })
        for col, typ in Features.from_dict(rec["features"]).items():
            columns.setdefault(col, {"name": col, "type": _type_name(typ), "meaning": _meaning(col, card.get("columns", {}))})
    first = Features.from_dict(build["configs"][configs[0]["name"]]["features"])
    usage = [f'example["{col}"]   # {_meaning(col, card.get("columns", {}))}'
             for pattern in card.get("usage_columns", []) for col in first if fnmatch.fnmatchcase(col, pattern)]
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), keep_trailing_newline=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("dataset_card.md.j2").render(
        yaml=_yaml(build, card).strip(), card=card, build=build, configs=configs, usage_lines=usage,
        columns=list(columns.values()), load_path=load_path or f"path/to/{build['dataset']}", local=load_path is None,
        wds_repo=wds_repo, unit=card.get("item_unit", "source videos"),
    )


def _input_label(text: str | None) -> str | None:
    """What the card says was read: an absolute path's last part (the build machine's directories are
    nobody's business); anything else as given."""
    if not text or not os.path.isabs(text):
        return text
    return Path(text).name or text


def _extractor_label(extractors: dict, kind: str) -> str:
    """Which extractor made a config's features: its name, "as released" for imported ones, "-" for none."""
    meta = extractors.get(kind)
    if not meta:
        return "-"
    return "as released" if meta.get("extractor") == "provided" else meta.get("extractor", "?")


def _meaning(column: str, meanings: dict) -> str:
    """A column's meaning; keys like ``frames_*`` describe every extractor's column of that kind."""
    if column in meanings:
        return meanings[column]
    return next((m for pattern, m in meanings.items() if fnmatch.fnmatchcase(column, pattern)), "")


def _type_name(feature) -> str:
    """Short type names for the columns table: float32, List(string), List(List(float32, length=512))."""
    from datasets import List, Value

    if isinstance(feature, Value):
        return feature.dtype
    if isinstance(feature, List):
        length = f", length={feature.length}" if feature.length not in (None, -1) else ""
        return f"List({_type_name(feature.feature)}{length})"
    if isinstance(feature, dict):
        return "{" + ", ".join(f"{k}: {_type_name(v)}" for k, v in feature.items()) + "}"
    return type(feature).__name__


def write_card(out_dir: str | Path, load_path: str | None = None) -> Path:
    """Render README.md from build.json, after checking it against the Hub's metadata rules: a bad
    card raises cards.validate.CardError, nothing written."""
    from cards.validate import check

    out_dir = Path(out_dir)
    build = read_json(out_dir / "build.json")
    text = render_card(build, load_path)
    check(text, "card")
    path = out_dir / "README.md"
    tmp = path.with_name("README.md.tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
