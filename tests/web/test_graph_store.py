"""Graph Store HTTP Protocol on /rdf-graphs/service (synthetic store)."""

from __future__ import annotations

import pytest
import rdflib
from fastapi.testclient import TestClient

from .conftest import ALPHA, EX, TOKEN, ClientFactory

AUTH = {"authorization": f"Bearer {TOKEN}"}
NEW = EX + "graph/new"
TURTLE = f"<{EX}x> <{EX}p> 1 , 2 .".encode()


@pytest.fixture
def writable(make_client: ClientFactory) -> TestClient:
    return make_client(enable_update=True, update_token=TOKEN)


def graph_size(client: TestClient, graph: str) -> int:
    response = client.get("/rdf-graphs/service", params={"graph": graph}, headers={"accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return len(rdflib.Graph().parse(data=response.text, format="turtle"))


def test_disabled_by_default(client: TestClient) -> None:
    response = client.get("/rdf-graphs/service", params={"graph": ALPHA})
    assert response.status_code == 403
    assert "--enable-update" in response.text


def test_get_a_graph(writable: TestClient) -> None:
    response = writable.get(
        "/rdf-graphs/service", params={"graph": ALPHA}, headers={"accept": "application/n-triples"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/n-triples"
    assert len(response.text.strip().splitlines()) == 3


def test_head(writable: TestClient) -> None:
    assert writable.head("/rdf-graphs/service", params={"graph": ALPHA}).status_code == 200


def test_unknown_graph_is_404(writable: TestClient) -> None:
    assert writable.get("/rdf-graphs/service", params={"graph": NEW}).status_code == 404


def test_exactly_one_graph_is_named(writable: TestClient) -> None:
    assert writable.get("/rdf-graphs/service").status_code == 400
    assert writable.get("/rdf-graphs/service?default&graph=" + ALPHA).status_code == 400


def test_put_creates_then_replaces(writable: TestClient) -> None:
    headers = {**AUTH, "content-type": "text/turtle"}
    created = writable.put("/rdf-graphs/service", params={"graph": NEW}, content=TURTLE, headers=headers)
    assert created.status_code == 201
    assert graph_size(writable, NEW) == 2
    replaced = writable.put(
        "/rdf-graphs/service", params={"graph": NEW}, content=f"<{EX}y> <{EX}p> 3 .".encode(), headers=headers
    )
    assert replaced.status_code == 204
    assert graph_size(writable, NEW) == 1


def test_post_merges(writable: TestClient) -> None:
    headers = {**AUTH, "content-type": "text/turtle"}
    response = writable.post("/rdf-graphs/service", params={"graph": ALPHA}, content=TURTLE, headers=headers)
    assert response.status_code == 204
    assert graph_size(writable, ALPHA) == 5


def test_delete(writable: TestClient) -> None:
    assert writable.delete("/rdf-graphs/service", params={"graph": ALPHA}, headers=AUTH).status_code == 204
    assert writable.get("/rdf-graphs/service", params={"graph": ALPHA}).status_code == 404
    assert writable.delete("/rdf-graphs/service", params={"graph": ALPHA}, headers=AUTH).status_code == 404


def test_default_graph(writable: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/n-triples"}
    response = writable.put(
        "/rdf-graphs/service?default", content=f'<{EX}d> <{EX}p> "4" .\n'.encode(), headers=headers
    )
    assert response.status_code == 204
    body = writable.get("/rdf-graphs/service?default", headers={"accept": "application/n-triples"}).text
    assert body.strip() == f'<{EX}d> <{EX}p> "4" .'


def test_writes_need_the_token(writable: TestClient) -> None:
    response = writable.put(
        "/rdf-graphs/service", params={"graph": NEW}, content=TURTLE, headers={"content-type": "text/turtle"}
    )
    assert response.status_code == 401
    assert writable.delete("/rdf-graphs/service", params={"graph": ALPHA}).status_code == 401
    assert graph_size(writable, ALPHA) == 3


def test_unsupported_content_type(writable: TestClient) -> None:
    headers = {**AUTH, "content-type": "application/n-quads"}
    response = writable.put("/rdf-graphs/service", params={"graph": NEW}, content=TURTLE, headers=headers)
    assert response.status_code == 415


def test_bad_body_leaves_the_graph_unchanged(writable: TestClient) -> None:
    headers = {**AUTH, "content-type": "text/turtle"}
    response = writable.put(
        "/rdf-graphs/service", params={"graph": ALPHA}, content=b"<x> <y> .", headers=headers
    )
    assert response.status_code == 400
    assert graph_size(writable, ALPHA) == 3


def test_graph_changes_are_seen_by_queries(writable: TestClient) -> None:
    query = f"ASK {{ <{EX}x> <{EX}p> 2 }}"
    assert writable.get("/sparql", params={"query": query}).json()["boolean"] is False
    headers = {**AUTH, "content-type": "text/turtle"}
    writable.put("/rdf-graphs/service", params={"graph": NEW}, content=TURTLE, headers=headers)
    assert writable.get("/sparql", params={"query": query}).json()["boolean"] is True
