"""The server's /.well-known/void, /catalog and /dist/… (web/wellknown.py), negotiated."""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from rdflib import Graph

from bassin_kg.publish import PublishResult
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def client(published: tuple[Settings, PublishResult]) -> Iterator[TestClient]:
    settings, _result = published
    store = ox.Store.read_only(str(settings.store_path))
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("*/*", "text/turtle", ox.RdfFormat.TURTLE),
    ],
)
def test_well_known_void_is_negotiated(
    client: TestClient, accept: str, media: str, fmt: ox.RdfFormat
) -> None:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert response.headers["vary"] == "Accept"
    triples = list(ox.parse(response.content, fmt))
    assert any(t.predicate.value == "http://rdfs.org/ns/void#triples" for t in triples)


def test_well_known_void_refuses_what_it_cannot_give(client: TestClient) -> None:
    response = client.get("/.well-known/void", headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_catalog_answers_rdfxml_for_harvesters(
    client: TestClient, published: tuple[Settings, PublishResult]
) -> None:
    settings, _result = published
    response = client.get("/catalog", headers={"Accept": "application/rdf+xml"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rdf+xml")
    served = Graph().parse(data=response.text, format="xml")
    assert len(served) == len(Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle"))
    assert client.get("/catalog?format=ttl").headers["content-type"].startswith("text/turtle")


def test_dist_serves_listed_files_only(client: TestClient, published: tuple[Settings, PublishResult]) -> None:
    _settings, result = published
    dump = result.source_dumps[0]
    response = client.get("/dist/" + dump.name)
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == dump.sha256
    assert client.get("/dist/release.json").status_code == 404
    assert client.get("/dist/../release.json").status_code == 404


def test_without_a_publication_the_answer_says_what_to_do(built: Settings) -> None:
    store = ox.Store.read_only(str(built.store_path))
    with TestClient(create_app(built, store=store)) as test_client:
        response = test_client.get("/.well-known/void")
    assert response.status_code == 404
    assert "bassin-kg publish" in response.text
