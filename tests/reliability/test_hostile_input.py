"""Hostile requests, one by one: injection, script in the data, path traversal, huge and deeply nested
queries, SERVICE as a proxy, oversized bodies, slow clients, and the security headers of pages.

The app serves a SYNTHETIC published project (conftest.py) into which this module adds made-up hostile
labels; the over-the-wire cases use a real ``bassin-kg serve`` process on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

import bassin_kg.release.build as build_module
from bassin_kg.namespaces import Iris
from bassin_kg.queries import load_queries
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources import ontology
from bassin_kg.web.app import create_app
from serving import clean_env, cli

from .conftest import (
    REPO,
    Server,
    fast_build,
    make_project,
    start_server,
    synthetic_fap2009,
)

IRIS = Iris()
ZONE = str(IRIS.ze2010("3123"))
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"
RDFS_SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
HOSTILE_GRAPH = "http://example.org/graph/hostile"
JSON_RESULTS = "application/sparql-results+json"
SPARQL_QUERY = {"content-type": "application/sparql-query"}


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A published synthetic build, plus SYNTHETIC hostile labels and links on a zone and a new resource,
    and a dist/ listing its files the way ``publish`` does."""
    folder = tmp_path_factory.mktemp("hostile")
    root = make_project(folder / "project")
    settings = Settings(root=root, build_dir=folder / "build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
        )
        fast_build(settings)
    release = settings.current_release.resolve()
    store = ox.Store(str(release / "store"))
    graph = ox.NamedNode(HOSTILE_GRAPH)
    zone, evil = ox.NamedNode(ZONE), ox.NamedNode(str(IRIS.actor("evil")))
    store.extend(
        [
            ox.Quad(zone, ox.NamedNode(SKOS_LABEL), ox.Literal(SCRIPT, language="en"), graph),
            ox.Quad(zone, ox.NamedNode(RDFS_SEE_ALSO), ox.NamedNode("javascript:alert(1)"), graph),
            ox.Quad(evil, ox.NamedNode(SKOS_LABEL), ox.Literal(SCRIPT, language="fr"), graph),
            ox.Quad(evil, ox.NamedNode(RDFS_SEE_ALSO), ox.Literal(ATTRIBUTE), graph),
            ox.Quad(evil, ox.NamedNode(RDFS_SEE_ALSO), zone, graph),
        ]
    )
    store.flush()
    del store
    dist = release / "dist"
    (dist / "checksums.sha256").write_text("0" * 64 + "  bassin-minier.ttl\n", encoding="utf-8")
    return settings


@pytest.fixture(scope="module")
def client(hostile_project: Settings) -> Iterator[TestClient]:
    settings = hostile_project.replace(max_concurrent_queries=2, query_timeout=5.0)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server(hostile_project: Settings) -> Iterator[Server]:
    args = cli(
        "-q", "--root", str(hostile_project.root), "--build-dir", str(hostile_project.build_root), "serve"
    )
    yield from start_server(args, env=clean_env(BASSIN_KG_MAX_CONCURRENT_QUERIES="2"))


# --- SPARQL injection through named-query parameters --------------------------------------------------------
PAYLOADS = [
    '3123"} } ; DROP ALL ; SELECT * WHERE { {',
    "3123> } UNION { ?s ?p ?o } #",
    "3123 . ?s ?p ?o",
    "3123\n} UNION {?a ?b ?c}",
    "3123'",
    "0051%0A",
    "<http://example.org/x>",
    "x" * 600,
    "${territory}",
    "\\u0022",
]


def test_named_query_parameters_cannot_inject_sparql(client: TestClient) -> None:
    queries = load_queries(REPO / "queries")
    tried = 0
    for query in queries.values():
        for param in query.params:
            for payload in PAYLOADS:
                response = client.get(
                    f"/queries/{query.name}", params={param.name: payload}, headers={"accept": JSON_RESULTS}
                )
                tried += 1
                assert response.status_code == 400, (query.name, param.name, payload, response.text)
                assert "paramètre refusé" in response.text
                assert "DROP" not in response.text or "DROP" in payload
    assert tried > 50
    # the well-formed value is answered, and the store was not changed by any of the above
    ok = client.get(
        "/queries/swot-territoire", params={"territory": "3123"}, headers={"accept": JSON_RESULTS}
    )
    assert ok.status_code == 200
    assert ok.json()["results"]["bindings"]


