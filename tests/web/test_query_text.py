"""Lexical checks on query text: strings, IRIs and comments never count as keywords."""

from __future__ import annotations

import pytest

from bassin_kg.web.query_text import (
    QueryTextError,
    add_using,
    check_services,
    has_from_clause,
    mask,
    service_calls,
)


def test_mask_keeps_offsets_and_iris() -> None:
    text = 'SELECT * { ?s <http://x/#a> "FROM" } # SERVICE'
    masked = mask(text)
    assert len(masked) == len(text)
    assert "<http://x/#a>" in masked
    assert "FROM" not in masked
    assert "SERVICE" not in masked


def test_long_strings_are_masked() -> None:
    assert "FROM" not in mask('SELECT * { ?s ?p """a "FROM" b""" }')


def test_from_clause() -> None:
    assert has_from_clause("SELECT * FROM <http://g> { ?s ?p ?o }")
    assert has_from_clause("select * from named <http://g> { ?s ?p ?o }")
    assert not has_from_clause("SELECT ?from { ?from ?p ex:from }")


def test_service_targets_are_resolved() -> None:
    query = (
        "PREFIX e: <http://a.example/> "
        "SELECT * { SERVICE SILENT e:sparql { } SERVICE <http://b.example/q> { } }"
    )
    assert [c.iri for c in service_calls(query)] == ["http://a.example/sparql", "http://b.example/q"]


def test_service_refused_without_allow_list() -> None:
    with pytest.raises(QueryTextError, match="not allowed"):
        check_services("SELECT * { service <http://a.example/> { } }", ())


def test_service_allowed_host() -> None:
    check_services("SELECT * { SERVICE <http://a.example/sparql> { } }", ("a.example",))
    with pytest.raises(QueryTextError, match=r"b\.example"):
        check_services("SELECT * { SERVICE <http://b.example/sparql> { } }", ("a.example",))


def test_service_variable_refused() -> None:
    with pytest.raises(QueryTextError, match="written IRI"):
        check_services("SELECT * { SERVICE ?endpoint { } }", ("a.example",))


def test_service_word_elsewhere_is_not_a_clause() -> None:
    check_services('SELECT ?service { ?s ex:SERVICE "SERVICE <http://x/>" }', ())


def test_add_using_before_top_level_where_only() -> None:
    update = "INSERT { ?s ?p ?o } WHERE { { SELECT ?s ?p ?o WHERE { ?s ?p ?o } } }"
    rewritten = add_using(update, ["http://g"], ["http://n"])
    assert rewritten == (
        "INSERT { ?s ?p ?o } USING <http://g> USING NAMED <http://n> "
        "WHERE { { SELECT ?s ?p ?o WHERE { ?s ?p ?o } } }"
    )


def test_add_using_to_every_operation() -> None:
    update = "DELETE { ?s ?p 1 } WHERE { ?s ?p 1 } ; INSERT { ?s ?p 2 } WHERE { ?s ?p 3 }"
    assert add_using(update, ["http://g"], []).count("USING <http://g> WHERE") == 2


def test_add_using_nothing_to_add() -> None:
    assert add_using("CLEAR ALL", [], []) == "CLEAR ALL"


def test_add_using_conflicts() -> None:
    with pytest.raises(QueryTextError, match="USING or WITH"):
        add_using("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", ["http://h"], [])
    with pytest.raises(QueryTextError, match="DELETE WHERE"):
        add_using("DELETE WHERE { ?s ?p ?o }", ["http://h"], [])
