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


BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(("path", "heading"), [("/catalog", "Catalogue"), ("/.well-known/void", "VoID")])
def test_a_browser_gets_a_page_not_a_file(client: TestClient, path: str, heading: str) -> None:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "content-disposition" not in response.headers
    assert heading in response.text
    # its RDF forms are one click away, and the dumps are links to this server
    assert f'href="{path}?format=ttl"' in response.text
    if path == "/catalog":
        assert 'href="/dist/bassin-minier.ttl"' in response.text
        assert "Catalogue du graphe de connaissances du bassin minier" in response.text
    # an RDF client asking the same URL still gets RDF
    rdf = client.get(path, headers={"Accept": "text/turtle"})
    assert rdf.headers["content-type"].startswith("text/turtle")
    assert (
        client.get(path, params={"format": "ttl"}, headers={"Accept": BROWSER})
        .headers["content-type"]
        .startswith("text/turtle")
    )


def test_dist_lists_the_downloads(client: TestClient, published: tuple[Settings, PublishResult]) -> None:
    _settings, result = published
    response = client.get("/dist/", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    dump = result.source_dumps[0]
    assert f'href="/dist/{dump.name}"' in response.text
    assert dump.sha256 in response.text
    # an unknown file, asked for by a browser: a French page
    missing = client.get("/dist/nope.ttl", headers={"Accept": BROWSER})
    assert missing.status_code == 404
    assert "Aucun fichier publié" in missing.text
