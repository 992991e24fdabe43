"""Where weights come from: an explicit path, else the local caches (for Hugging Face models the
standard Hugging Face cache first, then ``$VSUMHUB_CACHE``), else a download.

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
        raise MissingWeightsError(f"{what}: {flag.replace('PATH', str(p))} does not exist")
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


def weights_flag(extractor: str) -> str:
    """The flag that gives an extractor local weights, the same on every command (extractors.run,
    extractors.extract, the builders): ``--weights NAME=PATH``."""
    return f"--weights {extractor}=PATH"


def missing(what: str, tried: str, flag: str, cause: BaseException | None = None) -> MissingWeightsError:
    reason = f" ({cause.__class__.__name__}: {str(cause).splitlines()[0][:200]})" if cause else ""
    mode = "offline mode is on" if offline() else "the download failed"
    return MissingWeightsError(
        f"{what} not found: {tried}; {mode}{reason}. Pass {flag} to local weights "
        f"(or run once with network access to fill the cache)."
    )


def hf_caches() -> list[Path | None]:
    """Where a Hugging Face model may already be, in order: the standard Hugging Face cache
    (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ~/.cache/huggingface/hub: None stands for it, as
    huggingface_hub resolves it), then vsumhub's own (``$VSUMHUB_CACHE/hf``), where downloads go."""
    return [None, cache_root() / "hf"]


def resolve_hf_model(repo_id: str, weights, what: str, flag: str) -> Path:
    """Explicit path -> the standard HF cache -> $VSUMHUB_CACHE/hf -> download (not when offline);
    a clear error otherwise."""
    if weights:
        return explicit_path(weights, what, flag)
    from huggingface_hub import constants, snapshot_download

    cache = cache_root() / "hf"
    cached_error = None
    for where in hf_caches():
        try:
            return Path(snapshot_download(repo_id, cache_dir=where, local_files_only=True))
        except Exception as e:  # not in this cache: try the next one
            cached_error = e
    tried = f"not in the Hugging Face cache {constants.HF_HUB_CACHE} nor in {cache}"
    if offline():
        raise missing(f"{what} ({repo_id})", tried, flag, cached_error) from cached_error
    try:
        return Path(snapshot_download(repo_id, cache_dir=cache, allow_patterns=["*.json", "*.txt", "*.safetensors", "merges.txt", "vocab.*"]))
    except Exception as e:
        raise missing(f"{what} ({repo_id})", tried, flag, e) from e


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
        f"{source} and pass it with {flag}, or place the file at {cached}."
    )


def read_state_dict(path: Path, trusted_pickle: bool = False) -> dict:
    """The tensors of a PyTorch checkpoint: a bare state dict, or the one under ``"state_dict"`` or
    ``"model"``, with DataParallel's ``module.`` prefix removed. ValueError when the file is not one.

    Tensors only (``weights_only``), unless ``trusted_pickle``: a training checkpoint may pickle more
    (e.g. a sampler's numpy state), and a file the user named is trusted like the code it came with.
    """
    import pickle

    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if not (trusted_pickle and "can still be loaded" in str(e)):
            raise ValueError(f"{path}: not a readable PyTorch checkpoint (a state dict of tensors)") from e
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    state = next((ckpt[k] for k in ("state_dict", "model") if isinstance(ckpt, dict) and isinstance(ckpt.get(k), dict)), ckpt)
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path}: not a checkpoint (expected a state dict, or one under 'state_dict' or 'model')")
    if all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k[len("module."):]: v for k, v in state.items()}
    return dict(state)


def load_local_model(weights, cached: tuple[str, str], what: str, source: str, flag: str, build, load,
                     device) -> tuple[object, str | None]:
    """(model in eval mode on ``device``, weights sha256) for weights that no hub serves.

    ``cached`` is (subdir, filename) under the cache (see :func:`local_only_weights`); ``build()``
    makes the architecture, ``load(model, path)`` fills it (raising ValueError, KeyError or
    RuntimeError for weights of another model: a MissingWeightsError naming the file).
    """
    path = local_only_weights(weights, *cached, what, source, flag)
    model = build()
    try:
        load(model, path)
    except (RuntimeError, ValueError, KeyError, AttributeError) as e:
        raise MissingWeightsError(f"{what} {path} do not load: {' '.join(str(e).split())[:300]}") from e
    return model.to(device).eval(), weights_checksum(path)
