"""Resolving ``build/current`` for every request: the links are re-read, not the whole path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from bassin_kg.web.serving.releases import ReleaseEngine


def _switch(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` in one rename, as a build does."""
    fresh = link.with_name(link.name + ".new")
    fresh.symlink_to(target)
    os.replace(fresh, link)


@pytest.fixture
def build(tmp_path: Path, store_path: Path) -> Path:
    for release in ("r1", "r2", "r3"):
        shutil.copytree(store_path, tmp_path / "releases" / release / "store")
    (tmp_path / "current").symlink_to("releases/r1")
    return tmp_path


def test_a_switched_link_is_seen_by_the_next_request(build: Path) -> None:
    engine = ReleaseEngine(build / "current" / "store", size=1)
    try:
        assert engine.resolve() == build / "releases" / "r1" / "store"
        assert engine.resolve() is engine.resolve()  # remembered while the link stays
        _switch(build / "current", "releases/r2")
        assert engine.resolve() == build / "releases" / "r2" / "store"
    finally:
        engine.close()


def test_links_through_links(build: Path) -> None:
    # site/data -> ../current -> releases/r1: a change of either link is seen
    (build / "site").mkdir()
    (build / "site" / "data").symlink_to("../current")
    engine = ReleaseEngine(build / "site" / "data" / "store", size=1)
    try:
        assert engine.resolve() == build / "releases" / "r1" / "store"
        _switch(build / "current", "releases/r3")
        assert engine.resolve() == build / "releases" / "r3" / "store"
        (build / "other").symlink_to("releases/r2")
        _switch(build / "site" / "data", "../other")
        assert engine.resolve() == build / "releases" / "r2" / "store"
    finally:
        engine.close()


def test_a_link_replaced_by_a_folder(build: Path) -> None:
    engine = ReleaseEngine(build / "current" / "store", size=1)
    try:
        engine.resolve()
        (build / "current").unlink()
        shutil.copytree(build / "releases" / "r2", build / "current")
        assert engine.resolve() == build / "current" / "store"
    finally:
        engine.close()
