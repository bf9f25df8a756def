"""Tests of store.py: opening stores; errors for missing, foreign, corrupt, locked ones; term conversion."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from bassin_kg.errors import StoreError
from bassin_kg.store import count_triples, open_read_only, open_store, to_oxigraph, to_rdflib

QUAD = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))


def make_store(path: Path) -> None:
    store = open_store(path, create=True)
    store.add(QUAD)
    store.flush()
    del store


def test_create_then_read_only(tmp_path: Path) -> None:
    make_store(tmp_path / "store")
    assert list(open_read_only(tmp_path / "store")) == [QUAD]


def test_reopen_for_writing(tmp_path: Path) -> None:
    make_store(tmp_path / "store")
    assert list(open_store(tmp_path / "store")) == [QUAD]


def test_missing_store_says_to_build_first(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no store at .*run `bassin-kg build` first"):
        open_read_only(tmp_path / "nothing")
    with pytest.raises(StoreError, match="no store at"):
        open_store(tmp_path / "nothing")


def test_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not an Oxigraph store"):
        open_read_only(tmp_path / "plain")


def test_corrupt_store(tmp_path: Path) -> None:
    make_store(tmp_path / "store")
    (tmp_path / "store" / "CURRENT").write_text("garbage\n")
    with pytest.raises(StoreError, match=r"corrupt.*rebuild it with `bassin-kg build`"):
        open_read_only(tmp_path / "store")


def test_second_writer_is_told_the_store_is_locked(tmp_path: Path) -> None:
    make_store(tmp_path / "store")
    first = open_store(tmp_path / "store")
    with pytest.raises(StoreError, match="locked by another process"):
        open_store(tmp_path / "store")
    del first


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(StoreError, match="already there"):
        open_store(tmp_path / "busy", create=True)


def test_terms_convert_both_ways_as_rdflib_parses_them() -> None:
    # SYNTHETIC terms, one of each kind
    pairs = [
        (ox.NamedNode("http://example.org/s"), URIRef("http://example.org/s")),
        (ox.BlankNode("b1"), BNode("b1")),
        (ox.Literal("Lens", language="fr"), Literal("Lens", lang="fr")),
        (ox.Literal("4", datatype=ox.NamedNode(str(XSD.integer))), Literal("4", datatype=XSD.integer)),
        # Oxigraph gives a simple literal the datatype xsd:string; rdflib's parsers give none
        (ox.Literal("3123"), Literal("3123")),
    ]
    for oxigraph, rdflib in pairs:
        converted = to_rdflib(oxigraph)
        assert (converted, type(converted)) == (rdflib, type(rdflib))
        assert to_oxigraph(rdflib) == oxigraph
    assert to_rdflib(ox.Literal("3123")) != Literal("3123", datatype=XSD.string)


def test_a_quoted_triple_is_a_store_error() -> None:
    quoted = ox.Triple(
        ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o")
    )
    with pytest.raises(StoreError, match="RDF-star"):
        to_rdflib(quoted)


def test_count_triples_counts_each_distinct_triple_once() -> None:
    store = ox.Store()
    s, p = ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p")
    g1, g2 = ox.NamedNode("http://example.org/g1"), ox.NamedNode("http://example.org/g2")
    store.add(ox.Quad(s, p, ox.Literal("shared"), g1))
    store.add(ox.Quad(s, p, ox.Literal("shared"), g2))
    store.add(ox.Quad(s, p, ox.Literal("only in g2"), g2))
    assert count_triples(store) == 2  # the union: "shared" once
    assert count_triples(store, [g2.value]) == 2
    assert count_triples(store, [g1.value]) == 1
    assert count_triples(store, ["http://example.org/none"]) == 0
