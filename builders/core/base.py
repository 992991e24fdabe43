"""The builder contract: a dataset says what it is; one runner builds it.

A :class:`Builder` answers, as plain methods (TFDS's ``_info`` / ``_split_generators`` /
``_generate_examples``, with lhotse's plain-argument ``prepare_x`` as the way to call it):

- ``tracks()``: what it needs extracted, ``{key: Track(extractor, options)}``; one extraction job
  (extractors.run) encodes them all over the manifest of its items, on the user's engine;
- ``items()``: its items in build order, each with an ``id`` (RawItems when it has tracks: they
  are written to ``<work>/manifest.jsonl`` for the job), and ``splits(item)``: the split of an
  item, or ``{config: split}`` for the configs it belongs to;
- ``features(dims)``: ``{config: Features}``, given the dims of the tracks' vectors;
- ``examples(item, tracks)``: the rows of one item, given its FeatureTracks by key; a bad item
  raises ``collectors.records.ItemError`` and is recorded with its kind, the others are built;
- ``card_facts()``: the card's metadata and prose (cards/render.py); the prose as strings or as sections of
  the dataset's page docs/datasets/<name>.md (``cards.pages.ref``), and ``source`` / ``input``: where the
  build read from.

Optional: ``prepare(ctx)`` reads or collects the input first (a whole-input problem raises
:class:`BuildError`), ``count(row)`` adds numbers to a split's stats, ``facts(config)`` adds keys to
a config's build record, ``finish(out)`` tidies the output and returns lines for the report.

:func:`build` runs a builder with plain arguments and returns the exit status; :func:`run` is the
command line every builder shares: its own flags (``add_arguments``) plus the common ones
(``--out --work --name --scheduler --workers --shard-size --device --weights --rows-per-shard
--no-progress``). The runner owns the job, the writers (parquet + webdataset), the build record
(build.json), the card and the exit status: 0 every item built, 3 some failed (each recorded with
its kind), 1 none built, 2 bad usage, an input that cannot be built, or a card the Hub would read
wrong (cards.validate: its license fields are checked before anything is extracted, the whole card
before it is written).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import inspect
import itertools
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from builders.core.extraction import BUILDER_SHARD_SIZE, Track, TrackReader, builder_job, extract
from extractors.jobconfig import JobConfig
from builders.core.safe import read_json
from builders.core.schema import DEFAULT_ROWS_PER_SHARD, SPLITS
from collectors.records import ItemError, RawItem, write_manifest
from common import cli
from common.files import write_json

log = logging.getLogger("builders")


class BuildError(Exception):
    """The input as a whole cannot be built (a missing or malformed file, an unknown extractor,
    missing weights, a job that cannot start): nothing is published, the command exits 2."""


@dataclasses.dataclass
class Context:
    """What ``prepare`` may use: the directories, the job's engine, and the job itself."""

    out: Path
    work: Path
    job: JobConfig
    progress: bool = True

    def extract(self, manifest: Path, root: Path, tracks: dict[str, Track]) -> tuple[dict[str, TrackReader], dict]:
        """An extraction job of its own (e.g. ASR before the transcripts can be encoded)."""
        return extract(manifest, root, tracks, self.job, self.progress)


