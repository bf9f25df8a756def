"""The SPARQL 1.1 Protocol on /sparql, behaviour by behaviour (status, Content-Type, body).

The store is the synthetic one of conftest.py: 3 triples in ALPHA, 2 in BETA.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from bassin_kg.web.sparql import SparqlService

from .conftest import ALPHA, BETA, EX, ClientFactory, write_store

SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"
JSON_RESULTS = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"


def rows(response_json: dict[str, object]) -> list[dict[str, dict[str, str]]]:
    results = response_json["results"]
    assert isinstance(results, dict)
    bindings = results["bindings"]
    assert isinstance(bindings, list)
    return bindings


def subjects(client: TestClient, query: str, **params: str | list[str]) -> set[str]:
    response = client.get("/sparql", params={"query": query, **params})
    assert response.status_code == 200, response.text
    return {row["s"]["value"] for row in rows(response.json())}


class TestQueryMethods:
    def test_get(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL})
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON_RESULTS
        assert len(rows(response.json())) == 5

    def test_post_form(self, client: TestClient) -> None:
        response = client.post("/sparql", data={"query": SELECT_ALL})
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON_RESULTS
        assert len(rows(response.json())) == 5

    def test_post_direct(self, client: TestClient) -> None:
        response = client.post(
            "/sparql", content=SELECT_ALL.encode(), headers={"content-type": "application/sparql-query"}
        )
        assert response.status_code == 200
        assert len(rows(response.json())) == 5

    def test_post_direct_with_charset_and_dataset_in_url(self, client: TestClient) -> None:
        response = client.post(
            "/sparql",
            params={"default-graph-uri": BETA},
            content=b"SELECT ?s WHERE { ?s ?p ?o }",
            headers={"content-type": "application/sparql-query; charset=UTF-8"},
        )
        assert response.status_code == 200
        assert {r["s"]["value"] for r in rows(response.json())} == {EX + "a", EX + "c"}

    def test_ask(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": f"ASK {{ <{EX}c> ?p ?o }}"})
        assert response.status_code == 200
        assert response.json() == {"head": {}, "boolean": True}

    def test_head_answers_like_get(self, client: TestClient) -> None:
        response = client.head("/sparql", params={"query": SELECT_ALL})
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON_RESULTS


class TestDataset:
    def test_default_graph_is_the_union_of_named_graphs(self, client: TestClient) -> None:
        assert subjects(client, SELECT_ALL) == {EX + "a", EX + "b", EX + "c"}

    def test_default_graph_uri(self, client: TestClient) -> None:
        assert subjects(client, SELECT_ALL, **{"default-graph-uri": ALPHA}) == {EX + "a", EX + "b"}

    def test_several_default_graph_uris_are_merged(self, client: TestClient) -> None:
        found = subjects(client, SELECT_ALL, **{"default-graph-uri": [ALPHA, BETA]})
        assert found == {EX + "a", EX + "b", EX + "c"}

    def test_named_graph_uri_limits_graph_and_empties_default(self, client: TestClient) -> None:
        query = "SELECT ?g ?s WHERE { GRAPH ?g { ?s ?p ?o } }"
        response = client.get("/sparql", params={"query": query, "named-graph-uri": BETA})
        assert {r["g"]["value"] for r in rows(response.json())} == {BETA}
        assert subjects(client, SELECT_ALL, **{"named-graph-uri": BETA}) == set()

    def test_from_in_the_query_is_honoured(self, client: TestClient) -> None:
        query = f"SELECT ?s FROM <{BETA}> WHERE {{ ?s ?p ?o }}"
        assert subjects(client, query) == {EX + "a", EX + "c"}

    def test_from_named_in_the_query_is_honoured(self, client: TestClient) -> None:
        query = f"SELECT ?s FROM NAMED <{ALPHA}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
        assert subjects(client, query) == {EX + "a", EX + "b"}

    def test_protocol_dataset_takes_precedence_over_from(self, client: TestClient) -> None:
        query = f"SELECT ?s FROM <{BETA}> WHERE {{ ?s ?p ?o }}"
        assert subjects(client, query, **{"default-graph-uri": ALPHA}) == {EX + "a", EX + "b"}

    def test_from_inside_a_string_is_not_a_dataset(self, client: TestClient) -> None:
        query = 'SELECT ?s WHERE { ?s ?p ?o FILTER(?o != "FROM <x>") }'
        assert subjects(client, query) == {EX + "a", EX + "b", EX + "c"}

    def test_bad_graph_iri_is_a_400(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL, "default-graph-uri": "not an iri"})
        assert response.status_code == 400
        assert "default-graph-uri" in response.text


class TestResultFormats:
    @pytest.mark.parametrize(
        ("accept", "content_type"),
        [
            ("application/sparql-results+json", "application/sparql-results+json"),
            ("application/json", "application/sparql-results+json"),
            ("application/sparql-results+xml", "application/sparql-results+xml"),
            ("text/csv", "text/csv; charset=utf-8"),
            ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
        ],
    )
    def test_select_formats(self, client: TestClient, accept: str, content_type: str) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        if accept == "text/csv":  # lossy: pyoxigraph does not read it back
            assert len(list(csv.reader(io.StringIO(response.text)))) == 1 + 5
            return
        parsed = ox.parse_query_results(
            response.content, format=ox.QueryResultsFormat.from_media_type(accept)
        )
        assert isinstance(parsed, ox.QuerySolutions)
        assert len(list(parsed)) == 5

    def test_csv_body(self, client: TestClient) -> None:
        query = f"SELECT ?o WHERE {{ <{EX}a> <http://www.w3.org/2000/01/rdf-schema#label> ?o }}"
        response = client.get("/sparql", params={"query": query}, headers={"accept": "text/csv"})
        assert list(csv.reader(io.StringIO(response.text))) == [["o"], ["Alpha"]]

    def test_ask_as_xml(self, client: TestClient) -> None:
        response = client.get(
            "/sparql",
            params={"query": "ASK { ?s ?p 42 }"},
            headers={"accept": "application/sparql-results+xml"},
        )
        assert response.status_code == 200
        assert "<boolean>false</boolean>" in response.text

    @pytest.mark.parametrize(
        ("accept", "rdflib_format"),
        [
            ("text/turtle", "turtle"),
            ("application/n-triples", "nt"),
            ("application/n-quads", "nquads"),
            ("application/rdf+xml", "xml"),
            ("application/ld+json", "json-ld"),
        ],
    )
    def test_construct_formats(self, client: TestClient, accept: str, rdflib_format: str) -> None:
        response = client.get("/sparql", params={"query": CONSTRUCT_ALL}, headers={"accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == accept
        rdf_format = ox.RdfFormat.from_media_type(accept)
        assert rdf_format is not None
        assert len(list(ox.parse(response.content, format=rdf_format))) == 5
        if rdflib_format == "json-ld":  # rdflib's JSON-LD parser warns of its own deprecations
            assert isinstance(json.loads(response.content), list)
        elif rdflib_format != "nquads":  # and another parser agrees
            assert len(rdflib.Graph().parse(data=response.content, format=rdflib_format)) == 5

    def test_turtle_uses_prefixes(self, client: TestClient) -> None:
        response = client.get(
            "/sparql",
            params={
                "query": f"CONSTRUCT WHERE {{ <{EX}a> <http://www.w3.org/2000/01/rdf-schema#label> ?o }}"
            },
            headers={"accept": "text/turtle"},
        )
        assert "rdfs:label" in response.text

    def test_describe(self, client: TestClient) -> None:
        response = client.get(
            "/sparql", params={"query": f"DESCRIBE <{EX}a>"}, headers={"accept": "text/turtle"}
        )
        assert response.status_code == 200
        graph = rdflib.Graph().parse(data=response.text, format="turtle")
        assert set(graph.subjects()) == {rdflib.URIRef(EX + "a")}
        assert len(graph) == 3


class TestNegotiation:
    def accept(self, client: TestClient, accept: str, query: str = SELECT_ALL) -> str:
        response = client.get("/sparql", params={"query": query}, headers={"accept": accept})
        assert response.status_code == 200, response.text
        return str(response.headers["content-type"]).split(";")[0]

    def test_q_values(self, client: TestClient) -> None:
        assert self.accept(client, "text/csv;q=0.5, application/sparql-results+xml;q=0.9") == (
            "application/sparql-results+xml"
        )

    def test_q_zero_excludes_despite_wildcard(self, client: TestClient) -> None:
        assert self.accept(client, "text/*, text/csv;q=0") == "text/tab-separated-values"

    def test_text_wildcard(self, client: TestClient) -> None:
        assert self.accept(client, "text/*") == "text/csv"
        assert self.accept(client, "text/*", CONSTRUCT_ALL) == "text/turtle"

    def test_any(self, client: TestClient) -> None:
        assert self.accept(client, "*/*") == JSON_RESULTS
        assert self.accept(client, "*/*", CONSTRUCT_ALL) == "text/turtle"

    def test_browser_accept_gets_a_format(self, client: TestClient) -> None:
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        assert self.accept(client, browser) == "application/sparql-results+xml"

    @pytest.mark.parametrize(
        ("value", "query", "expected"),
        [
            ("tsv", SELECT_ALL, "text/tab-separated-values"),
            ("text/csv", SELECT_ALL, "text/csv"),
            ("xml", SELECT_ALL, "application/sparql-results+xml"),
            ("json", CONSTRUCT_ALL, "application/ld+json"),
            ("nt", CONSTRUCT_ALL, "application/n-triples"),
            ("rdfxml", CONSTRUCT_ALL, "application/rdf+xml"),
        ],
    )
    def test_format_parameter_overrides_accept(
        self, client: TestClient, value: str, query: str, expected: str
    ) -> None:
        response = client.get(
            "/sparql", params={"query": query, "format": value}, headers={"accept": "text/turtle"}
        )
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == expected

    def test_unknown_format_parameter_is_a_400(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL, "format": "docx"})
        assert response.status_code == 400
        assert "format='docx'" in response.text

    def test_nothing_acceptable_is_a_406_listing_types(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "image/png"})
        assert response.status_code == 406
        assert "application/sparql-results+json" in response.text
        assert "text/turtle" in response.text

    def test_graph_format_for_a_select_is_a_406(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "text/turtle"})
        assert response.status_code == 406
        assert "text/tab-separated-values" in response.text

    def test_results_format_for_a_construct_is_a_406(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": CONSTRUCT_ALL, "format": "csv"})
        assert response.status_code == 406
        assert "application/ld+json" in response.text

    def test_vary_accept(self, client: TestClient) -> None:
        assert client.get("/sparql", params={"query": SELECT_ALL}).headers["vary"] == "Accept"


class TestErrors:
    def test_malformed_query_gives_the_parser_message(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": "SELECT ?s WHERE { ?s ?p }"})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text.startswith("malformed query: error at 1:")

    def test_two_query_parameters(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"query": [SELECT_ALL, SELECT_ALL]})
        assert response.status_code == 400
        assert "'query' parameter is given 2 times" in response.text

    def test_two_query_parameters_in_a_form(self, client: TestClient) -> None:
        body = "query=ASK%7B%7D&query=ASK%7B%7D"
        response = client.post("/sparql", content=body, headers={"content-type": FORM})
        assert response.status_code == 400

    def test_wrong_content_type(self, client: TestClient) -> None:
        response = client.post("/sparql", content=SELECT_ALL, headers={"content-type": "text/plain"})
        assert response.status_code == 415
        assert "application/sparql-query" in response.text

    def test_missing_content_type(self, client: TestClient) -> None:
        response = client.post("/sparql", content=SELECT_ALL.encode())
        assert response.status_code == 415

    def test_direct_body_not_utf8(self, client: TestClient) -> None:
        body = 'SELECT * WHERE { ?s ?p "café" }'.encode("latin-1")
        response = client.post(
            "/sparql", content=body, headers={"content-type": "application/sparql-query; charset=ISO-8859-1"}
        )
        assert response.status_code == 400
        assert "UTF-8" in response.text

    def test_form_body_not_utf8(self, client: TestClient) -> None:
        response = client.post(
            "/sparql", content=b"query=ASK%7B%3Fs%20%3Fp%20%22caf%E9%22%7D", headers={"content-type": FORM}
        )
        assert response.status_code == 400
        assert "UTF-8" in response.text

    @pytest.mark.parametrize("method", ["PUT", "DELETE"])
    def test_put_and_delete_are_not_allowed(self, client: TestClient, method: str) -> None:
        response = client.request(method, "/sparql", params={"query": SELECT_ALL})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, POST"

    def test_update_on_read_only_service(self, client: TestClient) -> None:
        response = client.post("/sparql", data={"update": f"INSERT DATA {{ <{EX}x> <{EX}p> 1 }}"})
        assert response.status_code == 403
        assert "read-only" in response.text
        assert "--enable-update" in response.text

    def test_direct_update_on_read_only_service(self, client: TestClient) -> None:
        response = client.post(
            "/sparql", content=b"CLEAR ALL", headers={"content-type": "application/sparql-update"}
        )
        assert response.status_code == 403

    def test_update_by_get(self, client: TestClient) -> None:
        response = client.get("/sparql", params={"update": "CLEAR ALL"})
        assert response.status_code == 400
        assert "POST" in response.text

    def test_query_and_update_together(self, client: TestClient) -> None:
        response = client.post("/sparql", data={"query": SELECT_ALL, "update": "CLEAR ALL"})
        assert response.status_code == 400

    def test_post_without_query(self, client: TestClient) -> None:
        response = client.post("/sparql", data={"default-graph-uri": ALPHA})
        assert response.status_code == 400
        assert "missing 'query'" in response.text


class TestServiceClause:
    def test_refused_without_allow_list(self, client: TestClient) -> None:
        query = "SELECT * WHERE { SERVICE <http://other.example/sparql> { ?s ?p ?o } }"
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 400
        assert "SERVICE" in response.text

    def test_host_outside_the_allow_list(self, make_client: ClientFactory) -> None:
        client = make_client(service_allowlist=("data.example",))
        query = "PREFIX o: <http://other.example/> SELECT * WHERE { SERVICE o:sparql { ?s ?p ?o } }"
        response = client.get("/sparql", params={"query": query})
        assert response.status_code == 400
        assert "other.example" in response.text

    def test_keyword_in_a_string_or_comment_is_fine(self, client: TestClient) -> None:
        query = 'SELECT ?s WHERE { ?s ?p ?o FILTER(?o != "SERVICE <http://x/>") } # SERVICE <http://y/>\n'
        assert len(subjects(client, query)) == 3


class TestLimits:
    def test_request_too_large(self, make_client: ClientFactory) -> None:
        client = make_client(max_request_bytes=200)
        padding = "# " + "x" * 300 + "\n"
        response = client.post(
            "/sparql",
            content=(padding + SELECT_ALL).encode(),
            headers={"content-type": "application/sparql-query"},
        )
        assert response.status_code == 413
        small = client.post(
            "/sparql", content=SELECT_ALL.encode(), headers={"content-type": "application/sparql-query"}
        )
        assert small.status_code == 200

    def test_query_string_too_large(self, make_client: ClientFactory) -> None:
        client = make_client(max_request_bytes=200)
        response = client.get("/sparql", params={"query": SELECT_ALL + " #" + "x" * 300})
        assert response.status_code == 413


@pytest.fixture
def heavy_store(tmp_path: Path) -> Path:
    """SYNTHETIC: 3000 generated triples, so a triple cross join has 2.7e10 solutions."""
    graph = ox.NamedNode(EX + "graph/heavy")
    quads = [
        ox.Quad(ox.NamedNode(f"{EX}n{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i)), graph)
        for i in range(3000)
    ]
    return write_store(tmp_path / "heavy", quads)


HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"


class TestTimeout:
    def test_heavy_query_is_stopped_and_the_server_goes_on(self, heavy_store: Path) -> None:
        from bassin_kg.settings import Settings
        from bassin_kg.web.app import create_app
        from bassin_kg.web.serving.engine import ProcessEngine
        from bassin_kg.web.serving.releases import ReleaseEngine

        app = create_app(Settings(store=heavy_store, query_timeout=0.5, max_concurrent_queries=2))
        with TestClient(app) as client:
            engine = app.state.sparql.engine
            # the server follows build/current: the workers are those of the current release
            engine = engine.current() if isinstance(engine, ReleaseEngine) else engine
            assert isinstance(engine, ProcessEngine)
            before = list(engine._workers.values())
            started = time.monotonic()
            response = client.get("/sparql", params={"query": HEAVY})
            assert response.status_code == 503
            assert "stopped after 0.5 s" in response.text
            assert time.monotonic() - started < 5
            # the worker that ran it was killed: the work really stopped
            killed = [w for w in before if w.process.poll() is not None]
            assert len(killed) == 1
            started = time.monotonic()
            light = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
            assert light.status_code == 200
            assert time.monotonic() - started < 2

    def test_busy_endpoint_answers_503_with_retry_after(self, heavy_store: Path) -> None:
        from bassin_kg.settings import Settings
        from bassin_kg.web.app import create_app

        # no queue: beyond the one running query, the next is refused at once
        settings = Settings(
            store=heavy_store, query_timeout=1.5, max_concurrent_queries=1, max_queued_queries=0
        )
        app = create_app(settings)
        with TestClient(app) as client:
            statuses: list[int] = []
            thread = threading.Thread(
                target=lambda: statuses.append(client.get("/sparql", params={"query": HEAVY}).status_code)
            )
            thread.start()
            service: SparqlService = app.state.sparql
            deadline = time.monotonic() + 2
            while service._in_flight == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            response = client.get("/sparql", params={"query": "ASK {}"})
            assert response.status_code == 503
            assert response.headers["retry-after"] == "1"
            thread.join()
            assert statuses == [503]  # the heavy one timed out in turn


def _start_heavy(client: TestClient, service: SparqlService, statuses: list[int]) -> threading.Thread:
    """Send HEAVY from a thread; return once it is running."""
    thread = threading.Thread(
        target=lambda: statuses.append(client.get("/sparql", params={"query": HEAVY}).status_code)
    )
    thread.start()
    deadline = time.monotonic() + 2
    while service._in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    return thread


class TestAdmission:
    def test_a_query_waits_in_the_queue_for_a_busy_worker(self, heavy_store: Path) -> None:
        from bassin_kg.settings import Settings
        from bassin_kg.web.app import create_app

        settings = Settings(
            store=heavy_store, query_timeout=1.0, max_concurrent_queries=1, max_queued_queries=4
        )
        app = create_app(settings)
        with TestClient(app) as client:
            statuses: list[int] = []
            thread = _start_heavy(client, app.state.sparql, statuses)
            started = time.monotonic()
            response = client.get("/sparql", params={"query": "ASK {}"})
            # answered once the heavy query was stopped, not refused
            assert response.status_code == 200
            assert time.monotonic() - started > 0.3
            thread.join()
            assert statuses == [503]

    def test_pages_and_named_queries_keep_a_worker_while_ad_hoc_queries_run(self, heavy_store: Path) -> None:
        import functools

        from bassin_kg.settings import Settings
        from bassin_kg.web import negotiation
        from bassin_kg.web.app import create_app

        settings = Settings(
            store=heavy_store, query_timeout=1.5, max_concurrent_queries=2, max_queued_queries=0
        )
        app = create_app(settings)
        with TestClient(app) as client:
            service: SparqlService = app.state.sparql
            statuses: list[int] = []
            thread = _start_heavy(client, service, statuses)
            # a second ad-hoc query may not take the last worker: it waits for the heavy one to stop
            started = time.monotonic()
            assert client.get("/sparql", params={"query": "ASK { ?s ?p 1 }"}).status_code == 200
            waited = time.monotonic() - started
            thread.join()
            thread = _start_heavy(client, service, statuses)
            # the service's own queries (pages, /queries/<name>) still get the reserved worker at once
            started = time.monotonic()
            run = functools.partial(
                service.run_query, "ASK { ?s ?p 2 }", solutions=negotiation.find("json"), graph=None
            )
            answer, _ = client.portal.call(run)  # type: ignore[union-attr]
            assert json.loads(answer.body)["boolean"] is False
            assert time.monotonic() - started < 1.0 < waited
            thread.join()
            assert statuses == [503, 503]


class TestCachedShortcut:
    def test_repeated_get_is_answered_before_the_route(self, client: TestClient) -> None:
        service: SparqlService = client.app.state.sparql  # type: ignore[attr-defined]
        first = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "text/csv"})
        assert first.headers["x-cache"] == "miss"

        async def must_not_run(*args: object) -> object:
            raise AssertionError("the route ran for a cached GET")

        original = service.handle
        service.handle = must_not_run  # type: ignore[method-assign,assignment]
        second = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "text/csv"})
        assert second.status_code == 200
        assert second.content == first.content
        for header in ("content-type", "etag", "vary"):
            assert second.headers[header] == first.headers[header]
        assert second.headers["x-cache"] == "hit"
        assert service.cache.hits == 1
        service.handle = original  # type: ignore[method-assign]
        # another Accept, or a conditional request, goes through the route
        other = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": JSON_RESULTS})
        assert other.headers["content-type"] == JSON_RESULTS
        conditional = client.get(
            "/sparql", params={"query": SELECT_ALL}, headers={"if-none-match": first.headers["etag"]}
        )
        assert conditional.status_code == 304

    def test_a_new_release_is_not_answered_from_old_entries(self, client: TestClient) -> None:
        service: SparqlService = client.app.state.sparql  # type: ignore[attr-defined]
        client.get("/sparql", params={"query": SELECT_ALL})
        service.release = "next-release"
        again = client.get("/sparql", params={"query": SELECT_ALL})
        assert again.headers["x-cache"] == "miss"
        assert again.headers["etag"] == 'W/"next-release"'

    def test_errors_are_never_shortcut(self, client: TestClient) -> None:
        for _ in range(2):
            response = client.get("/sparql", params={"query": "SELECT nonsense"})
            assert response.status_code == 400
            assert "x-cache" not in response.headers


class TestEtagAndCache:
    def test_etag_and_304(self, client: TestClient) -> None:
        first = client.get("/sparql", params={"query": SELECT_ALL})
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        again = client.get("/sparql", params={"query": SELECT_ALL}, headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        other = client.get("/sparql", params={"query": SELECT_ALL}, headers={"if-none-match": 'W/"other"'})
        assert other.status_code == 200

    def test_post_is_not_conditional(self, client: TestClient) -> None:
        etag = client.get("/sparql", params={"query": SELECT_ALL}).headers["etag"]
        response = client.post("/sparql", data={"query": SELECT_ALL}, headers={"if-none-match": etag})
        assert response.status_code == 200

    def test_etag_names_the_release(self, tmp_path: Path) -> None:
        from bassin_kg.settings import Settings
        from bassin_kg.web.app import create_app

        from .conftest import synthetic_quads

        store = write_store(tmp_path / "releases" / "20240501T120000" / "store", synthetic_quads())
        with TestClient(create_app(Settings(store=store, max_concurrent_queries=1))) as client:
            response = client.get("/sparql", params={"query": "ASK {}"})
        assert response.headers["etag"] == 'W/"20240501T120000"'

    def test_repeated_query_is_served_from_the_cache_without_running(self, client: TestClient) -> None:
        service: SparqlService = client.app.state.sparql  # type: ignore[attr-defined]
        first = client.get("/sparql", params={"query": SELECT_ALL})
        assert first.headers["x-cache"] == "miss"

        async def must_not_run(*args: object) -> object:
            raise AssertionError("the engine ran a cached query")

        service.engine.run = must_not_run  # type: ignore[method-assign,assignment]
        second = client.get("/sparql", params={"query": SELECT_ALL})
        assert second.headers["x-cache"] == "hit"
        assert second.content == first.content
        assert service.cache.hits == 1

    def test_cache_key_includes_format_and_dataset(self, client: TestClient) -> None:
        client.get("/sparql", params={"query": SELECT_ALL})
        as_csv = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "text/csv"})
        assert as_csv.headers["x-cache"] == "miss"
        in_alpha = client.get("/sparql", params={"query": SELECT_ALL, "default-graph-uri": ALPHA})
        assert in_alpha.headers["x-cache"] == "miss"
        assert len(rows(in_alpha.json())) == 3


class TestCors:
    def test_off_by_default(self, client: TestClient) -> None:
        response = client.get(
            "/sparql", params={"query": "ASK {}"}, headers={"origin": "https://yasgui.example"}
        )
        assert "access-control-allow-origin" not in response.headers

    def test_configured_origin(self, make_client: ClientFactory) -> None:
        client = make_client(cors_origins=("https://yasgui.example",))
        response = client.get(
            "/sparql", params={"query": "ASK {}"}, headers={"origin": "https://yasgui.example"}
        )
        assert response.headers["access-control-allow-origin"] == "https://yasgui.example"
        assert "access-control-allow-credentials" not in response.headers
        other = client.get("/sparql", params={"query": "ASK {}"}, headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

    def test_star_never_with_credentials(self, make_client: ClientFactory) -> None:
        client = make_client(cors_origins=("*",))
        preflight = client.options(
            "/sparql",
            headers={
                "origin": "https://any.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in preflight.headers


def test_json_body_is_valid_json(client: TestClient) -> None:
    # a guard against serialising into a text stream with a wrong encoding
    query = f"SELECT ?o WHERE {{ <{EX}a> <http://www.w3.org/2000/01/rdf-schema#label> ?o }}"
    body = json.loads(client.get("/sparql", params={"query": query}).content.decode("utf-8"))
    assert body["results"]["bindings"][0]["o"] == {"type": "literal", "value": "Alpha", "xml:lang": "fr"}


class TestRelativeIris:
    """Issue 13 part 2: the two W3C protocol tests Oxigraph fails, relative IRIs resolved against the
    endpoint's IRI (``<base IRI>sparql``), for queries and updates, by GET and POST."""

    ENDPOINT = "https://w3id.org/bassin-minier/sparql"

    def test_construct_with_relative_iris_by_post(self, client: TestClient) -> None:
        response = client.post(
            "/sparql",
            content=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
            headers={"content-type": "application/sparql-query", "accept": "application/n-triples"},
        )
        assert response.status_code == 200, response.text
        assert response.text.startswith(
            "<https://w3id.org/bassin-minier/s> <https://w3id.org/bassin-minier/p> "
        )

    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_relative_iri_in_a_query_reaches_the_data(self, client: TestClient, method: str) -> None:
        query = "SELECT ?base WHERE { BIND(<> AS ?base) }"
        if method == "GET":
            response = client.get("/sparql", params={"query": query}, headers={"accept": JSON_RESULTS})
        else:
            response = client.post("/sparql", data={"query": query}, headers={"accept": JSON_RESULTS})
        assert response.status_code == 200, response.text
        assert rows(response.json())[0]["base"]["value"] == self.ENDPOINT

    def test_a_base_in_the_query_wins(self, client: TestClient) -> None:
        query = "BASE <http://example.org/> SELECT ?x WHERE { BIND(<x> AS ?x) }"
        response = client.get("/sparql", params={"query": query}, headers={"accept": JSON_RESULTS})
        assert rows(response.json())[0]["x"]["value"] == "http://example.org/x"

    @pytest.mark.parametrize("direct", [False, True])
    def test_update_with_a_relative_iri(self, make_client: ClientFactory, direct: bool) -> None:
        client = make_client(enable_update=True, update_token="t0ken")
        update = (
            "INSERT DATA { GRAPH <http://example.org/protocol-base-test/> "
            "{ <http://example.org/s> <http://example.org/p> <test> } }"
        )
        auth = {"authorization": "Bearer t0ken"}
        if direct:
            response = client.post(
                "/sparql",
                content=update.encode(),
                headers={**auth, "content-type": "application/sparql-update"},
            )
        else:
            response = client.post("/sparql", data={"update": update}, headers=auth)
        assert response.status_code == 204, response.text
        ask = "ASK { <http://example.org/s> <http://example.org/p> <https://w3id.org/bassin-minier/test> }"
        answer = client.get("/sparql", params={"query": ask}, headers={"accept": JSON_RESULTS})
        assert answer.json()["boolean"] is True