def test_an_unknown_or_repeated_parameter_is_refused(client: TestClient) -> None:
    unknown = client.get(
        "/queries/swot-territoire?territory=3123&query=DROP%20ALL", headers={"accept": JSON_RESULTS}
    )
    assert unknown.status_code == 400
    twice = client.get(
        "/queries/swot-territoire?territory=3123&territory=3122", headers={"accept": JSON_RESULTS}
    )
    assert twice.status_code == 400


def test_updates_are_refused_on_the_public_endpoint(client: TestClient) -> None:
    response = client.post("/sparql", data={"update": "DROP ALL"})
    assert response.status_code == 403
    after = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"accept": JSON_RESULTS})
    assert after.json()["boolean"] is True


# --- script in the data -------------------------------------------------------------------------------------
def _assert_escaped(html: str) -> None:
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert 'href="javascript:' not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_labels_from_the_data_are_escaped_in_pages(client: TestClient) -> None:
    for path in ("/id/territoire/ze2010/3123", "/id/acteur/evil"):
        response = client.get(path, headers={"accept": "text/html"})
        assert response.status_code == 200, path
        _assert_escaped(response.text)


def test_labels_are_escaped_in_html_query_results(client: TestClient) -> None:
    query = f"SELECT ?label WHERE {{ GRAPH <{HOSTILE_GRAPH}> {{ ?s ?p ?label }} }}"
    response = client.get("/query", params={"query": query}, headers={"accept": "text/html"})
    assert response.status_code == 200
    _assert_escaped(response.text)


def test_parameters_echoed_in_error_pages_are_escaped(client: TestClient) -> None:
    response = client.get(
        "/queries/swot-territoire", params={"territory": SCRIPT}, headers={"accept": "text/html"}
    )
    assert response.status_code == 400
    _assert_escaped(response.text)
    missing = client.get(f"/id/{quote(SCRIPT, safe='')}", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert SCRIPT not in missing.text


# --- path traversal -----------------------------------------------------------------------------------------
TRAVERSALS = [
    "/id/..%2f..%2f..%2fetc%2fpasswd",
    "/id/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/id/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
    "/id/territoire/..%5c..%5cetc%5cpasswd",
    "/dist/..%2f..%2f..%2fetc%2fpasswd",
    "/dist/%2e%2e/store/CURRENT",
    "/dist/..%2frelease.json",
    "/dist/%2fetc%2fpasswd",
    "/static/..%2f..%2fapp.py",
    "/static/%2e%2e/%2e%2e/app.py",
    "/def.%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/queries/..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code in (400, 404), response.text[:200]
    assert "root:" not in response.text
    assert "import" not in response.text  # no Python source
    assert '"graphs"' not in response.text  # no release manifest


def test_listed_dist_files_are_served(client: TestClient) -> None:
    assert client.get("/dist/bassin-minier.ttl").status_code == 200
    assert client.get("/dist/bassin-minier.nq").status_code == 404  # not listed in checksums.sha256


def _raw_get(server: Server, target: str) -> bytes:
    """A request line sent as written (an HTTP client library would normalise the ``..``)."""
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize(
    "target", ["/id/../../../../etc/passwd", "/dist/../../../etc/passwd", "/static/../app.py"]
)
def test_raw_dot_segments_over_the_wire(server: Server, target: str) -> None:
    answer = _raw_get(server, target)
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 404)
    assert b"root:" not in answer
    assert b"import" not in answer


# --- huge and deeply nested queries -------------------------------------------------------------------------
def test_a_1mb_query_is_413(client: TestClient, hostile_project: Settings) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 1_000_000
    by_post = client.post("/sparql", content=query, headers=SPARQL_QUERY)
    assert by_post.status_code == 413
    by_form = client.post("/sparql", data={"query": query})
    assert by_form.status_code == 413
    # in URLs: the HTTP client stops at 64 kB, so the limit is lowered to show the same answer
    small = hostile_project.replace(max_request_bytes=20_000, max_concurrent_queries=1)
    with TestClient(create_app(small)) as limited:
        long_query = query[:50_000]
        assert limited.get("/sparql", params={"query": long_query}).status_code == 413
        page = limited.get("/query", params={"query": long_query}, headers={"accept": "text/html"})
        assert page.status_code == 413
        named = limited.get("/queries/swot-territoire", params={"territory": long_query})
        assert named.status_code == 413


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE " + "{" * 5000 + " ?s ?p ?o " + "}" * 5000,
        "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }",
        "SELECT * WHERE { ?s ?p " + "[ ?p " * 5000 + "1" + " ]" * 5000 + " }",
        "SELECT * WHERE " + "{" * 100_000,  # unbalanced
    ],
    ids=["groups", "parentheses", "blank-nodes", "unbalanced"],
)
def test_a_deeply_nested_query_is_400_and_the_workers_survive(client: TestClient, query: str) -> None:
    engine = client.app.state.sparql.engine.current()  # type: ignore[attr-defined]
    workers = [w.process.pid for w in engine._workers.values()]
    response = client.post("/sparql", content=query, headers=SPARQL_QUERY)
    assert response.status_code == 400
    assert "nested more than" in response.text
    # the query never reached a worker: none crashed (a stack overflow would have killed one)
    assert [w.process.pid for w in engine._workers.values()] == workers
    assert all(w.process.poll() is None for w in engine._workers.values())
    assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_reasonable_nesting_is_still_answered(client: TestClient) -> None:
    query = "SELECT * WHERE " + "{" * 50 + " ?s ?p ?o " + "}" * 50 + " LIMIT 1"
    assert client.get("/sparql", params={"query": query}).status_code == 200


