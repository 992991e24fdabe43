"""Predictions made by other projects, read into ``{key: scores}`` for our evaluation protocols.

Formats (``--format`` of ``models.evaluate``):

- ``moment_detr``: the submission file of Moment-DETR's ``standalone_eval`` (QVHighlights): JSON
  lines with ``qid`` and ``pred_saliency_scores`` (one score per 2-s clip, in order; ``query``,
  ``vid`` and ``pred_relevant_windows`` may be there too and are not read: moment retrieval is not
  one of our protocols). Keyed by ``qid``.
- ``mrhisum``: a JSON object ``{video_id: [score per second]}`` with Mr.HiSum's ``video_N`` keys (the
  ``{video name: scores}`` JSON that PGL-SUM-derived code, Mr.HiSum's included, saves). Keyed by ``video_id``.
- ``eccv16h5``: an HDF5 file with a group per eccv16 video key holding ``score``, the scores at the
  sampled frames (``picks``): the ``result.h5`` that pytorch-vsumm-reinforce and the code built on it
  write (``<key>/score``, ``<key>/machine_summary``, ...; only ``score`` is read, so the keyshots come
  from our protocol, ``--keyshot-protocol``). A JSON object ``{key: [scores]}`` is taken too. Keys may
  carry a path (``../eccv16_dataset_tvsum_google_pool5.h5/video_1``): the part after the last ``/``
  counts. Keyed by ``video_id``.

A file that cannot be read, a malformed line or entry, a key given twice, or scores that are not
finite numbers raise :class:`PredictionError` naming the file and the place.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FORMATS = {"moment_detr": "qid", "mrhisum": "video_id", "eccv16h5": "video_id"}  # format -> row column of the keys


class PredictionError(ValueError):
    """A predictions file that cannot be used as given."""


def _scores(value, where: str) -> np.ndarray:
    try:
        scores = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise PredictionError(f"{where}: scores must be a list of numbers") from None
    if scores.ndim != 1 or scores.size == 0:
        raise PredictionError(f"{where}: scores must be a non-empty list of numbers, got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise PredictionError(f"{where}: scores hold NaN or infinite values")
    return scores


def read_moment_detr(path: Path) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise PredictionError(f"cannot read {path}: {e}") from e
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            entry = json.loads(line)
        except ValueError as e:
            raise PredictionError(f"{where}: not JSON ({e})") from None
        if not isinstance(entry, dict) or not isinstance(entry.get("qid"), int) or isinstance(entry.get("qid"), bool):
            raise PredictionError(f"{where}: a submission line is an object with an integer qid")
        if "pred_saliency_scores" not in entry:
            raise PredictionError(f"{where}: no pred_saliency_scores (only highlight detection is scored)")
        key = str(entry["qid"])
        if key in out:
            raise PredictionError(f"{where}: qid {key} was predicted before")
        out[key] = _scores(entry["pred_saliency_scores"], f"{where} pred_saliency_scores")
    if not out:
        raise PredictionError(f"{path} holds no prediction")
    return out


def _read_json_object(path: Path) -> dict[str, np.ndarray]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise PredictionError(f"cannot read {path} as JSON: {e}") from e
    if not isinstance(data, dict) or not data:
        raise PredictionError(f"{path}: expected a non-empty JSON object {{video key: [scores]}}")
    return {_key(k, path): _scores(v, f"{path} [{k!r}]") for k, v in data.items()}


def _key(key: str, path: Path, seen: dict | None = None) -> str:
    short = str(key).rsplit("/", 1)[-1]
    if seen is not None and short in seen:
        raise PredictionError(f"{path}: video {short} is given twice ({seen[short]!r} and {key!r})")
    if seen is not None:
        seen[short] = key
    return short


def read_eccv16h5(path: Path) -> dict[str, np.ndarray]:
    if Path(path).suffix.lower() == ".json":
        return _read_json_object(path)
    import h5py

    if not Path(path).is_file() or not h5py.is_hdf5(path):
        raise PredictionError(f"{path} is not an HDF5 file (or pass a .json {{key: [scores]}})")
    out, seen = {}, {}

    def visit(name, node):
        if isinstance(node, h5py.Dataset) and name.rsplit("/", 1)[-1] == "score":
            out[_key(name.rsplit("/", 1)[0], path, seen)] = _scores(node[()], f"{path} {name}")

    with h5py.File(path, "r") as f:
        f.visititems(visit)
    if not out:
        raise PredictionError(f"{path} holds no <video>/score dataset (the result.h5 layout)")
    return out


def read_predictions(path, fmt: str) -> dict[str, np.ndarray]:
    """``{key: scores}`` of a predictions file in format ``fmt`` (see the module docstring)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise PredictionError(f"unknown predictions format {fmt!r}; choose from {', '.join(FORMATS)}")
    if not path.is_file():
        raise PredictionError(f"predictions file not found: {path}")
    if fmt == "moment_detr":
        return read_moment_detr(path)
    if fmt == "mrhisum":
        return _read_json_object(path)
    return read_eccv16h5(path)


def match_rows(predictions: dict[str, np.ndarray], rows: list[dict], key_column: str, labelled) -> dict[str, dict]:
    """Predictions by row id. Every key must name a row of the split, and every labelled row must have
    a prediction (as standalone_eval insists); else PredictionError saying which."""
    by_key = {str(r[key_column]): r for r in rows}
    unknown = [k for k in predictions if k not in by_key]
    if unknown:
        raise PredictionError(f"{len(unknown)} predicted {key_column}(s) are not in this split, e.g. "
                              f"{', '.join(unknown[:5])}: is it the right --split / --config?")
    missing = [k for k, r in by_key.items() if labelled(r) and k not in predictions]
    if missing:
        raise PredictionError(f"{len(missing)} of {len(by_key)} {key_column}s of this split have no prediction, e.g. "
                              f"{', '.join(missing[:5])}")
    return {by_key[k]["id"]: {"video_scores": v} for k, v in predictions.items()}
