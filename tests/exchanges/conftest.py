import pytest


@pytest.fixture(autouse=True)
def _period_2026_11(monkeypatch):
    """The samples are written for November 2026: the upload form offers it whatever today is."""
    from exchanges.services import workflow

    monkeypatch.setattr(workflow, "current_period", lambda today=None: "2026-11")
