"""The raw ASGI fast path of /sparql: which requests it answers, and that they match the route's answers.

The store is the synthetic one of conftest.py: 3 triples in ALPHA, 2 in BETA.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bassin_kg.web.sparql import SparqlService

from .conftest import ALPHA, ClientFactory

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
