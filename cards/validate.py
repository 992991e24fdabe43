"""Check a dataset card's YAML against the Hub's metadata rules, offline, before a build finishes.

The Hub accepts a card whatever its YAML says and shows the mistakes later (an unknown license as
none, ``license: other`` without a name or link as "other", an unknown task as no task), and
``load_dataset`` without a config fails unless one config is the default. The ids the Hub knows are
shipped in ``cards/hub_metadata.json`` with their sources (huggingface_hub has no offline list).

Each problem is one line, ``card: <field>: <what is wrong>``; :func:`check` raises :class:`CardError`
with the first lines.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

METADATA = Path(__file__).with_name("hub_metadata.json")
LICENSE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")  # the Hub's rule for license_name: a lowercase slug


class CardError(ValueError):
    """A card the Hub would show wrong or ``load_dataset`` could not read: one line per problem."""


@functools.lru_cache(maxsize=1)
def hub_ids() -> dict[str, set[str]]:
    data = json.loads(METADATA.read_text())
    return {k: set(v) for k, v in data.items() if not k.startswith("_")}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def license_problems(meta: dict) -> list[str]:
    """The license fields alone: what a builder's card facts can be checked for before anything is built."""
    ids = hub_ids()
    licenses = _as_list(meta.get("license"))
    if not licenses:
        return ["card: license: missing (one of the Hub's ids, e.g. cc-by-4.0, or unknown / other)"]
    problems = [f"card: license: {x!r} is not one of the Hub's license ids (cards/hub_metadata.json)"
                for x in licenses if x not in ids["licenses"]]
    if "other" in licenses:
        name, link = meta.get("license_name"), meta.get("license_link")
        if not name or not link:
            missing = " and ".join(k for k, v in (("license_name", name), ("license_link", link)) if not v)
            problems.append(f"card: license: other needs license_name and license_link; {missing} missing")
        if name and not LICENSE_NAME.match(str(name)):
            problems.append(f"card: license_name: {name!r} is not a lowercase slug (letters, digits, '-', '.')")
        if link and not re.match(r"^(https?://\S+|LICENSE(\.\w+)?)$", str(link)):
            problems.append(f"card: license_link: {link!r} is neither an http(s) URL nor a LICENSE file of the repo")
    return problems


def problems(meta: dict) -> list[str]:
    """Every problem of a card's YAML (a dict), one line each; [] for a card the Hub reads as meant."""
    ids = hub_ids()
    out = license_problems(meta)
    tasks = _as_list(meta.get("task_categories"))
    if not tasks:
        out.append("card: task_categories: missing")
    out += [f"card: task_categories: {t!r} is not one of the Hub's tasks" for t in tasks if t not in ids["task_categories"]]
    sizes = _as_list(meta.get("size_categories"))
    if len(sizes) != 1 or sizes[0] not in ids["size_categories"]:
        out.append(f"card: size_categories: {sizes!r} is not one of the Hub's size categories")
    configs = meta.get("configs") or []
    names = [c.get("config_name") for c in configs if isinstance(c, dict)]
    if not configs:
        out.append("card: configs: missing (the data files of each config)")
    if len(set(names)) != len(names) or None in names:
        out.append(f"card: configs: config names missing or repeated: {names}")
    defaults = [c.get("config_name") for c in configs if isinstance(c, dict) and c.get("default") is True]
    if configs and len(defaults) != 1:
        out.append(f"card: configs: {len(defaults)} configs are `default: true` (load_dataset without a config "
                   f"needs exactly one): {defaults}")
    infos = meta.get("dataset_info")
    infos = [infos] if isinstance(infos, dict) else infos or []
    if not infos:
        out.append("card: dataset_info: missing (features and split sizes)")
    for info in infos:
        name = info.get("config_name")
        if len(infos) > 1 or configs:
            if name not in names:
                out.append(f"card: dataset_info: config {name!r} is not in configs")
        if not info.get("features"):
            out.append(f"card: dataset_info: {name}: no features")
        for split in info.get("splits") or []:  # none when nothing was built (the build's status says so)
            if not isinstance(split, dict) or not {"name", "num_examples", "num_bytes"} <= set(split):
                out.append(f"card: dataset_info: {name}: every split needs name, num_bytes and num_examples "
                           "(else datasets ignores the split sizes)")
                break
    return out


def card_yaml(text: str) -> dict:
    """The YAML block of a README.md card."""
    if not text.startswith("---\n"):
        raise CardError("card: no YAML block at the top")
    return yaml.safe_load(text.split("---\n", 2)[1]) or {}


def check(text_or_meta, what: str = "card") -> None:
    """Raise CardError (its message: the problems, one per line; the first line says it all) for a bad card."""
    meta = card_yaml(text_or_meta) if isinstance(text_or_meta, str) else text_or_meta
    found = problems(meta)
    if found:
        raise CardError("; ".join(p.replace("card:", f"{what}:", 1) for p in found))
