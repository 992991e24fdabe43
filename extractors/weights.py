"""Where weights come from: an explicit path, else the local cache, else a download.

Offline (HF_HUB_OFFLINE=1 or VSUMHUB_OFFLINE=1, or simply no network), a missing model is a
MissingWeightsError that names what is missing and the command-line flag that supplies it.
"""

from __future__ import annotations

import os
from pathlib import Path

from common.files import sha256_file
from extractors.base import MissingWeightsError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")


def cache_root() -> Path:
    """Root of vsumhub's caches: $VSUMHUB_CACHE, else ~/.cache/vsumhub."""
    return Path(os.environ.get("VSUMHUB_CACHE") or Path.home() / ".cache" / "vsumhub")


def offline() -> bool:
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("VSUMHUB_OFFLINE", ""))
    return any(v.strip().lower() in ("1", "true", "yes", "on") for v in flags)


def explicit_path(path, what: str, flag: str) -> Path:
    """A user-given weights path, checked to exist (a typo is not a silent download)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise MissingWeightsError(f"{what}: {flag} {p} does not exist")
    return p


def weights_checksum(path: Path) -> str | None:
    """sha256 of a weights file, or of the main weights file inside a model directory."""
    if path.is_file():
        return sha256_file(path)
    for suffix in WEIGHT_SUFFIXES:
        files = sorted(path.rglob(f"*{suffix}"))
        if files:
            return sha256_file(files[0])
    return None


def missing(what: str, tried: str, flag: str, cause: BaseException | None = None) -> MissingWeightsError:
    reason = f" ({cause.__class__.__name__}: {str(cause).splitlines()[0][:200]})" if cause else ""
    mode = "offline mode is on" if offline() else "the download failed"
    return MissingWeightsError(
        f"{what} not found: {tried}; {mode}{reason}. Pass {flag} PATH to local weights "
        f"(or run once with network access to fill the cache)."
    )


def resolve_hf_model(repo_id: str, weights, what: str, flag: str) -> Path:
    """Explicit path -> HF hub cache -> download (not when offline); a clear error otherwise."""
    if weights:
        return explicit_path(weights, what, flag)
    from huggingface_hub import snapshot_download

    cache = cache_root() / "hf"
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache, local_files_only=True))
    except Exception as cached_error:  # not in the cache: download unless offline
        if offline():
            raise missing(f"{what} ({repo_id})", f"not in the cache {cache}", flag, cached_error) from cached_error
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache, allow_patterns=["*.json", "*.txt", "*.safetensors", "merges.txt", "vocab.*"]))
    except Exception as e:
        raise missing(f"{what} ({repo_id})", f"not in the cache {cache}", flag, e) from e


def local_only_weights(weights, subdir: str, filename: str, what: str, source: str, flag: str) -> Path:
    """Weights that no hub serves: an explicit path, else ``cache_root()/subdir/filename``, else a
    MissingWeightsError saying where to get the file and how to pass it."""
    if weights:
        return explicit_path(weights, what, flag)
    cached = cache_root() / subdir / filename
    if cached.exists():
        return cached
    raise MissingWeightsError(
        f"{what} not found at {cached}. They are not downloaded automatically: get {filename} from "
        f"{source} and pass it with --weights PATH (python -m extractors.extract) or {flag} PATH (builders), "
        f"or place the file at {cached}."
    )
