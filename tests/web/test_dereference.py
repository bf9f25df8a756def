"""Dereferencing ``/id/…``: content negotiation, suffix and ``format=`` alternatives, headers, 404s.

Most tests run on the REAL graph (real_graph.py); the base-IRI and host tests use a SYNTHETIC store.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from httpx import Response

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.pages import PathRefusedError, resource_path

from .real_graph import real_settings

__all__ = ["real_settings"]

BASE = "https://w3id.org/bassin-minier/"
PATH = "/id/territoire/ze2010/3123"
IRI = BASE + PATH[1:]
BASIN = BASE + "id/territoire/bassin-minier"
IGEO_CODE = "http://rdf.insee.fr/def/geo#codeINSEE"
DCTERMS = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


Triple = tuple[str, str, str]


def parse(response: Response) -> set[Triple]:
    """The triples of an RDF answer, read by pyoxigraph from the format its Content-Type names."""
    media = response.headers["content-type"].split(";")[0]
    rdf_format = ox.RdfFormat.from_media_type(media)
    assert rdf_format is not None, media
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in ox.parse(response.content, rdf_format)}


def assert_describes_bethune(triples: set[Triple]) -> None:
    assert (f"<{IRI}>", f"<{IGEO_CODE}>", '"3123"') in triples
    # an incoming link, with the label of the resource it comes from
    assert (f"<{BASIN}>", f"<{DCTERMS}hasPart>", f"<{IRI}>") in triples
    assert any(s == f"<{BASIN}>" and p == f"<{RDFS}label>" for s, p, _ in triples)


class TestNegotiation:
    @pytest.mark.parametrize(
        "media", ["text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"]
    )
    def test_rdf_by_accept(self, client: TestClient, media: str) -> None:
        response = client.get(PATH, headers={"accept": media})
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        assert_describes_bethune(parse(response))

    def test_browsers_get_html(self, client: TestClient) -> None:
        response = client.get(PATH, headers={"accept": BROWSER})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"

    def test_q_values_decide(self, client: TestClient) -> None:
        response = client.get(PATH, headers={"accept": "text/turtle;q=0.5, application/ld+json;q=0.9"})
        assert response.headers["content-type"] == "application/ld+json"
        # HTML excluded by q=0: the wildcard gives the server's first RDF format, Turtle
        response = client.get(PATH, headers={"accept": "text/html;q=0, */*"})
        assert response.headers["content-type"].startswith("text/turtle")

    def test_nothing_acceptable_is_406(self, client: TestClient) -> None:
        response = client.get(PATH, headers={"accept": "application/sparql-results+json"})
        assert response.status_code == 406
        assert "text/turtle" in response.text

    @pytest.mark.parametrize(
        ("suffix", "media"),
        [
            (".ttl", "text/turtle"),
            (".jsonld", "application/ld+json"),
            (".nt", "application/n-triples"),
            (".rdf", "application/rdf+xml"),
        ],
    )
    def test_suffix_alternatives(self, client: TestClient, suffix: str, media: str) -> None:
        # the suffix wins over a browser's Accept
        response = client.get(PATH + suffix, headers={"accept": BROWSER})
        assert response.status_code == 200
        assert response.headers["content-type"].split(";")[0] == media
        assert_describes_bethune(parse(response))

    def test_format_parameter(self, client: TestClient) -> None:
        response = client.get(PATH, params={"format": "ttl"}, headers={"accept": BROWSER})
        assert response.headers["content-type"].startswith("text/turtle")
        response = client.get(PATH, params={"format": "json"})
        assert response.headers["content-type"] == "application/ld+json"
        json.loads(response.text)
        assert client.get(PATH, params={"format": "nonsense"}).status_code == 400


class TestHeaders:
    def test_vary_and_link_alternates(self, client: TestClient) -> None:
        for accept in (BROWSER, "text/turtle"):
            response = client.get(PATH, headers={"accept": accept})
            assert response.headers["vary"] == "Accept"
            link = response.headers["link"]
            for suffix, media in (
                (".ttl", "text/turtle"),
                (".jsonld", "application/ld+json"),
                (".nt", "application/n-triples"),
                (".rdf", "application/rdf+xml"),
                (".html", "text/html"),
            ):
                assert f'<{PATH}{suffix}>; rel="alternate"; type="{media}"' in link

    def test_html_page_links_its_rdf_alternates(self, client: TestClient) -> None:
        response = client.get(PATH, headers={"accept": BROWSER})
        assert f'<link rel="alternate" type="text/turtle" href="{PATH}.ttl"' in response.text

    def test_etag_and_304(self, client: TestClient) -> None:
        html = client.get(PATH, headers={"accept": BROWSER})
        turtle = client.get(PATH, headers={"accept": "text/turtle"})
        assert html.headers["etag"] != turtle.headers["etag"]  # one per representation
        again = client.get(PATH, headers={"accept": "text/turtle", "if-none-match": turtle.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""


class TestPathRefusedError:
    def test_unknown_iri_is_a_404_page(self, client: TestClient) -> None:
        response = client.get("/id/territoire/ze2010/9999", headers={"accept": BROWSER})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "Ressource inconnue" in response.text
        assert BASE + "id/territoire/ze2010/9999" in response.text

    @pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "application/rdf+xml"])
    def test_unknown_iri_for_rdf_clients(self, client: TestClient, accept: str) -> None:
        response = client.get("/id/territoire/ze2010/9999", headers={"accept": accept})
        assert response.status_code == 404
        assert response.headers["content-type"].split(";")[0] == accept
        assert parse(response) == set()  # an empty, parseable document

    @pytest.mark.parametrize(
        "path",
        [
            "/id/%2e%2e/%2e%2e/pyproject.toml",
            "/id/..%2f..%2fpyproject.toml",
            "/id/territoire/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
            "/id/territoire//ze2010",
            "/id/%00",
            "/id/a%5c..%5cb",
        ],
    )
    def test_traversal_is_refused_and_reads_no_file(self, client: TestClient, path: str) -> None:
        response = client.get(path, headers={"accept": BROWSER})
        assert response.status_code == 404
        assert "[build-system]" not in response.text
        assert "root:" not in response.text

    def test_static_files_cannot_escape_their_folder(self, client: TestClient) -> None:
        assert client.get("/static/style.css").status_code == 200
        assert client.get("/static/..%2fpages.py").status_code == 404

    def test_resource_path_canonicalises_and_refuses(self) -> None:
        assert resource_path("territoire/ze2010/%33123.ttl")[0] == "id/territoire/ze2010/3123"
        assert resource_path("metier/deck/d%C3%A9j%C3%A0")[0] == "id/metier/deck/d%C3%A9j%C3%A0"
        assert resource_path("metier/deck/déjà")[0] == "id/metier/deck/d%C3%A9j%C3%A0"
        for bad in ("..", "a/../b", "%2e%2e/x", "a//b", "x%0a", "%ff"):
            with pytest.raises(PathRefusedError):
                resource_path(bad)


# --- any base, any host (SYNTHETIC store: made-up IRIs) -------------------------------------------------
OTHER_BASE = "http://data.example.org/bm/"


@pytest.fixture
def other_base_client(tmp_path: Path) -> Iterator[TestClient]:
    store = ox.Store()
    thing = ox.NamedNode(OTHER_BASE + "id/acteur/exemple")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.add(
        ox.Quad(thing, label, ox.Literal("Exemple", language="fr"), ox.NamedNode(OTHER_BASE + "id/graph/g"))
    )
    settings = Settings(root=tmp_path, base_iri=OTHER_BASE, max_concurrent_queries=1)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


class TestBaseAndHost:
    def test_paths_map_to_the_configured_base(self, other_base_client: TestClient) -> None:
        response = other_base_client.get("/id/acteur/exemple.nt")
        assert response.status_code == 200
        assert f"<{OTHER_BASE}id/acteur/exemple>" in response.text

    def test_any_host_serves_the_same_links(self, other_base_client: TestClient) -> None:
        response = other_base_client.get(
            "/id/acteur/exemple", headers={"accept": BROWSER, "host": "bassin.example.fr:8443"}
        )
        assert response.status_code == 200
        assert "<h1>Exemple</h1>" in response.text
        assert 'href="/id/acteur/exemple.ttl"' in response.text  # relative: valid on whatever host
