"""Shared fixtures: paths of the checkout. Each test builds its own stores in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project_root() -> Path:
    """The checkout's root (holds data/, shapes/, queries/, ontology/)."""
    return ROOT