class TestHardening:
    """Issue 16, over the in-process app: status and message of each refusal."""

    @pytest.mark.parametrize("value", ["abc", "NaN", "inf", "-inf"])
    def test_q_values_that_are_not_numbers_are_all_a_400(self, client: TestClient, value: str) -> None:
        response = client.get(
            "/sparql",
            params={"query": SELECT_ALL},
            headers={"accept": f"application/sparql-results+json;q={value}"},
        )
        assert response.status_code == 400
        assert "q-value" in response.text

    def test_headers_over_the_limit_get_431(self, make_client: ClientFactory) -> None:
        client = make_client(max_header_bytes=2000)
        response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "text/csv," * 400})
        assert response.status_code == 431
        assert "2000 bytes" in response.text
        assert client.get("/sparql", params={"query": SELECT_ALL}).status_code == 200

    def test_an_answer_over_the_size_limit_is_a_clear_400(self, make_client: ClientFactory) -> None:
        client = make_client(max_result_bytes=300)
        response = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": JSON_RESULTS})
        assert response.status_code == 400
        assert "larger than 300 bytes" in response.text
        assert "dépasse 300 octets" in response.text
        small = client.get("/sparql", params={"query": "ASK {}"}, headers={"accept": JSON_RESULTS})
        assert small.status_code == 200

    def test_load_obeys_the_service_allow_list(self, make_client: ClientFactory) -> None:
        client = make_client(enable_update=True, update_token="t0ken", service_allowlist=("data.example",))
        auth = {"authorization": "Bearer t0ken"}
        for update in ("LOAD <http://127.0.0.1:9/x.ttl>", "LOAD SILENT <http://other.example/x>"):
            response = client.post("/sparql", data={"update": update}, headers=auth)
            assert response.status_code == 400, update
            assert "LOAD" in response.text
            assert "allow-list" in response.text


def test_a_client_that_does_not_read_the_answer_is_dropped_after_the_timeout() -> None:
    """Issue 16 point 5: the timeout covers the transfer to the client, not only the evaluation."""
    import anyio

    from bassin_kg.web.sparql import TransferTimeoutError, send_body

    sent: list[object] = []

    async def stalled_client(message: object) -> None:
        sent.append(message)
        await anyio.sleep_forever()  # the socket never drains

    async def scenario() -> None:
        with anyio.fail_after(30), pytest.raises(TransferTimeoutError, match=r"within 0\.1 s"):
            await send_body(stalled_client, b"x" * 100, 0.1)

    anyio.run(scenario)
    assert len(sent) == 1
