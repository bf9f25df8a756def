"""The endpoint in a REAL server process: `bassin-kg serve` (uvicorn) on 127.0.0.1, queried by SPARQLWrapper.

The store is the synthetic one of conftest.py, written to a temporary folder.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
from SPARQLWrapper import JSON, POST, TURTLE, SPARQLWrapper

from serving import BassinKgServer as Server
from serving import bassin_kg_server, clean_env, cli

from .conftest import ALPHA, EX, TOKEN


def start_server(store: Path, *flags: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    with bassin_kg_server(cli("-q", "serve", "--store", str(store), *flags), env=env) as server:
        yield server


@pytest.fixture(scope="class")
def server(pristine_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = Path(shutil.copytree(pristine_store, tmp_path_factory.mktemp("served") / "store"))
    yield from start_server(store, "--query-timeout", "1")


@pytest.fixture(scope="class")
def writable_server(pristine_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    store = Path(shutil.copytree(pristine_store, tmp_path_factory.mktemp("served") / "store"))
    yield from start_server(store, "--enable-update", env=clean_env(BASSIN_KG_UPDATE_TOKEN=TOKEN))


class TestRealServer:
    def test_select_json_with_sparqlwrapper(self, server: Server) -> None:
        client = SPARQLWrapper(server.endpoint)
        client.setQuery("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s")
        client.setReturnFormat(JSON)
        result = client.queryAndConvert()
        assert isinstance(result, dict)
        values = [row["s"]["value"] for row in result["results"]["bindings"]]
        assert values == [EX + "a", EX + "a", EX + "a", EX + "b", EX + "c"]

    def test_select_by_post_with_sparqlwrapper(self, server: Server) -> None:
        client = SPARQLWrapper(server.endpoint)
        client.setMethod(POST)
        client.setQuery(f"ASK {{ GRAPH <{ALPHA}> {{ <{EX}b> ?p ?o }} }}")
        client.setReturnFormat(JSON)
        result = client.queryAndConvert()
        assert isinstance(result, dict)
        assert result["boolean"] is True

    def test_construct_turtle_with_sparqlwrapper(self, server: Server) -> None:
        client = SPARQLWrapper(server.endpoint)
        client.setQuery("CONSTRUCT WHERE { ?s ?p ?o }")
        client.setReturnFormat(TURTLE)
        body = client.queryAndConvert()
        assert isinstance(body, bytes)
        assert len(rdflib.Graph().parse(data=body, format="turtle")) == 5

    def test_headers_over_the_wire(self, server: Server) -> None:
        response = httpx.get(server.endpoint, params={"query": "ASK {}"}, headers={"accept": "text/csv"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert response.headers["vary"] == "Accept"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "server" not in response.headers  # uvicorn's own "server: uvicorn" is turned off
        again = httpx.get(
            server.endpoint,
            params={"query": "ASK {}"},
            headers={"accept": "text/csv", "if-none-match": response.headers["etag"]},
        )
        assert again.status_code == 304

    def test_service_description_names_the_real_url(self, server: Server) -> None:
        response = httpx.get(server.endpoint, headers={"accept": "text/turtle"})
        graph = rdflib.Graph().parse(data=response.text, format="turtle")
        sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        assert rdflib.URIRef(server.endpoint) in set(graph.objects(None, sd.endpoint))

    def test_timeout_then_still_serving(self, server: Server) -> None:
        # 100^5 = 1e10 combinations: far beyond the 1 s limit whatever the machine
        numbers = " ".join(str(i) for i in range(100))
        blocks = " ".join(f"VALUES ?v{i} {{ {numbers} }}" for i in range(5))
        heavy = f"SELECT (COUNT(*) AS ?n) WHERE {{ {blocks} }}"
        started = time.monotonic()
        response = httpx.get(server.endpoint, params={"query": heavy}, timeout=30)
        assert response.status_code == 503
        assert "stopped after 1 s" in response.text
        assert time.monotonic() - started < 10
        quick = httpx.get(server.endpoint, params={"query": "ASK { ?s ?p ?o }"}, timeout=5)
        assert quick.status_code == 200

    def test_update_refused_on_read_only_server(self, server: Server) -> None:
        response = httpx.post(server.endpoint, data={"update": "CLEAR ALL"})
        assert response.status_code == 403


class TestRealServerWithUpdates:
    def test_update_with_token_through_sparqlwrapper(self, writable_server: Server) -> None:
        client = SPARQLWrapper(writable_server.endpoint)
        client.setMethod(POST)
        client.addCustomHttpHeader("Authorization", f"Bearer {TOKEN}")
        client.setQuery(f"INSERT DATA {{ GRAPH <{ALPHA}> {{ <{EX}z> <{EX}p> 7 }} }}")
        client.query()
        check = httpx.get(writable_server.endpoint, params={"query": f"ASK {{ <{EX}z> <{EX}p> 7 }}"})
        assert check.json()["boolean"] is True

    def test_update_without_token(self, writable_server: Server) -> None:
        response = httpx.post(writable_server.endpoint, data={"update": "CLEAR ALL"})
        assert response.status_code == 401
