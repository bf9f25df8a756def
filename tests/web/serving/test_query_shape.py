"""Which queries count as subject lookups (answered in the HTTP process, without a worker).

The property that matters: an accepted query reads at most the subject's own triples. Checked on a
SYNTHETIC store where one subject has few triples and the rest of the graph is big.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bassin_kg.web.serving.query_shape import MAX_LENGTH, is_subject_lookup

EX = "http://example.org/"

LOOKUPS = [
    "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }",
    "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }\n# 12",
    "PREFIX ex: <http://example.org/>\nselect distinct * where { ex:a a ?class . } LIMIT 5 OFFSET 2",
    "BASE <http://example.org/> PREFIX : <http://example.org/> SELECT ?o { :a :p ?o } OFFSET 1 LIMIT 2",
    'ASK { <http://example.org/a> <http://example.org/p> "1"@fr }',
    'ASK WHERE { <a> <p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> }',
    "CONSTRUCT WHERE { <http://example.org/a> ?p ?o }",
    "SELECT ?o { <a> <p> 3.5 }",
    "SELECT ?o { <a> <p> true }",
    "SELECT REDUCED ?p ?o{<a>?p ?o}",
    "# a comment first\nSELECT ?p ?o { <a> ?p ?o } # and one after",
]

NOT_LOOKUPS = [
    "SELECT ?p ?o WHERE { ?s ?p ?o }",  # no written subject: the whole graph
    "SELECT ?p WHERE { <a> ?p ?o . ?o ?q ?r }",  # a join
    "SELECT ?p WHERE { <a> ?p ?o ; ?q ?r }",
    "SELECT ?p WHERE { <a> ?p ?o , ?x }",
    "SELECT ?p FROM <g> WHERE { <a> ?p ?o }",  # its own dataset
    "SELECT ?p WHERE { <a> ?p ?o } ORDER BY ?p",
    "SELECT ?p WHERE { <a> ?p ?o } GROUP BY ?p",
    "SELECT (COUNT(*) AS ?n) WHERE { <a> ?p ?o }",
    "SELECT ?o WHERE { <a> <p>* ?o }",  # property paths
    "SELECT ?o WHERE { <a> <p>/<q> ?o }",
    "SELECT ?o WHERE { <a> ^<p> ?o }",
    "SELECT ?p WHERE { <a> ?p ?o FILTER(?o != 1) }",
    "SELECT ?p WHERE { <a> ?p ?o OPTIONAL { ?o ?q ?r } }",
    "SELECT ?p WHERE { <a> ?p ?o } VALUES ?p { <b> }",
    "SELECT ?p WHERE { GRAPH ?g { <a> ?p ?o } }",
    "SELECT ?p WHERE { { SELECT ?p WHERE { ?s ?p ?o } } }",
    "SELECT * WHERE { SERVICE <http://x.example/> { <a> ?p ?o } }",
    "SELECT ?p WHERE { _:b ?p ?o }",
    "SELECT ?p WHERE { [] ?p ?o }",
    "SELECT ?p WHERE { <a> A ?o }",  # only a lower-case "a" means rdf:type
    'SELECT ?p WHERE { <a> ?p """long""" }',
    "SELECT ?p WHERE { ex:a\\#b ?p ?o }",
    "SELECT ?p WHERE { <a> ?p ?o } LIMIT 1 LIMIT 2",
    "SELECT ?p WHERE { <a> ?p ?o } # done\nORDER BY ?p",
    "CONSTRUCT { ?o ?p <a> } WHERE { <a> ?p ?o }",
    "DESCRIBE <a>",
    "SELECTDISTINCT ?p { <a> ?p ?o }",
    "INSERT DATA { <a> <p> <o> }",
    "",
]


@pytest.mark.parametrize("query", LOOKUPS)
def test_lookups_are_recognised(query: str) -> None:
    assert is_subject_lookup(query)


@pytest.mark.parametrize("query", NOT_LOOKUPS)
def test_anything_else_is_not(query: str) -> None:
    assert not is_subject_lookup(query)


def test_long_texts_are_not_examined() -> None:
    query = "SELECT ?p ?o WHERE { <a> ?p ?o }"
    assert is_subject_lookup(query + " " * (MAX_LENGTH - len(query)))
    assert not is_subject_lookup(query + " " * (MAX_LENGTH - len(query) + 1))


@pytest.mark.parametrize(
    "text",
    [
        "#" + " " * 3990 + "\n\nx",  # a comment full of spaces, then garbage
        "SELECT ?p { <a> ?p ?o }" + " \n" * 1900 + "x",
        "SELECT " + "?a " * 1300 + "x",
        "PREFIX a: <b> " * 280 + "x",
        'SELECT ?p { <a> ?p "' + "\\\\" * 1900 + '" x }',
    ],
)
def test_pathological_texts_are_refused(text: str) -> None:
    # with backtracking quantifiers the first of these took 0.6 s; possessive ones make it linear
    assert not is_subject_lookup(text)


@pytest.fixture(scope="module")
def lopsided_store() -> ox.Store:
    """<a> has 3 triples; 300 other subjects point at each other (SYNTHETIC)."""
    store = ox.Store()
    graph = ox.NamedNode(EX + "g")
    p = ox.NamedNode(EX + "p")
    store.add(ox.Quad(ox.NamedNode(EX + "a"), p, ox.Literal("1"), graph))
    store.add(ox.Quad(ox.NamedNode(EX + "a"), p, ox.NamedNode(EX + "n0"), graph))
    store.add(ox.Quad(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "q"), ox.Literal("x", language="fr"), graph))
    for i in range(300):
        store.add(ox.Quad(ox.NamedNode(f"{EX}n{i}"), p, ox.NamedNode(f"{EX}n{(i + 1) % 300}"), graph))
    return store


# the parts of a query, varied slot by slot: hypothesis mixes lookups with joins, paths and filters
_FORMS = ["SELECT ?p ?o WHERE", "SELECT DISTINCT * WHERE", "SELECT ?o", "ASK", "CONSTRUCT WHERE"]
_SUBJECTS = ["<http://example.org/a>", "ex:a", "ex:p", "ex:n1", "?s", "[]"]
_PREDICATES = ["?p", "ex:p", "<http://example.org/p>", "a", "ex:p*", "^ex:p", "ex:p/ex:p", "ex:p+"]
_OBJECTS = ["?o", '"1"', "ex:n0", "1", "?p", "?s"]
_EXTRAS = ["", " .", " . ?o ?q ?r", " ; ?q ?r", " , ?x", " FILTER(true)", " OPTIONAL { ?o ?q ?r }"]
_MODIFIERS = ["", " LIMIT 2", " OFFSET 1", " ORDER BY ?o", " LIMIT 1 OFFSET 1", " # n"]


@settings(max_examples=500, deadline=None)
@given(
    st.sampled_from(_FORMS),
    st.sampled_from(_SUBJECTS),
    st.sampled_from(_PREDICATES),
    st.sampled_from(_OBJECTS),
    st.sampled_from(_EXTRAS),
    st.sampled_from(_MODIFIERS),
)
def test_an_accepted_query_reads_at_most_its_subjects_triples(
    lopsided_store: ox.Store, form: str, subject: str, predicate: str, obj: str, extra: str, modifier: str
) -> None:
    query = f"PREFIX ex: <http://example.org/> {form} {{ {subject} {predicate} {obj}{extra} }}{modifier}"
    if not is_subject_lookup(query):
        # whatever could read more than one subject's triples is among the refused
        return
    assert subject not in ("?s", "[]"), query
    assert predicate in _PREDICATES[:4], query
    assert extra in ("", " ."), query
    assert "ORDER" not in modifier, query
    try:
        result = lopsided_store.query(query, use_default_graph_as_union=True)
    except SyntaxError:
        return  # the engine refuses it, as it would in a worker
    if isinstance(result, ox.QueryBoolean):
        return
    rows = sum(1 for _ in result)
    # the most triples any written subject has here: <a> 3, ex:n1 1, ex:p none
    assert rows <= 3, query


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gets_an_answer(text: str) -> None:
    assert is_subject_lookup(text) in (True, False)


def test_a_lookup_gives_the_subjects_triples(lopsided_store: ox.Store) -> None:
    query = "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }"
    assert is_subject_lookup(query)
    result = lopsided_store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    body = result.serialize(format=ox.QueryResultsFormat.JSON)
    assert body is not None
    assert len(json.loads(body)["results"]["bindings"]) == 3
