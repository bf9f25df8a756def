"""Fixtures of the deck-parser tests: a private copy of the project's data in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bassin_kg.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DECK = ROOT / "data/sources/deck/trajectoire-economique-bassin-minier-2019.txt"
CURATED = ROOT / "data/curated"
REFERENCE = ROOT / "data/reference"


@pytest.fixture
def project(tmp_path: Path) -> Settings:
    """Settings of a copy of the project (deck text and curated tables) under ``tmp_path``."""
    (tmp_path / "data/sources/deck").mkdir(parents=True)
    shutil.copy(DECK, tmp_path / "data/sources/deck" / DECK.name)
    shutil.copytree(CURATED, tmp_path / "data/curated")
    return Settings(root=tmp_path)


@pytest.fixture
def edit_deck(project: Settings) -> Callable[[int, str], None]:
    """A function replacing one line (1-based) of the copied deck: a synthetic broken deck."""

    def edit(line: int, new: str) -> None:
        path = project.data_dir / "sources/deck" / DECK.name
        lines = path.read_text(encoding="utf-8").split("\n")
        lines[line - 1] = new
        path.write_text("\n".join(lines), encoding="utf-8")

    return edit


@pytest.fixture
def reference_dir() -> Path:
    return REFERENCE
