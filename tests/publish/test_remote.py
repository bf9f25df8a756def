"""``publish --to``: push to a real Oxigraph server and verify; a failing server: retries, a clear report."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from bassin_kg.cli import main
from bassin_kg.errors import UsageError
from bassin_kg.publish import remote
from bassin_kg.publish.remote import Remote, derive, push
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only
from serving import oxigraph_graphs, oxigraph_put

from .conftest import FlakyStore

# SYNTHETIC: what the server held before the push
STALE = (
    b'<http://example.org/stale> <http://example.org/p> "old" .\n'
    b'<http://example.org/stale> <http://example.org/p> "older" .\n'
)


def _local_graphs(store_path: Path) -> dict[str, int]:
    store = open_read_only(store_path)
    rows = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    assert isinstance(rows, ox.QuerySolutions)
    return {str(row["g"].value): int(str(row["n"].value)) for row in rows if row["g"] and row["n"]}


def test_derive_knows_oxigraph_fuseki_and_virtuoso() -> None:
    assert derive("http://h:7878/store", None, None) == ("http://h:7878/query", "http://h:7878/update")
    assert derive("http://h:3030/ds/data", None, None) == ("http://h:3030/ds/query", None)
    assert derive("http://h:8890/sparql-graph-crud-auth", None, None) == ("http://h:8890/sparql", None)
    assert derive("http://h/gsp", "http://h/q", None) == ("http://h/q", None)
    with pytest.raises(UsageError, match="--query-url"):
        derive("http://h/gsp", None, None)
    with pytest.raises(UsageError, match="not an http"):
        derive("ftp://h/store", None, None)


def test_push_to_a_real_oxigraph_server_replaces_each_graph(built: Settings, oxigraph_server: str) -> None:
    deck = "https://w3id.org/bassin-minier/id/graph/deck"
    unrelated = "http://example.org/graph/someone-elses"
    oxigraph_put(oxigraph_server, deck, STALE)
    oxigraph_put(oxigraph_server, unrelated, STALE)
    query_url, update_url = derive(oxigraph_server + "/store", None, None)
    report = push(built.store_path, Remote(oxigraph_server + "/store", query_url, update_url, timeout=30))
    assert report.ok, report.summary()
    local = _local_graphs(built.store_path)
    assert oxigraph_graphs(oxigraph_server) == {**local, unrelated: 2}  # no staging graph left behind
    assert {g.iri: g.server_triples for g in report.graphs} == local
    assert f"{len(local)} graph(s) pushed, 0 not pushed" in report.summary()


def test_a_graph_that_fails_keeps_its_old_content_on_the_real_server(
    built: Settings, oxigraph_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deck = "https://w3id.org/bassin-minier/id/graph/deck"
    oxigraph_put(oxigraph_server, deck, STALE)
    real = remote.graph_payload

    def truncated(store: ox.Store, graph: ox.NamedNode) -> bytes:
        data = real(store, graph)
        # the deck's body breaks half-way, as a cut upload would: the server refuses it (400)
        return data[: len(data) // 2] + b"<broken" if graph.value == deck else data

    monkeypatch.setattr(remote, "graph_payload", truncated)
    query_url, update_url = derive(oxigraph_server + "/store", None, None)
    report = push(built.store_path, Remote(oxigraph_server + "/store", query_url, update_url, timeout=30))
    assert not report.ok
    failed = [g for g in report.graphs if not g.ok]
    assert [g.iri for g in failed] == [deck]
    assert "HTTP 400" in failed[0].detail
    on_server = oxigraph_graphs(oxigraph_server)
    assert on_server[deck] == 2  # the old graph, whole: never half-replaced
    local = _local_graphs(built.store_path)
    assert {g: n for g, n in on_server.items() if g != deck} == {g: n for g, n in local.items() if g != deck}
    assert f"NOT pushed deck <{deck}>" in report.summary()


def test_failing_server_is_retried_then_reported(
    built: Settings,
    flaky_store: FlakyStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deck = "https://w3id.org/bassin-minier/id/graph/deck"
    flaky_store.failing.add(deck)
    monkeypatch.setenv("BASSIN_KG_PUBLISH_TOKEN", "s3cret")
    code = main(
        [
            "--root",
            str(built.root),
            "--build-dir",
            str(built.build_root),
            "-q",
            "publish",
            "--to",
            flaky_store.url,
            "--retries",
            "2",
            "--timeout",
            "5",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert flaky_store.requests.count(("PUT", deck)) == 3  # one try and two retries, then it gives up
    assert f"NOT pushed deck <{deck}>" in out
    assert "HTTP 500" in out
    assert "after 3 attempt(s)" in out
    local = _local_graphs(built.store_path)
    assert flaky_store.graphs == {g: n for g, n in local.items() if g != deck}  # the others went through
    assert f"{len(local) - 1} graph(s) pushed, 1 not pushed" in out
    assert set(flaky_store.authorizations) == {"Bearer s3cret"}


def test_basic_auth_with_user(flaky_store: FlakyStore) -> None:
    client = remote.Client(Remote(flaky_store.url, flaky_store.url, user="alice", token="pw"))
    client.put(
        "http://example.org/g", b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"
    )
    assert flaky_store.authorizations == ["Basic YWxpY2U6cHc="]


def test_digest_credentials_cover_the_query_url_too(built: Settings, flaky_store: FlakyStore) -> None:
    # every request needs Digest, the count queries to /ds/query as much as the PUTs to /ds/data
    flaky_store.digest = ("alice", "pw")
    query_url, _ = derive(flaky_store.url, None, None)
    report = push(built.store_path, Remote(flaky_store.url, query_url, user="alice", token="pw", digest=True))
    assert report.ok, report.summary()
    assert flaky_store.graphs == _local_graphs(built.store_path)
    # the challenge's nonce is reused: only the very first request goes out unsigned (and is refused)
    assert flaky_store.authorizations.count("") == 1


def test_a_401_sent_while_the_body_is_still_going_is_read_and_reported(
    built: Settings, flaky_store: FlakyStore
) -> None:
    # the server answers 401 and closes without reading the body (Virtuoso does): not a "broken pipe"
    flaky_store.digest = ("alice", "pw")
    flaky_store.refuse_early = True
    query_url, _ = derive(flaky_store.url, None, None)
    bad = Remote(flaky_store.url, query_url, user="alice", token="wrong", digest=True, retries=0)
    report = push(built.store_path, bad)
    assert {g.state for g in report.graphs} == {remote.State.NOT_PUSHED}
    assert all("HTTP 401" in g.detail and "refused credentials" in g.detail for g in report.graphs)
    good = Remote(flaky_store.url, query_url, user="alice", token="pw", digest=True)
    assert push(built.store_path, good).ok


def test_the_copy_update_replaces_the_target_and_drops_the_staging_graph() -> None:
    store = ox.Store()
    target, staging = ox.NamedNode("http://example.org/t"), ox.NamedNode("http://example.org/t-staging-1")
    p = ox.NamedNode("http://example.org/p")
    store.add(ox.Quad(p, p, ox.Literal("old"), target))
    store.extend(ox.Quad(p, p, ox.Literal(f"new{i}"), staging) for i in range(3))
    store.update(remote.copy_update(staging.value, target.value))
    assert sorted(str(q.object) for q in store.quads_for_pattern(None, None, None, target)) == [
        '"new0"',
        '"new1"',
        '"new2"',
    ]
    assert list(store.quads_for_pattern(None, None, None, staging)) == []
