"""The raw ASGI fast path of /sparql: which requests it answers, and that they match the route's answers.

The store is the synthetic one of conftest.py: 3 triples in ALPHA, 2 in BETA.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, quote_plus

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from bassin_kg.settings import Settings
from bassin_kg.web.app import BassinKgApp, create_app
from bassin_kg.web.serving.engine import Job, Outcome, ProcessEngine
from bassin_kg.web.serving.fastpath import SparqlFastPath, _only_query
from bassin_kg.web.sparql import SparqlService

from ..conftest import ALPHA, ClientFactory

SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
JSON_RESULTS = "application/sparql-results+json"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Methods of the requests that reached the route (SparqlService.handle)."""
    calls: list[str] = []
    original = SparqlService.handle

    async def counting(self: SparqlService, request: object) -> object:
        calls.append(request.method)  # type: ignore[attr-defined]
        return await original(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(SparqlService, "handle", counting)
    return calls


def test_plain_requests_skip_the_route(client: TestClient, routed: list[str]) -> None:
    get = client.get("/sparql", params={"query": SELECT_ALL})
    form = client.post("/sparql", data={"query": SELECT_ALL + " # form"})
    direct = client.post(
        "/sparql",
        content=(SELECT_ALL + " # direct").encode(),
        headers={"content-type": "application/sparql-query"},
    )
    for response in (get, form, direct):
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON_RESULTS
        assert len(response.json()["results"]["bindings"]) == 5
        assert response.headers["x-cache"] == "miss"
        assert response.headers["vary"] == "Accept"
        assert response.headers["etag"].startswith('W/"')
    assert routed == []


def test_without_the_fast_path_every_request_takes_the_route(
    make_client: ClientFactory, routed: list[str]
) -> None:
    client = make_client(fast_path=False)
    assert isinstance(client.app, BassinKgApp)
    assert client.app.front is None
    first = client.get("/sparql", params={"query": SELECT_ALL})
    again = client.get("/sparql", params={"query": SELECT_ALL})
    assert first.status_code == again.status_code == 200
    assert len(first.json()["results"]["bindings"]) == 5
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert routed == ["GET", "GET"]


def test_the_fast_answer_is_the_routes_answer(client: TestClient, routed: list[str]) -> None:
    query = "CONSTRUCT WHERE { ?s ?p ?o }"
    fast = client.get("/sparql", params={"query": query}, headers={"accept": "text/turtle"})
    # format= is not handled by the fast path: the same query and format through the route
    slow = client.get("/sparql", params={"query": query + " ", "format": "ttl"})
    assert routed == ["GET"]
    assert fast.status_code == slow.status_code == 200
    assert fast.content == slow.content
    for header in ("content-type", "etag", "vary", "x-cache", "x-content-type-options"):
        assert fast.headers[header] == slow.headers[header], header


def test_errors_are_written_as_the_route_writes_them(client: TestClient, routed: list[str]) -> None:
    fast = client.get("/sparql", params={"query": "SELEKT nothing"})
    slow = client.get("/sparql", params={"query": "SELEKT nothing", "format": "json"})
    assert routed == ["GET"]
    assert fast.status_code == slow.status_code == 400
    assert fast.text == slow.text
    assert fast.text.startswith("malformed query")
    assert fast.headers["content-type"] == slow.headers["content-type"] == "text/plain; charset=utf-8"
    service = client.get("/sparql", params={"query": "SELECT * { SERVICE <http://x.example/> { ?s ?p ?o } }"})
    assert service.status_code == 400
    assert routed == ["GET"]


def test_unusual_requests_go_to_the_route(client: TestClient, routed: list[str]) -> None:
    # a dataset, a conditional request, HEAD, a POST with a query string, an unknown Accept
    with_dataset = client.get("/sparql", params={"query": SELECT_ALL, "default-graph-uri": ALPHA})
    assert len(with_dataset.json()["results"]["bindings"]) == 3
    etag = with_dataset.headers["etag"]
    assert (
        client.get("/sparql", params={"query": SELECT_ALL}, headers={"if-none-match": etag}).status_code
        == 304
    )
    assert client.head("/sparql", params={"query": SELECT_ALL}).status_code == 200
    assert client.post("/sparql", params={"format": "json"}, data={"query": SELECT_ALL}).status_code == 200
    refused = client.get("/sparql", params={"query": SELECT_ALL}, headers={"accept": "image/png"})
    assert refused.status_code == 406
    assert routed == ["GET", "GET", "HEAD", "POST", "GET"]


def test_a_read_body_is_replayed_to_the_route(client: TestClient, routed: list[str]) -> None:
    # two parameters in the form: the fast path read the body, then handed it on to the route
    response = client.post("/sparql", data={"query": SELECT_ALL, "default-graph-uri": ALPHA})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 3
    bad = client.post("/sparql", content=b"query=%FF", headers={"content-type": FORM})
    assert bad.status_code == 400
    assert "UTF-8" in bad.text
    assert routed == ["POST", "POST"]


def test_an_oversized_body_is_still_refused(make_client: ClientFactory, routed: list[str]) -> None:
    client = make_client(max_request_bytes=100)
    response = client.post(
        "/sparql",
        content=("SELECT * {}" + " " * 200).encode(),
        headers={"content-type": "application/sparql-query"},
    )
    assert response.status_code == 413
    assert routed == ["POST"]


def test_cold_then_cached(client: TestClient, routed: list[str]) -> None:
    first = client.get("/sparql", params={"query": SELECT_ALL})
    second = client.get("/sparql", params={"query": SELECT_ALL})
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.content == second.content
    assert routed == []


# --- in front of FastAPI's stack ----------------------------------------------------------------------------
LOOKUP = "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o }"


def test_the_fast_path_is_in_front_of_the_stack(client: TestClient, routed: list[str]) -> None:
    app = client.app
    assert isinstance(app, BassinKgApp)
    assert isinstance(app.front, SparqlFastPath)
    fast = client.get("/sparql", params={"query": SELECT_ALL})
    slow = client.get("/sparql", params={"query": SELECT_ALL, "format": "json"})
    assert routed == ["GET"]
    # what the skipped layers add (release, security headers) the front writes itself
    for header in ("etag", "x-content-type-options", "referrer-policy"):
        assert fast.headers[header] == slow.headers[header], header


def test_with_cors_the_fast_path_answers_inside_the_stack(
    make_client: ClientFactory, routed: list[str]
) -> None:
    client = make_client(cors_origins=("https://portal.example",))
    assert client.app.front is None  # type: ignore[attr-defined]
    response = client.get(
        "/sparql", params={"query": SELECT_ALL}, headers={"origin": "https://portal.example"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://portal.example"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert routed == []


def test_subject_lookups_need_no_worker(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    jobs: list[Job] = []
    original = ProcessEngine.run

    async def recording(self: ProcessEngine, job: Job, timeout: float) -> Outcome:
        jobs.append(job)
        return await original(self, job, timeout)

    monkeypatch.setattr(ProcessEngine, "run", recording)
    lookup = client.get("/sparql", params={"query": LOOKUP})
    assert lookup.status_code == 200
    assert len(lookup.json()["results"]["bindings"]) == 3
    assert jobs == []
    other = client.get("/sparql", params={"query": SELECT_ALL})
    assert other.status_code == 200
    assert len(jobs) == 1


def test_subject_lookups_are_answered_while_every_worker_is_busy(store_path: Path) -> None:
    """Two heavy queries hold both workers (until the 3-s timeout); a lookup does not wait for them."""
    app = create_app(Settings(store=store_path, max_concurrent_queries=2, query_timeout=3.0))
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(12))
    heavy = f"SELECT (COUNT(*) AS ?n) {{ {patterns} }}"
    order: list[str] = []

    async def main() -> None:
        service: SparqlService = app.state.sparql
        await anyio.to_thread.run_sync(service.engine.start)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:

            async def ask(name: str, query: str) -> None:
                response = await http.get("/sparql", params={"query": query})
                order.append(f"{name} {response.status_code}")

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(ask, "heavy", heavy)
                tasks.start_soon(ask, "heavy", heavy + " # 2")
                await anyio.sleep(0.5)  # both are running in the workers now
                await ask("lookup", LOOKUP)
        service.engine.close()

    anyio.run(main)
    assert order[0] == "lookup 200"
    assert order[1:] == ["heavy 503", "heavy 503"]


@settings(max_examples=500, deadline=None)
@given(st.text(), st.sampled_from(["", "-._~!*'()", "/?:@"]))
def test_the_query_parameter_is_read_as_parse_qsl_reads_it(text: str, safe: str) -> None:
    raw = ("query=" + quote_plus(text, safe=safe)).encode()
    assert _only_query(raw) == parse_qsl(raw.decode(), keep_blank_values=True)[0][1] == text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"query=a%ZZ", "a%ZZ"),  # a malformed escape stays as it is, as parse_qsl leaves it
        (b"query=%4", "%4"),
        (b"query=a+b%3Dc", "a b=c"),
        (b"query=%0D%0A%20+", "\r\n  "),
    ],
)
def test_odd_query_parameters(raw: bytes, expected: str) -> None:
    assert _only_query(raw) == expected
