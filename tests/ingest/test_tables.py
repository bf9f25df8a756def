"""Reference tables read with line numbers, and source records minted once."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import RDF, XSD

from bassin_kg.errors import DataError
from bassin_kg.ingest.tables import read_table, reference_records
from bassin_kg.namespaces import BM, Iris


def test_rows_keep_their_file_line_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    # SYNTHETIC table with a title line above the header and a blank line
    path.write_text("title line\ncode,label\nA, un \n\nB,deux\n", encoding="utf-8")
    rows = list(read_table(path, ["code", "label"], skip_lines=1))
    assert rows == [(3, {"code": "A", "label": "un"}), (5, {"code": "B", "label": "deux"})]


def test_missing_column_names_the_expected_ones(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("code,name\nA,un\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"t.csv:1: missing column\(s\) label.*expected columns: code, label"):
        list(read_table(path, ["code", "label"]))


def test_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="reference file not found"):
        list(read_table(tmp_path / "absent.csv", ["code"]))


def test_source_record_is_written_once() -> None:
    graph = Graph()
    records = reference_records(graph, Iris(), "fap2009_intitules.csv")
    first, again = records(7), records(7)
    assert first == again == Iris().source_record("reference-fap2009_intitules", 7)
    assert (first, RDF.type, BM.EnregistrementSource) in graph
    assert (first, BM.fichier, Literal("data/reference/fap2009_intitules.csv")) in graph
    assert (first, BM.ligne, Literal(7, datatype=XSD.integer)) in graph
    assert len(graph) == 3
