"""The REAL graph for the page tests: built by ``bassin_kg.release.build`` from the checkout's committed data.

Not synthetic: ``data/``, ``ontology/``, ``shapes/`` and ``queries/`` are copied into a temporary project
and built exactly as ``bassin-kg build`` does. The build takes ~20 s, so it is done once per test session
(in the session's base temporary folder) and every module reuses the same read-only release.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bassin_kg.progress import Progress
from bassin_kg.release.build import build
from bassin_kg.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]
COPIED = ("data", "ontology", "shapes", "queries")


def build_real_graph(project: Path) -> Settings:
    """Settings serving a build of the checkout's data in ``project`` (built on first use only)."""
    settings = Settings(root=project, build_dir=project / "build", max_concurrent_queries=2)
    if not settings.store_path.is_dir():
        project.mkdir(parents=True, exist_ok=True)
        for name in COPIED:
            shutil.copytree(PROJECT / name, project / name, dirs_exist_ok=True)
        build(settings, progress=Progress(quiet=True))
    return settings


@pytest.fixture(scope="module")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_real_graph(tmp_path_factory.getbasetemp() / "real-graph")
