"""Real engines: push the build to Virtuoso (Debian's ``virtuoso-opensource``) and to Oxigraph server, then
serve it through ``--sparql-endpoint`` and compare every named query's rows and the pages with the
embedded store's.

Virtuoso is not skipped when missing: CI installs it (``make engines``); locally the fixture fails and
says how to install it.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg.publish import remote
from bassin_kg.publish.remote import PushReport, Remote, State, derive, push
from bassin_kg.queries import load_queries
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only
from bassin_kg.web.app import create_app
from serving import VIRTUOSO_DBA, Running, Virtuoso, bassin_kg_server, clean_env, cli, oxigraph_server
from serving import virtuoso_server as start_virtuoso

JSON_RESULTS = "application/sparql-results+json"
#: query timeout of the compared servers: the comparison is about rows, not speed (CI machines get loaded)
SLOW = 120.0


def local_counts(store_path: Path) -> dict[str, int]:
    store = open_read_only(store_path)
    rows = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(rows, ox.QuerySolutions)
    return {str(row["g"].value): int(str(row["n"].value)) for row in rows if row["g"] and row["n"]}


def virtuoso_remote(server: Virtuoso, *, password: str = VIRTUOSO_DBA[1], digest: bool = True) -> Remote:
    store_url = server.url + "/sparql-graph-crud-auth"
    query_url, update_url = derive(store_url, None, None)
    return Remote(store_url, query_url, update_url, user=VIRTUOSO_DBA[0], token=password, digest=digest)


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    with start_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        yield server


@pytest.fixture(scope="module")
def virtuoso_pushed(built: Settings, virtuoso: Virtuoso) -> PushReport:
    """The build pushed to Virtuoso with Digest authentication (its ``/sparql-graph-crud-auth``)."""
    report = push(built.store_path, virtuoso_remote(virtuoso))
    assert report.ok, report.summary()
    return report


@pytest.fixture(scope="module")
def oxigraph_pushed(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A real Oxigraph server holding the build, pushed through its staging graphs and the copy update."""
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph") / "store") as server:
        query_url, update_url = derive(server.url + "/store", None, None)
        report = push(built.store_path, Remote(server.url + "/store", query_url, update_url))
        assert report.ok, report.summary()
        yield server


@pytest.fixture(scope="module")
def embedded(built: Settings) -> Iterator[TestClient]:
    """The same build served from the embedded store: the reference every engine is compared with."""
    with TestClient(create_app(built.replace(query_timeout=SLOW))) as client:
        yield client


# --- push -----------------------------------------------------------------------------------------------
def test_push_to_virtuoso_with_digest_is_verified_and_repeatable(
    built: Settings, virtuoso: Virtuoso, virtuoso_pushed: PushReport
) -> None:
    local = local_counts(built.store_path)
    assert {g.iri: g.server_triples for g in virtuoso_pushed.graphs} == local
    again = push(built.store_path, virtuoso_remote(virtuoso))  # replaces, never adds
    assert again.ok, again.summary()
    assert {g.iri: g.server_triples for g in again.graphs} == local


@pytest.mark.parametrize("digest", [True, False], ids=["digest-wrong-password", "basic-on-digest-endpoint"])
def test_refused_credentials_are_reported_as_not_pushed(
    built: Settings, virtuoso: Virtuoso, virtuoso_pushed: PushReport, digest: bool
) -> None:
    # Virtuoso answers 401 and closes while the body (up to MBs) is still being sent: the answer is read
    password = "wrong" if digest else VIRTUOSO_DBA[1]
    report = push(built.store_path, virtuoso_remote(virtuoso, password=password, digest=digest))
    assert {g.state for g in report.graphs} == {State.NOT_PUSHED}
    for graph in report.graphs:
        assert "HTTP 401" in graph.detail, graph.detail
        assert "refused credentials" in graph.detail
        assert f"checked: it still holds its {graph.triples} triples" in graph.detail
    assert "Broken pipe" not in report.summary()