class Builder:
    """One dataset. Subclasses set ``name`` and implement the contract (see the module docstring)."""

    name = ""  # the dataset's name: hub/<name>, work/<name> unless --out / --work say otherwise
    source = ""  # build.json "source": the kind of input
    input = ""  # build.json "input": what was read
    tool = ""  # build.json "tool": the command (default: python -m builders.<the builder's package>)
    family = None  # the hyper-parameter family models.train reads (models.registry), e.g. "bliss", "tvsum"
    protocol = None  # the evaluation protocol models.evaluate applies (models.protocols.PROTOCOLS)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """The builder's own flags (each with help text)."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "Builder":
        """The builder from parsed flags: constructor parameters are taken from flags of the same name."""
        params = inspect.signature(cls.__init__).parameters
        return cls(**{k: getattr(args, k) for k in params if k != "self" and hasattr(args, k)})

    def prepare(self, ctx: Context) -> None:
        """Read (or collect) the input before anything is written; raise BuildError if it cannot be built."""

    def tracks(self) -> dict[str, Track]:
        return {}

    def items(self) -> Iterable:
        raise NotImplementedError

    def splits(self, item) -> str | dict[str, str]:
        raise NotImplementedError

    def features(self, dims: dict[str, int]) -> dict:
        raise NotImplementedError

    def examples(self, item, tracks: dict) -> list[dict]:
        raise NotImplementedError

    def count(self, row: dict) -> dict[str, float]:
        return {}

    def facts(self, config: str) -> dict:
        return {}

    def declared(self, config: str) -> dict:
        """What training and evaluation read from build.json instead of guessing from names or columns:
        the config's ``family`` and ``protocol`` (a builder whose configs differ overrides this)."""
        return {"family": self.family, "protocol": self.protocol}

    def card_facts(self) -> dict:
        raise NotImplementedError

    def finish(self, out: Path) -> list[str]:
        return []


# ---------------------------------------------------------------- building


@dataclasses.dataclass
class Built:
    """What a build wrote: its directory, a record per config, the report's lines, the exit status."""

    out: Path
    records: dict[str, dict]
    lines: list[str]
    status: int


def build(builder: Builder, out=None, work=None, *, name: str | None = None, job: JobConfig = builder_job(),
          weights: dict[str, str] | None = None, rows_per_shard: int = DEFAULT_ROWS_PER_SHARD,
          progress: bool = True) -> Built:
    """Build ``builder`` into ``out`` (default ``hub/<name>``), with its manifest and features in
    ``work`` (default ``work/<name>``). Raises BuildError when the input cannot be built."""
    from extractors.base import MissingWeightsError, UnknownExtractorError
    from extractors.run import SetupError

    name = builder.name = name or builder.name  # the card may name the dataset
    out, work = Path(out or Path("hub") / name), Path(work or Path("work") / name)
    try:
        return _build(builder, name, out, work, job, weights or {}, rows_per_shard, progress)
    except (SetupError, MissingWeightsError, UnknownExtractorError) as e:
        raise BuildError(str(e)) from e


