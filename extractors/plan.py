"""The shard plan of an extraction job, saved as ``<out>/plan.json`` before any work starts.

Shards are the manifest's ok items sorted by id, cut every ``shard_size`` items: the same inputs
give the same plan on any machine. Each shard has a key, a hash of its item ids and of the fields
extraction reads (media paths, transcript); a shard's output is current only if its stats file
carries that key. A rerun with the same inputs reuses the plan; when the manifest changed, a new
generation replaces it (the old one is kept as ``plan.gen-NNNN.json``) and the change is
described, so only shards whose key changed are redone.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from collectors.records import RawItem
from extractors.shardstore import write_json

PLAN_FORMAT = "vsumhub.extraction-plan/1"


def _sha1(doc) -> str:
    return hashlib.sha1(json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()


def item_key(item: RawItem) -> str:
    """What extraction reads from a manifest line; other fields (views, title, ...) may change freely."""
    return _sha1({"id": item.id, "media": item.media, "transcript": item.transcript})[:16]


def plan_shards(items: list[RawItem], shard_size: int) -> list[dict]:
    if shard_size < 1:
        raise ValueError(f"shard size must be at least 1, got {shard_size}")
    ok = sorted((i for i in items if i.ok), key=lambda i: i.id)
    ids = [i.id for i in ok]
    if len(set(ids)) != len(ids):
        dup = sorted({x for x in ids if ids.count(x) > 1})
        raise ValueError(f"the manifest has duplicate item ids: {', '.join(dup[:10])}")
    shards = []
    for n, start in enumerate(range(0, len(ok), shard_size)):
        chunk = ok[start:start + shard_size]
        keys = [item_key(i) for i in chunk]
        shards.append({"id": f"shard-{n:05d}", "items": [i.id for i in chunk], "item_keys": keys,
                       "key": _sha1([[i.id for i in chunk], keys])[:16]})
    return shards


def new_plan(items: list[RawItem], shard_size: int, manifest: str | None, extractors: dict,
             shards: list[dict] | None = None) -> dict:
    """The plan of ``items``; ``shards``: their plan_shards when already computed (100k items: ~2 s)."""
    shards = plan_shards(items, shard_size) if shards is None else shards
    return {
        "format": PLAN_FORMAT,
        "generation": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "manifest": manifest,
        "shard_size": shard_size,
        "items": sum(len(s["items"]) for s in shards),
        "not_ok_in_manifest": sorted(i.id for i in items if not i.ok),
        "shards": shards,
        "extractors": extractors,
    }


def describe_change(old: dict, new: dict) -> str:
    """One line on what differs between two plans' shards (items added, removed, changed)."""
    def keys(plan):
        return {i: k for s in plan["shards"] for i, k in zip(s["items"], s["item_keys"])}

    a, b = keys(old), keys(new)
    added, removed = sorted(b.keys() - a.keys()), sorted(a.keys() - b.keys())
    changed = sorted(i for i in a.keys() & b.keys() if a[i] != b[i])
    old_keys = {s["id"]: s["key"] for s in old["shards"]}
    redo = [s["id"] for s in new["shards"] if old_keys.get(s["id"]) != s["key"]]
    parts = []
    if old.get("shard_size") != new["shard_size"]:
        parts.append(f"shard size {old.get('shard_size')} -> {new['shard_size']}")
    for what, ids in (("added", added), ("removed", removed), ("changed (media or transcript)", changed)):
        if ids:
            parts.append(f"{len(ids)} item(s) {what}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}")
    parts.append(f"{len(redo)} of {len(new['shards'])} shard(s) to redo")
    return "; ".join(parts)


def load_plan(out: Path) -> dict | None:
    path = Path(out) / "plan.json"
    if not path.exists():
        return None
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        plan = e
    if not isinstance(plan, dict):
        why = f"{plan}" if isinstance(plan, Exception) else f"a JSON {type(plan).__name__}"
        raise ValueError(f"{path} is not a readable plan (truncated? {why}); move it away and rerun: the shards "
                         "already done are found again and kept")
    if plan.get("format") != PLAN_FORMAT:
        raise ValueError(f"{path} is not a plan this code reads (format {plan.get('format')!r}, expected {PLAN_FORMAT})")
    return plan


def save_plan(out: Path, plan: dict) -> tuple[dict, str | None]:
    """Reuse the saved plan if its shards are the same, else write a new generation.

    Returns the plan in force and a description of the change (None when the shards are unchanged).
    The extractor section always becomes the current run's (merged with earlier extractors').
    """
    out = Path(out)
    old = load_plan(out)
    change = None
    if old is not None:
        same = [(s["id"], s["key"]) for s in old["shards"]] == [(s["id"], s["key"]) for s in plan["shards"]]
        if same:
            merged = {**old.get("extractors", {}), **plan["extractors"]}
            if merged == old.get("extractors"):
                return old, None
            plan = {**old, "extractors": merged}
        else:
            change = describe_change(old, plan)
            write_json(out / f"plan.gen-{old['generation']:04d}.json", old)
            plan = {**plan, "generation": old["generation"] + 1, "previous_change": change,
                    "extractors": {**old.get("extractors", {}), **plan["extractors"]}}
    write_json(out / "plan.json", plan)
    return plan, change
