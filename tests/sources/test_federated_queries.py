"""The federated queries ``queries/insee-*.rq``, run by pyoxigraph (which evaluates SERVICE over HTTP)
on a store holding our SYNTHETIC territories and the links found on the stand-in endpoint; their
``SERVICE <http://rdf.insee.fr/sparql>`` is pointed at the local Oxigraph server holding the SYNTHETIC
INSEE fixture with :func:`with_insee_endpoint` (queries.py has no endpoint hook)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.sources.conftest import FX, graph_store, our_territories_graph

from bassin_kg.namespaces import Iris
from bassin_kg.queries import NamedQuery, SelectResult, bind, load_query, run_query
from bassin_kg.sources.insee_links import (
    GRAPH_NAME,
    INSEE_SERVICE,
    SparqlClient,
    link_all,
    links_graph,
    with_insee_endpoint,
)

QUERIES = Path(__file__).resolve().parents[2] / "queries"
NOW = datetime(2025, 11, 26, 8, 30, tzinfo=UTC)


@pytest.fixture
def linked_store(insee_endpoint: str, iris: Iris) -> ox.Store:
    """Our territories plus the graph insee-links found on the stand-in endpoint."""
    store = graph_store(our_territories_graph(iris), str(iris.graph("insee-territoires")))
    report = link_all(store, SparqlClient(insee_endpoint, timeout=5, retries=0), now=lambda: NOW)
    links = links_graph(report, iris, finished=NOW).serialize(format="nt", encoding="utf-8")
    store.load(links, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(iris.graph(GRAPH_NAME))))
    # a second graph typing the same zones (as the deck does): the union must not double the rows
    store.load(
        our_territories_graph(iris).serialize(format="nt", encoding="utf-8"),
        format=ox.RdfFormat.N_TRIPLES,
        to_graph=ox.NamedNode(str(iris.graph("deck"))),
    )
    return store


def run(store: ox.Store, query: NamedQuery, endpoint: str, **values: str) -> list[dict[str, str | None]]:
    text = with_insee_endpoint(bind(query, values, Iris()), endpoint)
    result = run_query(store, text, timeout=30)
    assert isinstance(result, SelectResult)
    return [
        {
            name: (term.value if isinstance(term, ox.Literal | ox.NamedNode) else None)
            for name, term in zip(result.variables, row, strict=True)
        }
        for row in result.rows
    ]


@pytest.mark.parametrize("name", ["insee-zones-emploi", "insee-departements"])
def test_federated_queries_name_the_insee_endpoint(name: str) -> None:
    query = load_query(QUERIES / f"{name}.rq")
    assert f"SERVICE <{INSEE_SERVICE}>" in query.text
    assert INSEE_SERVICE not in with_insee_endpoint(query.text, "http://127.0.0.1:1/query")


def test_insee_zones_emploi(linked_store: ox.Store, insee_endpoint: str) -> None:
    query = load_query(QUERIES / "insee-zones-emploi.rq")
    rows = run(linked_store, query, insee_endpoint)
    assert [(r["code"], r["label"], r["inseeName"], r["created"], r["sameName"]) for r in rows] == [
        ("3205", "Béthune", "Béthune", "2020-01-01", "true"),
        ("3215", "Lens", "Lens", "2020-01-01", "true"),
    ]
    assert rows[0]["insee"] == FX + "zoneDEmploi2020-a1441d98-3485-4649-91a3-ddacd1e76417"
    one = run(linked_store, query, insee_endpoint, territory="3215")
    assert [r["code"] for r in one] == ["3215"]


def test_insee_departements(linked_store: ox.Store, insee_endpoint: str) -> None:
    rows = run(linked_store, load_query(QUERIES / "insee-departements.rq"), insee_endpoint)
    # 59 has two "valid" resources at INSEE (fixture trap): no owl:sameAs, so no row
    assert rows == [
        {
            "code": "62",
            "name": "Pas-de-Calais",
            "insee": FX + "departement-e32f0f2e-66f9-41d1-9e3a-19b25863468e",
            "inseeName": "Pas-de-Calais",
            "prefecture": "Arras",
            "inseeRegionCode": "32",
            "inseeRegionName": "Hauts-de-France",
            "sameRegion": "true",
        }
    ]