def _build(builder, name, out, work, job, weights, rows_per_shard, progress) -> Built:
    t0 = time.time()
    builder.prepare(Context(out, work, job, progress))
    _check_license(builder)
    tracks = _tracks(builder, weights)
    items, readers, job_record, failures = _not_empty(builder.items(), builder), {}, None, []
    if tracks:  # the job reads the manifest written here; items that failed before it are recorded as they are
        items = list(items)
        write_manifest(work / "manifest.jsonl", items)
        readers, job_record = extract(work / "manifest.jsonl", work / "features", tracks, job, progress)
        failures = [{"id": i.id, **i.error} for i in items if not i.ok]
        items = [i for i in items if i.ok]
    t_extract = time.time()
    from builders.core.writers import ConfigWriter  # pyarrow and datasets: loaded once the command line is parsed

    features = builder.features({k: r.dim for k, r in readers.items()})
    tally = _Tally(features, len(failures))
    with contextlib.ExitStack() as stack:  # an error leaves every config as it was (ConfigWriter)
        writers = {c: stack.enter_context(ConfigWriter(out, c, f, rows_per_shard=rows_per_shard))
                   for c, f in features.items()}
        for item in _progress(items, name, progress):
            tally.total += 1
            try:
                if isinstance(item, RawItem) and not item.ok:
                    raise ItemError(item.error.get("kind", "error"), item.error.get("message", ""), item.id)
                rows = builder.examples(item, {k: r.track(item.id) for k, r in readers.items()})
            except ItemError as e:
                failures.append({"id": item.id, **e.as_dict()})
                log.warning("%s failed: %s: %s", item.id, e.kind, e.message)
                continue
            placed = builder.splits(item)
            for config, split in (placed if isinstance(placed, dict) else {next(iter(features)): placed}).items():
                for row in rows:
                    writers[config].add(split, row)
                tally.add(config, split, item.id, rows, builder.count)
    lines = builder.finish(out)
    common = {
        "columns": {k: t.column for k, t in tracks.items() if t.column},
        "extractors": {k: readers[k].meta for k, t in tracks.items() if t.column},
        "failures": {"by_kind": dict(Counter(f["kind"] for f in failures)), "items": failures},
        "timings": {"extract": round(t_extract - t0, 3), "total": round(time.time() - t0, 3)},
        **({"extraction_job": job_record} if tracks else {}),
        "source": builder.source, "input": builder.input,
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    records, t_figures = {}, time.time()
    for config, writer in writers.items():
        declared = builder.declared(config)
        records[config] = {  # this run's facts (returned, reported); build.json keeps an unchanged build's record
            "features": features[config].to_dict(), "splits": writer.facts, **declared, **tally.record(config, failures),
            **common, **builder.facts(config), **_figure(out, config, items)}
        update_build_record(out, name, config, _unchanged(out, config, records[config]), card=builder.card_facts(),
                            tool=_tool(builder), **declared)
    from cards.render import write_card
    from cards.validate import CardError

    log.debug("figures drawn in %.1f s", time.time() - t_figures)
    try:
        _check_wds_card(out)
        write_card(out)
    except CardError as e:
        raise BuildError(f"{e} (fix the builder's card facts; the data is written, the card is not)") from e
    ok = tally.total - len({f["id"] for f in failures})
    status = 1 if ok == 0 else 3 if failures else 0
    return Built(out, records, _report(out, records, time.time() - t0) + lines, status)


VOLATILE = ("built_at", "timings", "extraction_job")  # what differs between two builds of the same input


def _unchanged(out: Path, config: str, record: dict) -> dict:
    """The config's previous record when only its volatile keys (build time, timings) differ, so an
    unchanged rebuild leaves build.json and the card byte-equal and a republish sends nothing."""
    path = out / "build.json"
    try:
        old = read_json(path)["configs"][config]
    except (OSError, ValueError, KeyError, TypeError):
        return record
    same = json.loads(json.dumps({k: v for k, v in record.items() if k not in VOLATILE}))  # as stored
    return old if same == {k: v for k, v in old.items() if k not in VOLATILE} else record


def _check_wds_card(out: Path) -> None:
    """The ``-wds`` card publishing would send, against the Hub's rules (cards.validate.CardError)."""
    from builders.core.writers import wds_members
    from cards.validate import check
    from cards.wds_card import render_wds_card

    build = read_json(out / "build.json")
    if any(v.get("wds") for rec in build["configs"].values() for v in rec["splits"].values()):
        check(render_wds_card(build, "ORG/NAME-wds", "ORG/NAME", members=wds_members(build)), "webdataset card")


def _check_license(builder: Builder) -> None:
    """The card's license fields against the Hub's rules before anything is extracted or written."""
    from cards.validate import license_problems

    try:
        facts = builder.card_facts()
    except Exception:  # facts known only once the items are read: the full check runs before the card is written
        return
    if problems := license_problems(facts):
        raise BuildError(f"{'; '.join(problems)} (fix the builder's card facts)")


def _not_empty(items: Iterable, builder: Builder) -> Iterable:
    """The items, looked at up to the first: an input with none is a usage error, and nothing is written."""
    items = iter(items)
    first = next(items, _NONE)
    if first is _NONE:
        raise BuildError(f"the input has no items to build{f' ({builder.input})' if builder.input else ''}")
    return itertools.chain([first], items)


_NONE = object()


def _figure(out: Path, config: str, items: list) -> dict:
    """``{"figure": figures/<config>.png}``: the config's first example drawn for the card, with stills
    from its source video when the item has one (cards.figures); {} when the config has no example."""
    from cards.figures import write_figure

    videos = {i.id: i.media.get("video") for i in items if isinstance(i, RawItem) and isinstance(i.media, dict)}
    figure = write_figure(out, config, video_of=videos.get)
    if not figure:  # no example: no figure, not the one of an earlier build
        (out / "figures" / f"{config}.png").unlink(missing_ok=True)
    return {"figure": figure} if figure else {}


def _tracks(builder: Builder, weights: dict[str, str]) -> dict[str, Track]:
    """The builder's tracks with the local weights given; weights for an extractor it does not use are an error."""
    tracks = {k: t.with_weights(weights) for k, t in builder.tracks().items()}
    uses = {m for t in tracks.values() for m in t.models()}
    if unused := sorted(set(weights) - uses):
        raise BuildError(f"--weights for {', '.join(unused)}, which this build does not use "
                         f"(it uses: {', '.join(sorted(uses)) or 'no extractor'})")
    return tracks


class _Tally:
    """Per config and split: the items built, the distinct videos, and the stats of the rows written."""

    def __init__(self, configs, total: int):
        self.total = total  # items seen, failed ones included
        self.stats = {c: defaultdict(Counter) for c in configs}
        self.videos = {c: defaultdict(set) for c in configs}
        self.built = {c: defaultdict(list) for c in configs}

    def add(self, config: str, split: str, item_id: str, rows: list[dict], count) -> None:
        self.built[config][split].append(item_id)
        for row in rows:
            self.stats[config][split].update({"examples": 1, **count(row)})
            self.videos[config][split].add(row["video_id"])

    def record(self, config: str, failures: list[dict]) -> dict:
        failed = len({f["id"] for f in failures})
        return {
            "stats": {s: {"videos": len(self.videos[config][s]), **c} for s, c in self.stats[config].items()},
            "items": {"total": self.total, "ok": self.total - failed, "failed": failed,
                      "ids_by_split": {s: sorted(self.built[config].get(s, [])) for s in SPLITS}},
        }


def _tool(builder: Builder) -> str:
    """The command the card says the dataset was built with: ``python -m builders.<name>`` (its package)."""
    module = type(builder).__module__
    if builder.tool:
        return builder.tool
    if module == "__main__":
        return f"python {Path(sys.argv[0]).name}"
    return f"python -m {'.'.join(module.split('.')[:2]) if module.startswith('builders.') else module}"


def _progress(items, name: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(items, desc=name, unit="item", disable=not enabled, file=sys.stderr)


def _report(out: Path, records: dict[str, dict], seconds: float) -> list[str]:
    first = next(iter(records.values()))
    lines = [f"built {out} config{'s' if len(records) > 1 else ''} {', '.join(records)}: "
             f"{first['items']['ok']} of {first['items']['total']} items in {seconds:.1f} s"]
    for config, record in records.items():
        for split, facts in record["splits"].items():
            lines.append(f"  {config} {split:<10} {facts['num_examples']:>6} examples  "
                         f"{len(facts['parquet'])} parquet shard(s)  {len(facts['wds'])} tar(s)")
    fails = first["failures"]["items"]
    if fails:
        lines.append(f"  {len(fails)} item(s) FAILED (recorded in {out / 'build.json'}):")
        lines += [f"    {f['id']}: {f['kind']}: {f['message']}" for f in fails]
    return lines


# ---------------------------------------------------------------- the command line


def parser(builder: type[Builder], prog: str, description: str = "") -> argparse.ArgumentParser:
    """The builder's flags, then the flags every builder shares."""
    p = argparse.ArgumentParser(prog=cli.prog(prog), description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_version(p)
    builder.add_arguments(p)
    g = p.add_argument_group("output (every builder)")
    g.add_argument("--out", type=Path, help=f"output directory (default: hub/<name>; here hub/{builder.name})")
    g.add_argument("--work", type=Path, help="manifest and extracted features, the cache of reruns (default: work/<name>)")
    g.add_argument("--name", help=f"dataset name (default: {builder.name})")
    g.add_argument("--rows-per-shard", type=int, default=DEFAULT_ROWS_PER_SHARD,
                   help=f"examples per parquet shard (default {DEFAULT_ROWS_PER_SHARD}); webdataset tars are "
                        "sized by bytes, at least 2 per split of 2+ examples (docs/publishing.md)")
    g.add_argument("--no-progress", action="store_true", help="no progress bars (ours, nor those of the libraries)")
    g = p.add_argument_group("extraction job (every builder; see python -m extractors.run)")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="extract on a running Dask scheduler (tcp://host:8786 or a scheduler file)")
    where.add_argument("--workers", type=int, help="worker processes of the local Dask cluster (default: one per "
                                                   "core, or per GPU with --device cuda; 0: inside this process)")
    g.add_argument("--shard-size", type=int, default=BUILDER_SHARD_SIZE,
                   help=f"items per extraction task (default {BUILDER_SHARD_SIZE})")
    g.add_argument("--device", default="cpu", help="torch device for the models: cpu (default) or cuda (one GPU per worker)")
    g.add_argument("--weights", action="append", metavar="NAME=PATH",
                   help="local weights of extractor NAME (repeatable), e.g. clip=ViT-B-32.pt; without them weights "
                        "come from the cache, else a download")
    from builders.core import safe

    safe.add_arguments(p)
    return p


def run(builder, argv=None, prog: str | None = None, description: str | None = None) -> int:
    """The command line of a builder class, or of a dataset with several sources ({source: class},
    chosen with ``--source``, the first by default). Prints the report; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    sources = builder if isinstance(builder, dict) else None
    if sources:
        pick = argparse.ArgumentParser(add_help=False)
        pick.add_argument("--source", choices=list(sources), default=next(iter(sources)))
        chosen, _ = pick.parse_known_args(argv)
        builder = sources[chosen.source]
    module = sys.modules.get(builder.__module__)
    doc = description or ((module and module.__doc__) or builder.__doc__ or "").strip().split("\n\n")[0]
    script = builder.__module__ == "__main__" or module is None  # run as a file, not as python -m
    p = parser(builder, prog or (Path(sys.argv[0]).name if script else f"python -m {builder.__module__}"), doc)
    if sources:
        p.add_argument("--source", choices=list(sources), default=next(iter(sources)),
                       help=f"which input to read: {', '.join(sources)} (default {next(iter(sources))}); "
                            "--source NAME --help lists its flags")
    try:
        args = p.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error argparse has printed: its status, returned like every other
        return e.code
    if args.no_progress:
        cli.silence_progress()
    from extractors.engine import quiet_dask_logs

    quiet_dask_logs()
    from extractors.run import SetupError, parse_weights

    from builders.core import safe

    try:
        limits = safe.from_args(args)
    except ValueError as e:
        return usage_error(e)
    try:
        with safe.using(**dataclasses.asdict(limits)):  # the flags' limits for this build, the caller's after
            weights = parse_weights(args.weights)
            made = builder.from_args(args)
            result = build(made, args.out, args.work, name=args.name, weights=weights,
                           rows_per_shard=args.rows_per_shard,
                           job=builder_job(args.scheduler, args.workers, args.shard_size, args.device),
                           progress=not args.no_progress)
    except (BuildError, SetupError, safe.UnsafeFileError) as e:  # an unsafe file every item needs: one line
        return usage_error(e)
    print("\n".join(result.lines))
    return result.status


def video_in(videos_dir: str | Path, video_id: str) -> tuple[Path, ItemError | None]:
    """The ``--videos DIR`` layout every builder reads, ``DIR/<video id>.mp4``, and the item's ``unavailable``
    failure when that file is not there (None when it is)."""
    path = Path(videos_dir) / f"{video_id}.mp4"
    return path, None if path.is_file() else ItemError("unavailable", f"video file not found: {path}")


def usage_error(e: BaseException | str) -> int:
    """The one place a builder says why it cannot build: ``error: ...`` on stderr, exit status 2."""
    print(f"error: {e}", file=sys.stderr)
    return 2


def update_build_record(out_dir: str | Path, dataset: str, config: str, record: dict, **top) -> dict:
    """Merge one config's record into build.json (other configs of the dataset are kept);
    ``top`` sets dataset-level keys (the card's facts, the tool)."""
    path = Path(out_dir) / "build.json"
    build = read_json(path) if path.exists() else {}
    build.update(top, dataset=dataset)
    build.setdefault("configs", {})[config] = record
    write_json(path, build)
    return build
