"""Tests of sources/common.py: tables read with line numbers, typed values, source records, paths."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, Iris
from bassin_kg.sources.common import (
    Row,
    SourceRecords,
    read_reference,
    read_table,
    reference_records,
    relative_to_root,
)

IRIS = Iris("http://example.org/")


def write(root: Path, relative: str, text: str, encoding: str = "utf-8") -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def test_rows_carry_their_file_line_even_after_a_quoted_newline_and_a_blank_line(tmp_path: Path) -> None:
    write(tmp_path, "data/curated/t.csv", 'a,b\n1,"two\nlines"\n\n3,x\n')
    table = read_table(tmp_path, "data/curated/t.csv", ["a", "b"])
    assert [(r.line, r.text("a")) for r in table] == [(2, "1"), (5, "3")]
    assert table.rows[0].text("b") == "two\nlines"
    assert table.file == "data/curated/t.csv"
    assert table.file_key == "curated-t"


def test_a_byte_order_mark_does_not_hide_the_first_column(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "\ufeffa,b\n1,2\n")
    assert read_table(tmp_path, "t.csv", ["a"]).rows[0].text("a") == "1"


def test_missing_file_names_it_and_says_how_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        read_table(tmp_path, "data/curated/t.csv", ["a"], hint="run `bassin-kg extract`")
    assert caught.value.file == "data/curated/t.csv"
    assert "file not found" in str(caught.value)
    assert caught.value.hint == "run `bassin-kg extract`"


def test_missing_column_is_named_with_the_header_found(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,c\n1,2\n")
    with pytest.raises(DataError) as caught:
        read_table(tmp_path, "t.csv", ["a", "b"])
    assert (caught.value.line, caught.value.field, caught.value.value) == (1, "b", "a,c")


def test_a_row_with_an_unquoted_comma_is_reported_on_its_line(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "a,b\n1,2\n3,4,5\n")
    with pytest.raises(DataError) as caught:
        read_table(tmp_path, "t.csv", ["a", "b"])
    assert caught.value.line == 3
    assert caught.value.value == "3,4,5"
    assert "3 fields, the header has 2" in str(caught.value)


def test_empty_file_and_non_utf8_file_are_data_errors(tmp_path: Path) -> None:
    write(tmp_path, "empty.csv", "")
    with pytest.raises(DataError, match="file is empty"):
        read_table(tmp_path, "empty.csv", ["a"])
    write(tmp_path, "latin.csv", "a\nBéthune\n", encoding="latin-1")
    with pytest.raises(DataError, match="not UTF-8"):
        read_table(tmp_path, "latin.csv", ["a"])


def row(**values: str) -> Row:
    return Row("t.csv", 7, values)


def test_numbers_are_read_strictly() -> None:
    assert row(n="1152").integer("n") == 1152
    assert row(d="-0.4").decimal("d") == Decimal("-0.4")
    for raw in ("1 152", "12.0", "", "abc"):
        with pytest.raises(DataError) as caught:
            row(n=raw).integer("n")
        assert (caught.value.file, caught.value.line, caught.value.field, caught.value.value) == (
            "t.csv",
            7,
            "n",
            raw,
        )
    for raw in ("10,7", "NaN", "Infinity", "1e3", ""):
        with pytest.raises(DataError, match="not a decimal number"):
            row(d=raw).decimal("d")
    with pytest.raises(DataError, match="below 1"):
        row(n="0").integer("n", minimum=1)


def test_required_rejects_blank_values() -> None:
    assert row(a=" x ").required("a") == "x"
    with pytest.raises(DataError) as caught:
        row(a="  ").required("a")
    assert caught.value.field == "a"


def test_index_reports_a_duplicate_identifier_with_both_lines(tmp_path: Path) -> None:
    write(tmp_path, "t.csv", "id,v\nx,1\ny,2\nx,3\n")
    table = read_table(tmp_path, "t.csv", ["id"])
    with pytest.raises(DataError) as caught:
        table.index("id")
    assert (caught.value.line, caught.value.field, caught.value.value) == (4, "id", "x")
    assert "already on line 2" in str(caught.value)


def test_source_records_are_written_once_with_file_line_and_last_line() -> None:
    graph = Graph()
    records = SourceRecords(graph, IRIS)
    first = records.record("deck", "deck.txt", 354, line_end=355)
    assert records.record("deck", "deck.txt", 354, line_end=355) == first
    assert first == IRIS.source_record("deck", 354)
    assert set(graph.predicate_objects(first)) == {
        (RDF.type, BM.EnregistrementSource),
        (BM.fichier, Literal("deck.txt")),
        (BM.ligne, Literal(354, datatype=XSD.integer)),
        (BM.ligneFin, Literal(355, datatype=XSD.integer)),
    }
    single = records.record("deck", "deck.txt", 86, line_end=86)
    assert (single, BM.ligneFin, None) not in graph


def test_one_first_line_cited_with_two_last_lines_blames_the_citing_row() -> None:
    records = SourceRecords(Graph(), IRIS)
    records.record("deck", "deck.txt", 10, line_end=12)
    with pytest.raises(DataError) as caught:
        records.record("deck", "deck.txt", 10, line_end=11, cited_by=row())
    assert (caught.value.file, caught.value.line, caught.value.field) == ("t.csv", 7, "line_end")


def test_reference_tables_are_read_from_data_reference_with_values_stripped(tmp_path: Path) -> None:
    # SYNTHETIC reference table with a blank line
    write(tmp_path, "data/reference/codes.csv", "code,label\nA, un \n\nB,deux\n")
    table = read_reference(tmp_path / "data", "codes.csv", ["code", "label"])
    assert [(r.line, r.text("code"), r.text("label")) for r in table] == [(2, "A", "un"), (4, "B", "deux")]
    assert (table.file, table.file_key) == ("data/reference/codes.csv", "reference-codes")


def test_missing_reference_table_says_where_to_restore_it(tmp_path: Path) -> None:
    with pytest.raises(DataError) as caught:
        read_reference(tmp_path / "data", "absent.csv", ["code"])
    assert caught.value.file == "data/reference/absent.csv"
    assert caught.value.hint == "restore it from data/reference (see its README)"


def test_reference_records_are_written_once() -> None:
    graph = Graph()
    records = reference_records(graph, IRIS, "fap2009_intitules.csv")
    first, again = records(7), records(7)
    assert first == again == IRIS.source_record("reference-fap2009_intitules", 7)
    assert set(graph.predicate_objects(first)) == {
        (RDF.type, BM.EnregistrementSource),
        (BM.fichier, Literal("data/reference/fap2009_intitules.csv")),
        (BM.ligne, Literal(7, datatype=XSD.integer)),
    }
    assert len(graph) == 3


def test_paths_are_shown_relative_to_the_root_or_by_name(tmp_path: Path) -> None:
    inside = tmp_path / "data" / "sources" / "f.csv"
    assert relative_to_root(inside, tmp_path) == "data/sources/f.csv"
    assert relative_to_root(Path("/elsewhere/g.csv"), tmp_path) == "g.csv"