# --- SERVICE: off by default, an allow-list when on ---------------------------------------------------------
class _StandIn(http.server.BaseHTTPRequestHandler):
    """A SYNTHETIC remote SPARQL endpoint: answers one made-up row and records who called it."""

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self._answer()

    def _answer(self) -> None:
        self.server.hits.append(self.path)  # type: ignore[attr-defined]
        body = json.dumps(
            {
                "head": {"vars": ["x"]},
                "results": {"bindings": [{"x": {"type": "literal", "value": "remote"}}]},
            }
        ).encode()
        self.send_response(200)
        self.send_header("content-type", JSON_RESULTS)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stand_ins() -> Iterator[list[http.server.ThreadingHTTPServer]]:
    servers = []
    for _ in range(2):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
        server.hits = []  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


def _service_query(target: str, prefix: str = "") -> str:
    return prefix + f"SELECT ?x WHERE {{ SERVICE {target} {{ ?s ?p ?x }} }}"


def _bypasses(allowed: str, other: str) -> list[str]:
    """Ways to write a SERVICE call to ``other`` that a naive check would miss or take for ``allowed``."""
    return [
        _service_query(f"<http://{other}/sparql>"),
        _service_query(f"<http://{other}/sparql>").replace("SERVICE", "service"),
        _service_query(f"<http://{other}\\u002Fsparql>"),
        _service_query(f"<http://{other}\\u002F@{allowed}/sparql>"),
        _service_query("x:sparql", f"PREFIX x: <http://{other}/> "),
        _service_query("x:\\@", f"PREFIX x: <http://{other}\\u002F> "),
        # text before the call that a naive lexer would take for the start of a comment
        f"SELECT * {{ BIND(<http://a\\u0041#> AS ?y) SERVICE <http://{other}/sparql> {{ ?s ?p ?x }} }}",
        f"PREFIX e: <http://e/> SELECT * {{ BIND(e:a\\# AS ?y) SERVICE <http://{other}/> {{ ?s ?p ?x }} }}",
        f"SELECT ?x WHERE {{ BIND(<http://{other}/sparql> AS ?e) SERVICE ?e {{ ?s ?p ?x }} }}",
        f"SELECT ?x WHERE {{ SERVICE SILENT <http://{other}/sparql> {{ ?s ?p ?x }} }}",
    ]


def test_service_is_refused_by_default(
    hostile_project: Settings, stand_ins: list[http.server.ThreadingHTTPServer]
) -> None:
    target = f"127.0.0.1:{stand_ins[0].server_address[1]}"
    with TestClient(create_app(hostile_project.replace(max_concurrent_queries=1))) as client:
        for query in [_service_query(f"<http://{target}/sparql>"), *_bypasses("example.org", target)]:
            response = client.post("/sparql", content=query, headers=SPARQL_QUERY)
            assert response.status_code == 400, (query, response.text)
            assert "SERVICE" in response.text
    assert stand_ins[0].hits == []  # type: ignore[attr-defined]


