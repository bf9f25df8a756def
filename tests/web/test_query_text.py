"""Lexical checks on query text: strings, IRIs and comments never count as keywords."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassin_kg.web.query_text import (
    QueryTextError,
    add_using,
    check_nesting,
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


# --- issue 16: linear checks, every kind of nesting, LOAD ---------------------------------------------
REPO_QUERIES = Path(__file__).resolve().parents[2] / "queries"


def _refused(text: str) -> bool:
    try:
        check_nesting(text)
    except QueryTextError:
        return True
    return False


@pytest.mark.parametrize(
    "text",
    [
        "ASK { FILTER(" + "!" * 2000 + "true) }",
        "SELECT (1" + " +1" * 2000 + " AS ?x) {}",
        "SELECT * {" + " UNION ".join(["{}"] * 2000) + "}",
        "SELECT * { ?s " + "/".join(["<http://p>"] * 2000) + " ?o }",
        "SELECT * { " + " ".join(f"BIND(1 AS ?v{i})" for i in range(600)) + "}",
        "ASK { FILTER(?a<" + "!" * 2000 + "true>?b) }",  # an IRI-looking comparison
    ],
    ids=["not", "plus-one", "union", "path", "binds", "iri-like"],
)
def test_deep_trees_without_brackets_are_refused(text: str) -> None:
    assert _refused(text)


@pytest.mark.parametrize(
    "text",
    [
        "SELECT * { VALUES ?x {" + " -1" * 5000 + "} }",
        "INSERT DATA { GRAPH <http://g> {" + " <http://s> <http://a-b/c-d/e> -1 ." * 3000 + "} }",
        "SELECT * { " + " ".join(f"<http://example.org/a/b/c-{i}> ex:p-q ?o{i} ." for i in range(2000)) + "}",
    ],
    ids=["values", "insert-data", "many-iris"],
)
def test_large_flat_queries_pass(text: str) -> None:
    assert not _refused(text)


def test_the_named_queries_pass() -> None:
    for path in sorted(REPO_QUERIES.glob("*.rq")):
        check_nesting(path.read_text(encoding="utf-8"))


def test_a_repeated_unclosed_iri_does_not_hide_the_service() -> None:
    """Issue 16 repro (its time is checked over the wire in tests/reliability/test_hardening.py)."""
    text = "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } } " + "PREFIX a: <" * 3000
    with pytest.raises(QueryTextError, match="not allowed"):
        check_services(text, ())
    assert [c.iri for c in service_calls(text)] == ["http://x/"]


def test_load_is_checked_like_service() -> None:
    with pytest.raises(QueryTextError, match="LOAD of a remote document is not allowed"):
        check_services("LOAD <http://127.0.0.1:8000/x.ttl>", ())
    with pytest.raises(QueryTextError, match=r"host '127\.0\.0\.1' is not in the allow-list"):
        check_services("LOAD SILENT <http://127.0.0.1:8000/x.ttl> INTO GRAPH <http://g>", ("data.example",))
    check_services("LOAD <http://data.example/x.ttl>", ("data.example",))
    check_services('INSERT DATA { <http://s> <http://p> "LOAD <http://x/>" }', ())


def test_using_is_added_in_one_pass_over_many_wheres() -> None:
    update = "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } ; " * 2000
    assert add_using(update, ("http://g",), ()).count("USING <http://g>") == 2000
    with pytest.raises(QueryTextError, match="DELETE WHERE short form"):
        add_using("DELETE   WHERE { ?s ?p ?o }", ("http://g",), ())
    assert "USING" in add_using("xDELETE WHERE { ?s ?p ?o }", ("http://g",), ())
