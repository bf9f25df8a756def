"""Tests of bassin_kg.extract.tables: CSV text, atomic writes, comparison."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bassin_kg.extract.deck import Deck, RecruitmentRow, Unemployment
from bassin_kg.extract.tables import TABLES, columns_of, compare, render, render_all, write_atomically


def _small_deck() -> Deck:
    # synthetic rows, enough to exercise quoting and number formatting
    deck = Deck()
    deck.recruitment_projects.append(
        RecruitmentRow("ze2010-3115", 1, "Agents immobiliers, syndics", 1152, 1, 2)
    )
    deck.unemployment.append(Unemployment("ze2010-3115", "2018-Q2", Decimal("14.9"), Decimal("-0.5"), 3, 3))
    return deck


def test_render_quotes_only_where_needed_and_uses_newlines() -> None:
    table = next(t for t in TABLES if t.name == "recruitment_projects")
    text = render(table, _small_deck())
    assert text == (
        "territory,rank,deck_label,projects,line_start,line_end\n"
        'ze2010-3115,1,"Agents immobiliers, syndics",1152,1,2\n'
    )


def test_decimals_are_written_with_a_point() -> None:
    table = next(t for t in TABLES if t.name == "unemployment")
    assert render(table, _small_deck()).splitlines()[1] == "ze2010-3115,2018-Q2,14.9,-0.5,3,3"


def test_every_table_of_the_readme_is_rendered() -> None:
    names = set(render_all(Deck()))
    assert names == {
        "deck_metadata.csv",
        "territories.csv",
        "swot_items.csv",
        "recruitment_projects.csv",
        "recruitment_difficulties.csv",
        "unemployment.csv",
        "territory_links.csv",
        "multipliers.csv",
        "common_perspectives.csv",
    }
    assert columns_of("multipliers") == (
        "key",
        "direct_jobs",
        "indirect_jobs",
        "induced_jobs",
        "source",
        "line_start",
        "line_end",
    )
    with pytest.raises(KeyError):
        columns_of("nope")


def test_write_atomically_leaves_no_temporary_file(tmp_path: Path) -> None:
    write_atomically(tmp_path, {"a.csv": "x\n1\n", "b.csv": "y\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"x\n1\n"


def test_failed_write_keeps_the_old_tables(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("old\n", encoding="utf-8")
    # a text that cannot be encoded fails half-way: nothing is renamed, temporary files are removed
    with pytest.raises(UnicodeEncodeError):
        write_atomically(tmp_path, {"a.csv": "new\n", "b.csv": "\udcff"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "old\n"


def test_compare_names_the_first_differing_line(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("h\n1\n2\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("h\n", encoding="utf-8")
    found = compare(tmp_path, {"a.csv": "h\n1\n3\n", "b.csv": "h\n", "c.csv": "h\n"})
    assert [(d.filename, d.line, d.committed, d.extracted) for d in found] == [
        ("a.csv", 3, "2", "3"),
        ("c.csv", 0, None, None),
    ]
    assert "a.csv:3: committed table differs" in found[0].render(Path("data/curated"))
    assert "missing" in found[1].render(Path("data/curated"))


def test_compare_sees_line_endings(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"h\r\n1\r\n")
    (difference,) = compare(tmp_path, {"a.csv": "h\n1\n"})
    assert (difference.line, difference.committed, difference.extracted) == (1, "h\r", "h")