def test_service_reaches_only_the_allow_listed_endpoint(
    hostile_project: Settings, stand_ins: list[http.server.ThreadingHTTPServer]
) -> None:
    allowed, other = (f"127.0.0.1:{s.server_address[1]}" for s in stand_ins)
    settings = hostile_project.replace(max_concurrent_queries=1, service_allowlist=(allowed,))
    with TestClient(create_app(settings)) as client:
        answer = client.post(
            "/sparql",
            content=_service_query(f"<http://{allowed}/sparql>"),
            headers={"content-type": "application/sparql-query", "accept": JSON_RESULTS},
        )
        assert answer.status_code == 200, answer.text
        assert [b["x"]["value"] for b in answer.json()["results"]["bindings"]] == ["remote"]
        for query in _bypasses(allowed, other):
            response = client.post("/sparql", content=query, headers=SPARQL_QUERY)
            assert response.status_code == 400, (query, response.text)
    assert len(stand_ins[0].hits) == 1  # type: ignore[attr-defined]
    assert stand_ins[1].hits == []  # type: ignore[attr-defined]


# --- oversized bodies and slow clients, over the wire -------------------------------------------------------
def test_oversized_bodies_are_413_and_the_server_goes_on(server: Server) -> None:
    big = b"x" * 1_100_000
    response = httpx.post(server.endpoint, content=big, headers=SPARQL_QUERY, timeout=30)
    assert response.status_code == 413
    assert "larger than 1000000 bytes" in response.text
    # a declared length far beyond the limit is refused before any of the body is read
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 1000000000000\r\n\r\nSELECT"
        )
        assert sock.recv(1024).startswith(b"HTTP/1.1 413")
    graph_store = httpx.put(
        server.url + "/rdf-graphs/service?default",
        content=big,
        headers={"content-type": "text/turtle"},
        timeout=30,
    )
    assert graph_store.status_code in (403, 413)
    assert server.counts()[1]


def test_slow_clients_do_not_block_the_others(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    body = b"SELECT * WHERE { ?s ?p ?o } LIMIT 1"
    slow = []
    for _ in range(20):  # slow uploads: headers, then the body a byte at a time
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        slow.append(sock)
    for _ in range(20):  # and slow request heads (slowloris)
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(sock)
    try:
        with httpx.Client(timeout=10) as other:
            for i in range(len(body)):
                for sock in slow[:20]:
                    sock.sendall(body[i : i + 1])
                if i % 5 == 0:
                    started = time.monotonic()
                    response = other.get(server.endpoint, params={"query": f"ASK {{ }} # {i}"})
                    assert response.status_code == 200
                    assert time.monotonic() - started < 1.0, "a slow client held up another request"
                time.sleep(0.01)
        # the slow uploads were answered once complete
        for sock in slow[:20]:
            answer = sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:100]
    finally:
        for sock in slow:
            sock.close()


# --- security headers ---------------------------------------------------------------------------------------
HTML_PATHS = [
    "/",
    "/id/territoire/ze2010/3123",
    "/id/acteur/evil",
    "/id/does/not/exist",
    "/id/..%2f..%2fetc",
    "/def",
    "/query",
    "/query?query=SELECT%20nonsense",
    "/queries/",
    "/queries/swot-territoire",
    "/queries/swot-territoire?territory=9999999",
    "/queries/no-such-query",
    "/sparql",
    "/id/territoire/bassin-minier",
    "/trajectoire/ze2010/3123",
    "/trajectoire/ze2010/..%2f",
    "/catalog",
    "/dist/",
]


@pytest.mark.parametrize("path", HTML_PATHS)
def test_every_html_response_has_the_security_headers(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"accept": "text/html"})
    assert response.headers["content-type"].startswith("text/html"), (path, response.status_code)
    csp = response.headers.get("content-security-policy", "")
    assert "default-src" in csp
    assert "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert response.headers.get("referrer-policy")


def test_non_html_answers_are_not_sniffed(client: TestClient) -> None:
    for path in (
        "/sparql?query=ASK%20%7B%7D",
        "/dist/bassin-minier.ttl",
        "/openapi.json",
        "/static/style.css",
    ):
        response = client.get(path)
        assert response.headers.get("x-content-type-options") == "nosniff", path
