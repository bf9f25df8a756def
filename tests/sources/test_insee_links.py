"""``link insee``: the real HTTP client against a real local Oxigraph server holding the
SYNTHETIC INSEE fixture, and against servers that fail on purpose."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, SKOS, XSD
from tests.sources.conftest import FX, FailingServer, fake_build, our_territories_graph

from bassin_kg.cli import main
from bassin_kg.namespaces import IGEO, VOID, Iris
from bassin_kg.sources.insee_links import (
    GRAPH_NAME,
    KINDS,
    Candidate,
    EndpointError,
    SparqlClient,
    Territory,
    decide,
    link_all,
    links_graph,
    lookup_query,
    our_territories,
    with_insee_endpoint,
)

ZE2020_3205 = URIRef(FX + "zoneDEmploi2020-a1441d98-3485-4649-91a3-ddacd1e76417")
ZE2010_3123 = URIRef(FX + "zoneDEmploi2010-f3ae3ba1-beae-4318-856c-5aa70b07743d")
OLD_62001 = URIRef(FX + "commune-693b07f2-35b3-4cbb-a624-64274f5fcfa4")
NEW_62001 = URIRef(FX + "commune-aab4542a-765d-4ee8-943b-dea6912d764f")
DEP_62 = URIRef(FX + "departement-e32f0f2e-66f9-41d1-9e3a-19b25863468e")
DEP_59 = {
    URIRef(FX + "departement-6405c396-e483-4b9b-8d6d-cf9380037211"),
    URIRef(FX + "departement-5d194ae2-175d-4826-a24b-0acb832bce90"),
}
REGION_32 = URIRef(FX + "region-cce8884f-613a-46c1-b5fe-f4022d9c9897")
NOW = datetime(2025, 11, 26, 8, 30, tzinfo=UTC)


def no_sleep(_seconds: float) -> None:
    pass


def client(
    url: str, *, retries: int = 0, timeout: float = 5, sleeps: list[float] | None = None
) -> SparqlClient:
    sleep = sleeps.append if sleeps is not None else no_sleep
    return SparqlClient(url, timeout=timeout, retries=retries, sleep=sleep)


# --- against the stand-in endpoint ------------------------------------------------------------------------
def test_our_territories_reads_kinds_codes_and_dates(our_store: ox.Store, iris: Iris) -> None:
    found = {(t.kind.key, t.code): t for t in our_territories(our_store)}
    assert set(found) == {
        ("ze2020", "3205"), ("ze2020", "3215"), ("ze2010", "3123"), ("commune", "62119"),
        ("commune", "62498"), ("commune", "62001"), ("commune", "62999"), ("departement", "59"),
        ("departement", "62"), ("region", "32"),
    }  # fmt: skip
    assert found[("ze2010", "3123")].valid_on == date(2018, 1, 1)
    assert found[("ze2020", "3205")].valid_on == date(2022, 1, 1)
    assert found[("commune", "62001")].iri == iris.commune("62001")


def test_link_all_finds_official_iris_by_type_code_and_date(
    our_store: ox.Store, insee_endpoint: str, iris: Iris
) -> None:
    report = link_all(our_store, client(insee_endpoint), now=lambda: NOW)
    links = {(link.subject, link.predicate, link.target) for link in report.links}
    # same type, same code, valid on the date: the same territory
    assert (iris.ze2020("3205"), OWL.sameAs, ZE2020_3205) in links
    assert (iris.ze2010("3123"), OWL.sameAs, ZE2010_3123) in links
    assert (iris.departement("62"), OWL.sameAs, DEP_62) in links
    assert (iris.region("32"), OWL.sameAs, REGION_32) in links
    # the commune nouvelle is the one valid in 2022; its predecessor with the same code is a close match
    assert (iris.commune("62001"), OWL.sameAs, NEW_62001) in links
    assert (iris.commune("62001"), SKOS.closeMatch, OLD_62001) in links
    assert (iris.commune("62001"), OWL.sameAs, OLD_62001) not in links
    # a bassin de vie with code 3205 is another thing: never linked
    assert not any("bassinDeVie" in str(target) for _s, _p, target in links)
    # two resources valid for one code: no sameAs, a close match to each
    dep59 = {(p, t) for s, p, t in links if s == iris.departement("59")}
    assert dep59 == {(SKOS.closeMatch, t) for t in DEP_59}
    assert report.ambiguous["departement"] == ["59"]
    # a code INSEE lacks is reported, not guessed
    assert report.missing["commune"] == ["62999"]
    assert not any(s == iris.commune("62999") for s, _p, _t in links)
    # zones of two zonings sharing communes: each linked to INSEE's IRI of the other by territoireCommunAvec
    assert (iris.ze2010("3123"), IGEO.territoireCommunAvec, ZE2020_3205) in links
    assert (iris.ze2020("3205"), IGEO.territoireCommunAvec, ZE2010_3123) in links
    assert report.same["ze2020"] == 2
    assert report.common == 2
    assert "not found at INSEE: 62999" in report.summary()


def test_links_graph_says_when_and_where_the_lookup_was_made(
    our_store: ox.Store, insee_endpoint: str, iris: Iris
) -> None:
    report = link_all(our_store, client(insee_endpoint), now=lambda: NOW)
    graph = links_graph(report, iris, finished=NOW)
    linkset = iris.graph(GRAPH_NAME)
    assert (linkset, RDF.type, VOID.Linkset) in graph
    assert (linkset, DCTERMS.created, Literal("2025-11-26T08:30:00+00:00", datatype=XSD.dateTime)) in graph
    assert (linkset, DCTERMS.source, URIRef(insee_endpoint)) in graph
    assert set(graph.objects(linkset, VOID.linkPredicate)) == {
        OWL.sameAs,
        SKOS.closeMatch,
        IGEO.territoireCommunAvec,
    }
    activity = graph.value(linkset, PROV.wasGeneratedBy)
    assert activity == iris.activity("link-insee", "20251126T083000Z")
    assert (activity, RDF.type, PROV.Activity) in graph
    assert (activity, PROV.used, URIRef(insee_endpoint)) in graph
    assert len(list(graph.triples((None, OWL.sameAs, None)))) == sum(report.same.values())


def test_lookups_are_batched(
    our_store: ox.Store, insee_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bassin_kg.sources.insee_links as insee

    monkeypatch.setattr(insee, "BATCH", 2)
    sparql = client(insee_endpoint)
    report = link_all(our_store, sparql, now=lambda: NOW)
    # ze2020 (2 codes) 1, ze2010 (1) 1, communes (4) 2, départements (2) 1, region (1) 1
    assert sparql.requests == 6
    assert report.same["commune"] == 3


# --- decisions ------------------------------------------------------------------------------------------
def _territory(day: date) -> Territory:
    return Territory(URIRef("https://example.org/ours"), KINDS[0], "3205", day)


def test_validity_is_creation_inclusive_and_suppression_exclusive() -> None:
    candidate = Candidate(URIRef("https://example.org/a"), "3205", None, date(2020, 1, 1), date(2024, 1, 1))
    assert not candidate.valid_on(date(2019, 12, 31))
    assert candidate.valid_on(date(2020, 1, 1))
    assert candidate.valid_on(date(2023, 12, 31))
    assert not candidate.valid_on(date(2024, 1, 1))
    assert Candidate(URIRef("https://example.org/b"), "3205").valid_on(date(1900, 1, 1))


def test_decide_without_a_valid_resource_gives_close_matches_only() -> None:
    old = Candidate(URIRef("https://example.org/old"), "3205", None, None, date(2015, 1, 1))
    links = decide(_territory(date(2022, 1, 1)), [old])
    assert [(link.predicate, link.target) for link in links] == [(SKOS.closeMatch, old.iri)]


def test_lookup_query_refuses_odd_codes() -> None:
    with pytest.raises(ValueError, match="not an INSEE code"):
        lookup_query(KINDS[0], ['3205" } ; DROP ALL ; {'])
    text = lookup_query(KINDS[0], ["3215", "3205", "3205"])
    assert 'VALUES ?code { "3205" "3215" }' in text
    assert "<http://rdf.insee.fr/def/geo#ZoneDEmploi2020>" in text


# --- failures: bounded retries, clear errors ---------------------------------------------------------------
def test_closed_port_is_retried_then_reported(our_store: ox.Store, closed_port_url: str) -> None:
    sleeps: list[float] = []
    sparql = client(closed_port_url, retries=2, sleeps=sleeps)
    with pytest.raises(EndpointError) as caught:
        link_all(our_store, sparql)
    message = str(caught.value)
    assert closed_port_url in message
    assert "failed 3 time(s)" in message
    assert "cannot connect" in message
    assert "build is unchanged" in message
    assert sleeps == [1.0, 2.0]  # exponential backoff between the three attempts
    assert sparql.requests == 3


def test_server_error_is_retried_a_bounded_number_of_times(
    our_store: ox.Store, server_500: FailingServer
) -> None:
    sparql = client(server_500.url, retries=3)
    with pytest.raises(EndpointError, match="failed 4 time\\(s\\), last: HTTP 500"):
        link_all(our_store, sparql)
    assert len(server_500.requests) == 4
    assert server_500.requests[0] == "POST"


def test_a_refused_query_is_not_retried(our_store: ox.Store, server_400: FailingServer) -> None:
    with pytest.raises(EndpointError, match="refused the lookup \\(QueryBadFormed\\)"):
        link_all(our_store, client(server_400.url, retries=3))
    assert len(server_400.requests) == 1


def test_each_request_has_a_timeout(our_store: ox.Store, server_slow: FailingServer) -> None:
    with pytest.raises(EndpointError, match="no answer within 1 s"):
        link_all(our_store, client(server_slow.url, retries=1, timeout=0.5))
    assert len(server_slow.requests) == 2


def test_negative_retries_are_refused() -> None:
    with pytest.raises(ValueError, match="retries"):
        SparqlClient("http://127.0.0.1:9/sparql", timeout=1, retries=-1)


# --- federated queries: endpoint rewriting ------------------------------------------------------------
def test_with_insee_endpoint_rewrites_only_the_insee_service() -> None:
    query = (
        "SELECT * WHERE { SERVICE <http://rdf.insee.fr/sparql> { ?a ?b ?c } "
        "SERVICE SILENT <http://rdf.insee.fr/sparql> { ?d ?e ?f } SERVICE <http://other.example/sparql> { } }"
    )
    rewritten = with_insee_endpoint(query, "http://127.0.0.1:7878/query")
    assert rewritten.count("<http://127.0.0.1:7878/query>") == 2
    assert "SERVICE SILENT <http://127.0.0.1:7878/query>" in rewritten
    assert "<http://other.example/sparql>" in rewritten
    with pytest.raises(ValueError, match="not an http"):
        with_insee_endpoint(query, "http://x> } DROP ALL {")


# --- the command: the links are swapped into the build, or nothing changes ----------------------------------
ROOT = Path(__file__).resolve().parents[2]


def _graphs(build_dir: Path) -> dict[str, int]:
    store = ox.Store.read_only(str(build_dir / "current" / "store"))
    counts: dict[str, int] = {}
    for graph in store.named_graphs():
        assert isinstance(graph, ox.NamedNode)
        counts[graph.value] = len(list(store.quads_for_pattern(None, None, None, graph)))
    return counts


def _link(build_dir: Path, *flags: str) -> int:
    return main(["--root", str(ROOT), "--build-dir", str(build_dir), "-q", "link", "insee", *flags])


def test_link_insee_command_swaps_the_links_into_the_build(
    tmp_path: Path, iris: Iris, insee_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build_dir = tmp_path / "build"
    old = fake_build(build_dir, our_territories_graph(iris), iris)
    before = _graphs(build_dir)
    assert _link(build_dir, "--endpoint", insee_endpoint, "--retries", "0") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert f"INSEE lookup on {insee_endpoint}" in out
    assert "zones d'emploi 2020: 2 owl:sameAs" in out
    assert (build_dir / "current").resolve() != old
    after = _graphs(build_dir)
    links = str(iris.graph(GRAPH_NAME))
    assert set(after) == set(before) | {links}
    assert after[str(iris.graph("insee-territoires"))] == before[str(iris.graph("insee-territoires"))]
    store = ox.Store.read_only(str(build_dir / "current" / "store"))
    same = ox.NamedNode(str(OWL.sameAs))
    pairs = {(str(q.subject), str(q.object)) for q in store.quads_for_pattern(None, same, None, None)}
    assert (f"<{iris.ze2020('3205')}>", f"<{ZE2020_3205}>") in pairs
    manifest = json.loads((build_dir / "current" / "release.json").read_text(encoding="utf-8"))
    assert manifest["graphs"][GRAPH_NAME]["sources"] == [insee_endpoint]


def test_link_insee_command_offline_leaves_the_build_unchanged(
    tmp_path: Path, iris: Iris, closed_port_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    build_dir = tmp_path / "build"
    old = fake_build(build_dir, our_territories_graph(iris), iris)
    before = _graphs(build_dir)
    assert _link(build_dir, "--endpoint", closed_port_url, "--retries", "0", "--timeout", "2") == 1
    err = capsys.readouterr().err
    assert err.startswith("bassin-kg link: error: the SPARQL endpoint")
    assert "cannot connect" in err
    assert "the build is unchanged" in err
    assert (build_dir / "current").resolve() == old
    assert [p.name for p in (build_dir / "releases").iterdir()] == [old.name]
    assert _graphs(build_dir) == before


def test_link_insee_command_reads_endpoint_and_retries_from_the_environment(
    tmp_path: Path,
    iris: Iris,
    server_500: FailingServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_dir = tmp_path / "build"
    old = fake_build(build_dir, our_territories_graph(iris), iris)
    monkeypatch.setenv("BASSIN_KG_INSEE_ENDPOINT", server_500.url)
    monkeypatch.setenv("BASSIN_KG_INSEE_RETRIES", "1")
    monkeypatch.setattr("bassin_kg.sources.insee_links.time.sleep", no_sleep)
    assert _link(build_dir) == 1
    assert "failed 2 time(s), last: HTTP 500" in capsys.readouterr().err
    assert len(server_500.requests) == 2
    assert (build_dir / "current").resolve() == old


def test_link_insee_command_needs_a_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _link(tmp_path / "nothing", "--endpoint", "http://127.0.0.1:9/sparql") == 2
    assert "run `bassin-kg build` first" in capsys.readouterr().err