def test_a_failed_put_that_changed_the_graph_is_reported_damaged(
    virtuoso: Virtuoso, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SYNTHETIC: one graph of 2,500 made-up triples, pushed whole, then with a syntax error at its end
    graph = "http://example.org/graph/damaged"
    path = tmp_path / "store"
    store = ox.Store(str(path))
    store.extend(
        ox.Quad(
            ox.NamedNode(f"http://example.org/s{i}"),
            ox.NamedNode("http://example.org/p"),
            ox.Literal(f"v{i}"),
            ox.NamedNode(graph),
        )
        for i in range(2500)
    )
    store.flush()
    del store
    assert push(path, virtuoso_remote(virtuoso)).ok
    _virtuoso_update(virtuoso, f"DELETE WHERE {{ GRAPH <{graph}> {{ <http://example.org/s1> ?p ?o }} }}")
    real = remote.graph_payload
    monkeypatch.setattr(remote, "graph_payload", lambda s, g: real(s, g) + b"<broken")
    report = push(path, virtuoso_remote(virtuoso))

    # Virtuoso's PUT is not transactional: it loads what it parsed before failing (500)
    counted = _virtuoso_count(virtuoso, graph)
    assert counted != 2499
    [result] = report.graphs
    assert result.state is State.DAMAGED, result.detail
    assert "HTTP 500" in result.detail
    assert f"{counted} triples, 2499 before" in result.detail
    assert "1 DAMAGED" in report.summary()
    assert "push again before serving them" in report.summary()


def _virtuoso_update(server: Virtuoso, update: str) -> None:
    answer = httpx.post(
        server.url + "/sparql-auth",
        data={"update": update},
        auth=httpx.DigestAuth(*VIRTUOSO_DBA),
        timeout=30,
    )
    answer.raise_for_status()


def _virtuoso_count(server: Virtuoso, graph: str) -> int:
    answer = httpx.post(
        server.endpoint,
        data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": JSON_RESULTS},
        timeout=30,
    )
    answer.raise_for_status()
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


# --- serve --sparql-endpoint ----------------------------------------------------------------------------
def _rows(body: bytes) -> object:
    results = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(results, ox.QueryBoolean):
        return bool(results)
    names = [v.value for v in results.variables]
    return sorted(tuple(str(s[n]) if s[n] is not None else "" for n in names) for s in results)


def _page_links(html: str) -> list[str]:
    return sorted(set(re.findall(r'href="(/id/[^"#?]+)"', html)))


@pytest.mark.parametrize("engine", ["virtuoso", "oxigraph"])
def test_served_from_the_engine_like_from_the_embedded_store(
    built: Settings, embedded: TestClient, request: pytest.FixtureRequest, engine: str
) -> None:
    if engine == "virtuoso":
        request.getfixturevalue("virtuoso_pushed")
        endpoint = request.getfixturevalue("virtuoso").endpoint
    else:
        endpoint = request.getfixturevalue("oxigraph_pushed").url + "/query"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        settings = built.replace(sparql_endpoint=endpoint, query_timeout=SLOW)
        with TestClient(create_app(settings)) as fronting:
            compared = 0
            for query in load_queries(built.root / "queries").values():
                if "SERVICE" in query.text:
                    continue  # federated (INSEE): refused by both, nothing of ours to compare
                for example in query.examples or ({},):
                    path = f"/queries/{query.name}"
                    ours = embedded.get(path, params=example, headers={"Accept": JSON_RESULTS})
                    theirs = fronting.get(path, params=example, headers={"Accept": JSON_RESULTS})
                    assert ours.status_code == theirs.status_code == 200, (query.name, theirs.text)
                    assert _rows(theirs.content) == _rows(ours.content), (query.name, example)
                    compared += 1
            assert compared >= 10

            count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"  # the default graph: our graphs, merged
            answers = [
                c.get("/sparql", params={"query": count}, headers={"Accept": JSON_RESULTS})
                for c in (embedded, fronting)
            ]
            assert _rows(answers[1].content) == _rows(answers[0].content)

            home = embedded.get("/").text
            territory = embedded.get("/id/territoire/ze2010/3123").text
            pages = ["/", "/def", "/queries/", "/.well-known/void", "/catalog"]
            pages += (_page_links(home) + _page_links(territory))[:25]
            for page in pages:
                ours, theirs = embedded.get(page), fronting.get(page)
                assert (theirs.status_code, theirs.text) == (ours.status_code, ours.text), page


def test_bassin_kg_serve_with_sparql_endpoint(
    built: Settings, virtuoso: Virtuoso, virtuoso_pushed: PushReport
) -> None:
    command = cli("--root", str(built.root), "--build-dir", str(built.build_root), "serve")
    env = clean_env(BASSIN_KG_SPARQL_ENDPOINT=virtuoso.endpoint, BASSIN_KG_QUERY_TIMEOUT=str(SLOW))
    with bassin_kg_server(command, env=env) as server:
        page = httpx.get(server.url + "/id/territoire/ze2010/3123", timeout=SLOW)
        assert page.status_code == 200
        assert "Béthune" in page.text or "3123" in page.text
        graphs = httpx.get(
            server.endpoint,
            params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
            headers={"Accept": JSON_RESULTS},
            timeout=30,
        )
        # GRAPH ?g sees the release's graphs only, not Virtuoso's own system graphs
        assert {row["g"]["value"] for row in graphs.json()["results"]["bindings"]} == set(
            local_counts(built.store_path)
        )
