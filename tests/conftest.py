"""Shared fixtures."""

from __future__ import annotations

import os

import pytest

# Tests never reach the network: hub libraries read these at import, so set them before any test module loads.
for _flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "VSUMHUB_OFFLINE"):
    os.environ[_flag] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


@pytest.fixture(scope="session")
def bliss_sample_dir(tmp_path_factory):
    """The bundled BLiSS sample (builders.bliss.sample), generated once per session (~10 s).

    Treat it as read-only: copy what a test needs to modify.
    """
    from builders.bliss.sample import ensure_sample

    return ensure_sample(tmp_path_factory.mktemp("bliss-sample") / "bliss-sample-v1")
