"""The summarizers by name: every folder ``models/<name>/`` that declares a network is one, found at run time.

A model folder (a package: ``models/<name>/`` here, or any importable package named by its dotted path,
``--model mypkg.tiny``) declares in its ``__init__.py``:

- ``NETWORK``: ``"module:Class"`` (or the class itself), built as ``Class(video_dim=..., text_dim=...,
  audio_dim=..., query_dim=..., **hyper-parameters)`` and following the training interface
  (``forward(batch)``, ``loss(batch, outputs)``; see docs/training.md);
- optionally ``PASSTHROUGH_INPUTS`` / ``PASSTHROUGH_TARGETS``: dataset columns the network reads as they are (at
  training and evaluation / at training only);
- optionally ``TRAINING``: a module whose ``fits(args)`` yields the runs of the shared loop (``models.train``) the
  model trains by, when it is not one run of its network on ``--config`` (VDF: its stages); and ``EVALUATE``:
  ``"module:function"`` scoring a run (VDF generates text and scores it as its paper does).

Its hyper-parameters, with their sources, are in ``<folder>/defaults.py`` (or the ``__init__``): ``RECIPE`` =
``{"train": {...}, "model": {...}}`` (``train`` for the loop: batch_size, lr, weight_decay, epochs, scheduler,
warmup_epochs; ``model`` for the network; VDF also ``run``), and ``FAMILIES`` = {family: overrides of the recipe}.
A family in ``FAMILIES`` gets the recipe updated by its overrides; with no ``FAMILIES`` every family gets the
recipe; a family not listed when there are some has no paper defaults (``KeyError``: the loop then trains with
generic settings) unless the folder says ``UNLISTED = "recipe"``.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DIM_KEYS = ("video", "text", "audio", "query")
PARTS = ("train", "model", "run")


def recipe(batch_size, lr, weight_decay, epochs, **extra) -> dict:
    """The ``train`` part of a recipe: the loop's settings in the order config.json shows them."""
    return {"batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "epochs": epochs, **extra}


@dataclass(frozen=True)
class Entry:
    """One model folder's declarations."""

    name: str
    package: str
    network: object  # "module:Class" or the class
    passthrough_inputs: tuple = ()
    passthrough_targets: tuple = ()
    training: str | None = None
    evaluate: str | None = None

    def network_class(self):
        if isinstance(self.network, str):
            from common.loading import load_object

            return load_object(self.network)
        return self.network

    def _defaults_module(self):
        try:
            return importlib.import_module(f"{self.package}.defaults")
        except ModuleNotFoundError as e:
            if e.name != f"{self.package}.defaults":
                raise
            return importlib.import_module(self.package)

    def families(self) -> dict:
        return dict(getattr(self._defaults_module(), "FAMILIES", None) or {})

    def recipe(self) -> dict:
        """The recipe without a family's overrides."""
        base = getattr(self._defaults_module(), "RECIPE", None) or {}
        return {part: dict(base[part]) for part in PARTS if part in base}

    def defaults(self, family: str | None) -> dict:
        """The recipe with ``family``'s overrides; KeyError when the folder has none for it."""
        module = self._defaults_module()
        families = self.families()
        if families and family not in families:
            if getattr(module, "UNLISTED", None) == "recipe":
                raise UnlistedFamily(self.name, family, sorted(families), self.recipe())
            raise KeyError(f"no paper defaults for model {self.name!r} on {family!r}; "
                           f"known: {', '.join(sorted(families))}")
        if not families and not getattr(module, "RECIPE", None):
            raise KeyError(f"model {self.name!r} declares no defaults ({self.package}.defaults)")
        base, over = self.recipe(), families.get(family) or {}
        return {part: {**base.get(part, {}), **over.get(part, {})} for part in PARTS if part in base or part in over}

    def source(self, family: str | None) -> str:
        """Where ``defaults(family)`` came from, for config.json."""
        where = f"{self.package}.defaults"
        return f"{where} FAMILIES[{family!r}]" if family in self.families() else f"{where} RECIPE"


class UnlistedFamily(KeyError):
    """A family the folder lists no values for, where it says its recipe applies (``recipe``: the values)."""

    def __init__(self, name, family, known, values):
        super().__init__(f"no defaults for model {name!r} on family {family!r} (known: {', '.join(known)}): "
                         "using its recipe")
        self.recipe = values


def _entry(name: str, package: str) -> Entry | None:
    module = importlib.import_module(package)
    if not hasattr(module, "NETWORK"):
        return None
    return Entry(name, package, module.NETWORK, tuple(getattr(module, "PASSTHROUGH_INPUTS", ())),
                 tuple(getattr(module, "PASSTHROUGH_TARGETS", ())), getattr(module, "TRAINING", None),
                 getattr(module, "EVALUATE", None))


def discover(directory, package: str) -> dict[str, Entry]:
    """The model folders of a package directory by name: its sub-packages whose ``__init__`` declares ``NETWORK``."""
    found = {}
    for info in sorted(pkgutil.iter_modules([str(directory)]), key=lambda i: i.name):
        if info.ispkg:
            e = _entry(info.name, f"{package}.{info.name}")
            if e is not None:
                found[info.name] = e
    return found


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    """Every model folder of ``models/`` by name."""
    return discover(Path(__file__).parent, "models")


def names() -> list[str]:
    return list(entries())


def entry(spec: str) -> Entry:
    """The folder a model name (``a2summ``) or an importable package (``tinysum``, ``mypkg.tiny``) names; KeyError
    if none."""
    if spec in entries():
        return entries()[spec]
    known = (f"unknown model {spec!r}; choose from {', '.join(entries())} (or a model folder's package, "
             "or package.module:factory)")
    if ":" in spec or not all(part.isidentifier() for part in spec.split(".")):
        raise KeyError(known)
    try:
        found = importlib.util.find_spec(spec)
    except ImportError:  # a parent package that is not there
        found = None
    if found is None or found.submodule_search_locations is None:
        raise KeyError(known)
    e = _entry(spec.rsplit(".", 1)[-1], spec)
    if e is None:
        raise KeyError(f"{spec} is a package but not a model folder: its __init__ declares no NETWORK")
    return e


def defaults(name: str, family: str | None) -> dict:
    """The model's hyper-parameters for a dataset family (``Entry.defaults``)."""
    return entry(name).defaults(family)


def build_model(name: str, dims: dict, **hparams):
    """The network of model ``name`` (``video_dim=..., text_dim=..., ...`` from ``dims`` ({"video": 512, "text": 768,
    ...}; ``"video_dim"``-style keys work too; absent or None = modality not used), plus ``hparams``."""
    try:
        cls = entry(name).network_class()
    except KeyError as e:
        raise ValueError(e.args[0]) from None
    kwargs = {}
    for key, value in dims.items():
        base = key.removesuffix("_dim")
        if base not in DIM_KEYS:
            raise ValueError(f"unknown modality {key!r} in dims; expected {', '.join(DIM_KEYS)}")
        kwargs[f"{base}_dim"] = None if value is None else int(value)
    if kwargs.get("video_dim") is None:
        raise ValueError("dims must give the video feature size ('video')")
    return cls(**kwargs, **hparams)


def __getattr__(name: str):
    """``MODELS`` (name -> network class) and ``DEFAULTS`` ((name, family) -> defaults) of the models trained as one
    run of their network (not VDF's stages), built on first use (they import the networks, and so torch)."""
    if name == "MODELS":
        return {n: e.network_class() for n, e in entries().items() if e.training is None}
    if name == "DEFAULTS":
        return {(n, f): e.defaults(f) for n, e in entries().items() if e.training is None for f in e.families()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
