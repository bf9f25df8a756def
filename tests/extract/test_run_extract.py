"""Tests of bassin_kg.extract.run_extract (``bassin-kg extract [--check]``) on a copy of the project."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from bassin_kg.cli import main
from bassin_kg.errors import DataError
from bassin_kg.extract import run_extract
from bassin_kg.extract.tables import render_all
from bassin_kg.settings import Settings


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_check_passes_on_the_committed_tables(project: Settings) -> None:
    out = io.StringIO()
    assert run_extract(project, check=True, out=out) == 0
    assert "9 extracted tables" in out.getvalue()
    assert "47 SWOT items" in out.getvalue()


def test_check_fails_naming_the_altered_table_and_row(project: Settings) -> None:
    path = project.data_dir / "curated/unemployment.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("ze2010-3122,2018-Q2,13.8", "ze2010-3122,2018-Q2,13.9"), encoding="utf-8")
    out = io.StringIO()
    assert run_extract(project, check=True, out=out) == 1
    report = out.getvalue()
    assert "unemployment.csv:3: committed table differs" in report
    assert "committed: ze2010-3122,2018-Q2,13.9,-0.7,177,177" in report
    assert "extracted: ze2010-3122,2018-Q2,13.8,-0.7,177,177" in report
    assert "swot_items.csv" not in report


def test_check_fails_when_a_table_is_missing(project: Settings) -> None:
    (project.data_dir / "curated/multipliers.csv").unlink()
    out = io.StringIO()
    assert run_extract(project, check=True, out=out) == 1
    assert "multipliers.csv: missing" in out.getvalue()


def test_extract_rewrites_the_tables_identically(project: Settings) -> None:
    curated = project.data_dir / "curated"
    before = _snapshot(curated)
    (curated / "swot_items.csv").write_text("stale\n", encoding="utf-8")
    assert run_extract(project, check=False, out=io.StringIO()) == 0
    assert _snapshot(curated) == before


def test_output_is_deterministic(project: Settings) -> None:
    from bassin_kg.extract import extract_deck

    assert render_all(extract_deck(project)) == render_all(extract_deck(project))


def test_a_parse_error_leaves_the_committed_tables_intact(
    project: Settings, edit_deck: Callable[[int, str], None]
) -> None:
    curated = project.data_dir / "curated"
    before = _snapshot(curated)
    edit_deck(358, "Télévendeurs ")
    with pytest.raises(DataError, match=r":358: recruitment row without a number"):
        run_extract(project, check=False, out=io.StringIO())
    assert _snapshot(curated) == before


def test_check_also_checks_the_reviewed_tables(project: Settings) -> None:
    path = project.data_dir / "curated/actor_mentions.csv"
    path.write_text(path.read_text(encoding="utf-8") + "perspective/1,rubika\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"actor_mentions\.csv:\d+: none of the actor's aliases"):
        run_extract(project, check=True, out=io.StringIO())


def test_cli_exit_codes(project: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    root = str(project.root)
    assert main(["--root", root, "extract", "--check"]) == 0
    path = project.data_dir / "curated/swot_items.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("Lille", "Paris"), encoding="utf-8")
    assert main(["--root", root, "extract", "--check"]) == 1
    assert "swot_items.csv:8: committed table differs" in capsys.readouterr().out
