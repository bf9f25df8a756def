"""SPARQL 1.1 Update on /sparql: off by default, then behind a bearer token (synthetic store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bassin_kg.errors import UsageError
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app

from .conftest import ALPHA, BETA, EX, TOKEN, ClientFactory

AUTH = {"authorization": f"Bearer {TOKEN}"}
INSERT = f"INSERT DATA {{ GRAPH <{ALPHA}> {{ <{EX}new> <{EX}p> 9 }} }}"
COUNT_NEW = f"ASK {{ <{EX}new> <{EX}p> 9 }}"


@pytest.fixture
def writable(make_client: ClientFactory) -> TestClient:
    return make_client(enable_update=True, update_token=TOKEN)


def ask(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 200, response.text
    value = response.json()["boolean"]
    assert isinstance(value, bool)
    return value


def test_disabled_by_default(client: TestClient) -> None:
    response = client.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert response.status_code == 403
    assert not ask(client, COUNT_NEW)


def test_enable_update_without_token_refuses_to_start(store_path: Path) -> None:
    with pytest.raises(UsageError, match="BASSIN_KG_UPDATE_TOKEN"):
        create_app(Settings(store=store_path, enable_update=True))


def test_missing_token(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": INSERT})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert not ask(writable, COUNT_NEW)


def test_wrong_token(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": INSERT}, headers={"authorization": "Bearer nope"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert not ask(writable, COUNT_NEW)


def test_basic_auth_is_not_a_token(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": INSERT}, headers={"authorization": f"Basic {TOKEN}"})
    assert response.status_code == 401


def test_right_token_form(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": INSERT}, headers=AUTH)
    assert response.status_code == 204
    assert ask(writable, COUNT_NEW)


def test_right_token_direct(writable: TestClient) -> None:
    response = writable.post(
        "/sparql", content=INSERT.encode(), headers={**AUTH, "content-type": "application/sparql-update"}
    )
    assert response.status_code == 204
    assert ask(writable, COUNT_NEW)


def test_update_changes_etag_and_empties_cache(writable: TestClient) -> None:
    first = writable.get("/sparql", params={"query": COUNT_NEW})
    assert first.json()["boolean"] is False
    assert writable.post("/sparql", data={"update": INSERT}, headers=AUTH).status_code == 204
    after = writable.get(
        "/sparql", params={"query": COUNT_NEW}, headers={"if-none-match": first.headers["etag"]}
    )
    assert after.status_code == 200
    assert after.headers["etag"] != first.headers["etag"]
    assert after.headers["x-cache"] == "miss"
    assert after.json()["boolean"] is True


def test_using_graph_uri(writable: TestClient) -> None:
    update = f"INSERT {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }} WHERE {{ ?s ?p ?o }}"
    response = writable.post("/sparql", data={"update": update, "using-graph-uri": BETA}, headers=AUTH)
    assert response.status_code == 204
    count = writable.get(
        "/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }}"}
    )
    assert count.json()["results"]["bindings"][0]["n"]["value"] == "2"


def test_using_named_graph_uri(writable: TestClient) -> None:
    update = f"INSERT {{ GRAPH <{EX}names> {{ ?g <{EX}seen> true }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = writable.post("/sparql", data={"update": update, "using-named-graph-uri": ALPHA}, headers=AUTH)
    assert response.status_code == 204
    assert ask(writable, f"ASK {{ GRAPH <{EX}names> {{ <{ALPHA}> <{EX}seen> true }} }}")
    assert not ask(writable, f"ASK {{ GRAPH <{EX}names> {{ <{BETA}> <{EX}seen> true }} }}")


def test_using_graph_uri_conflicts_with_using_in_the_update(writable: TestClient) -> None:
    update = f"INSERT {{ GRAPH <{EX}copy> {{ ?s ?p ?o }} }} USING <{ALPHA}> WHERE {{ ?s ?p ?o }}"
    response = writable.post("/sparql", data={"update": update, "using-graph-uri": BETA}, headers=AUTH)
    assert response.status_code == 400
    assert "USING" in response.text


def test_malformed_update(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": "INSERT DATA { <x> "}, headers=AUTH)
    assert response.status_code == 400
    assert response.text.startswith("malformed update:")


def test_two_update_parameters(writable: TestClient) -> None:
    response = writable.post("/sparql", data={"update": [INSERT, INSERT]}, headers=AUTH)
    assert response.status_code == 400


def test_update_with_service_is_refused(writable: TestClient) -> None:
    update = f"INSERT {{ <{EX}x> <{EX}p> ?o }} WHERE {{ SERVICE <http://far.example/sparql> {{ ?s ?p ?o }} }}"
    response = writable.post("/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    assert "SERVICE" in response.text
