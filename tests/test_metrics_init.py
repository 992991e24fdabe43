"""The metrics package: every public name imports, and PROTOCOLS names a source for each family."""

from models import metrics


def test_public_names_import():
    for name in metrics.__all__:
        assert getattr(metrics, name) is not None


def test_protocols_name_their_paper_or_code():
    assert len(metrics.PROTOCOLS) >= 12
    for metric, source in metrics.PROTOCOLS.items():
        assert metric and len(source) > 20
