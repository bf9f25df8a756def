"""The HTML pages (web/pages.py + describe.py + templates): on the REAL graph, plus synthetic edge cases.

The real graph is built from the checkout's data by ``real_graph.py``; the figures asserted here are the
deck's (Béthune-Bruay: 3 forces, 4 weaknesses, 2 opportunities, 2 threats; 10.7 % unemployment, -0.4).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.pages import CONTENT_SECURITY_POLICY

from .html_checks import svg_charts, swot_counts
from .real_graph import real_settings

__all__ = ["real_settings"]

BASE = "https://w3id.org/bassin-minier/"
BETHUNE = "/id/territoire/ze2010/3123"
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bethune(client: TestClient) -> str:
    response = client.get(BETHUNE, headers=HTML)
    assert response.status_code == 200, response.text
    return response.text


def assert_security_headers(headers: object) -> None:
    assert isinstance(headers, dict) or hasattr(headers, "get")
    csp = headers.get("content-security-policy")  # type: ignore[attr-defined]
    assert csp == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers.get("x-content-type-options") == "nosniff"  # type: ignore[attr-defined]
    assert headers.get("referrer-policy")  # type: ignore[attr-defined]


class TestTerritoryPage:
    def test_swot_grid_has_the_decks_items_per_box(self, bethune: str) -> None:
        assert swot_counts(bethune) == {"force": 3, "faiblesse": 4, "opportunite": 2, "menace": 2}
        for title in ("Forces", "Faiblesses", "Opportunités", "Menaces"):
            assert f">{title} <span" in bethune

    def test_actors_named_in_items_are_linked(self, bethune: str) -> None:
        # force 1 names CRITT M2A, CREPIM and PLASTIUM: each is linked inside the item's text
        for slug, name in (("critt-m2a", "CRITT M2A"), ("crepim", "CREPIM"), ("plastium", "PLASTIUM")):
            assert f'<a class="actor" href="/id/acteur/{slug}">{name}</a>' in bethune

    def test_two_accessible_svg_charts_with_their_data(self, bethune: str) -> None:
        charts = svg_charts(bethune)
        assert len(charts) == 2
        for chart in charts:
            assert chart["role"] == "img"
            chart_id = chart["labelledby"].split()[0].removesuffix("-title")
            assert chart["labelledby"] == f"{chart_id}-title {chart_id}-desc"
        projects, hard = charts
        assert "Aides à domicile et aides ménagères : 656" in projects["desc"]
        assert "difficiles" in hard["title"]
        # the table fallback repeats the figures with their sources
        assert re.search(r'<td class="num">656</td><td><span class="source">source&nbsp;: ', bethune)

    def test_unemployment_rate_and_change_with_source(self, bethune: str) -> None:
        assert "10,7 %" in bethune
        assert "-0,4 point" in bethune
        assert "2e trimestre 2018" in bethune
        assert "unemployment.csv, ligne 2" in bethune

    def test_every_item_cites_its_deck_lines(self, bethune: str) -> None:
        assert "plaquette 2019, lignes 4–10" in bethune
        assert bethune.count("swot_items.csv, ligne") == 11

    def test_labels_not_iris_and_french(self, bethune: str) -> None:
        assert '<html lang="fr">' in bethune
        assert "<h1>Béthune Bruay</h1>" in bethune
        assert ">zone d&#39;emploi 2010</a>" in bethune  # the type, by its French label

    def test_security_headers(self, client: TestClient) -> None:
        response = client.get(BETHUNE, headers=HTML)
        assert_security_headers(response.headers)
        assert "<script" not in response.text
        assert " style=" not in response.text  # the CSP allows no inline style


class TestOtherPages:
    def test_home_shows_the_four_territories_side_by_side(self, client: TestClient) -> None:
        response = client.get("/", headers=HTML)
        assert response.status_code == 200
        assert_security_headers(response.headers)
        names = re.findall(r'<h2 id="t-(\d{4})">', response.text)
        assert names == ["3123", "3122", "3114", "3115"]
        assert "10,7 %" in response.text
        assert "14,9 %" in response.text
        assert 'href="/id/territoire/ze2010/3115"' in response.text

    def test_occupation_page(self, client: TestClient) -> None:
        response = client.get("/id/metier/deck/chefs-cuisiniers", headers=HTML)
        assert response.status_code == 200
        text = response.text
        assert "<h1>Chefs cuisiniers</h1>" in text
        assert "<code>S1Z80</code>" in text  # its FAP-2009 family
        assert re.search(r"<code>G\d{4}</code>", text)  # ROME codes, through the FAP-ROME passage
        assert re.search(r'href="/id/territoire/ze2010/3123"[^>]*>Béthune Bruay</a>', text)
        assert "100 %" in text
        assert "recruitment_difficulties.csv, ligne 3" in text

    def test_actor_page(self, client: TestClient) -> None:
        response = client.get("/id/acteur/critt-m2a", headers=HTML)
        assert response.status_code == 200
        text = response.text
        assert "<h1>CRITT M2A</h1>" in text
        assert 'href="/id/type-acteur/centre-de-transfert-technologique"' in text
        assert 'href="/id/swot/ze2010-3123/force-1"' in text
        assert re.search(r'href="/id/territoire/ze2010/3123"[^>]*>Béthune Bruay</a>', text)

    def test_swot_item_page(self, client: TestClient) -> None:
        response = client.get("/id/swot/ze2010-3123/faiblesse-1", headers=HTML)
        assert response.status_code == 200
        assert "Élément SWOT · Faiblesses" in response.text
        assert "Forte dépendance des entreprises au secteur automobile" in response.text
        assert "plaquette 2019, lignes 23–25" in response.text

    def test_generic_page_is_a_table_of_properties(self, client: TestClient) -> None:
        response = client.get("/id/source/deck/4", headers=HTML)
        assert response.status_code == 200
        assert '<table class="props">' in response.text
        assert "trajectoire-economique-bassin-minier-2019.txt" in response.text
        # resources that point to it, by their label
        assert "swot_items.csv, ligne 2" in response.text

    def test_ontology_documentation(self, client: TestClient) -> None:
        response = client.get("/def", headers=HTML)
        assert response.status_code == 200
        assert_security_headers(response.headers)
        text = response.text
        assert '<article class="term" id="Force">' in text
        assert '<article class="term" id="territoire">' in text
        assert "Strength" in text
        assert "Élément de la case « Forces »" in text
        # bm:mentionne has range bm:Acteur, shown by its label and linked to its anchor
        mention = text[text.index('id="mentionne"') :]
        assert '<a href="/def#Acteur"' in mention[: mention.index("</article>")]

    def test_ontology_as_rdf(self, client: TestClient) -> None:
        for response in (client.get("/def.ttl"), client.get("/def", headers={"accept": "text/turtle"})):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/turtle")
            graph = rdflib.Graph().parse(data=response.text, format="turtle")
            force = rdflib.URIRef(BASE + "def#Force")
            assert (force, rdflib.RDF.type, rdflib.OWL.Class) in graph
        assert client.get("/def.jsonld").headers["content-type"] == "application/ld+json"


class TestQueryPage:
    def test_form_works_without_javascript(self, client: TestClient) -> None:
        response = client.get("/query", headers=HTML)
        assert response.status_code == 200
        assert '<form class="editor" method="get" action="/query">' in response.text
        assert '<textarea id="query" name="query"' in response.text
        assert "<script" not in response.text
        # the named queries are there, ready to run
        assert 'href="/query?name=swot-territoire"' in response.text

    def test_results_as_a_table_with_downloads(self, client: TestClient) -> None:
        query = (
            "PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
            "SELECT ?code WHERE { ?z a igeo:ZoneDEmploi2010 ; igeo:codeINSEE ?code } ORDER BY ?code"
        )
        response = client.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        codes = re.findall(r"<td>(\d{4})</td>", response.text)
        assert {"3114", "3115", "3122", "3123"} <= set(codes)
        links = re.findall(r'<a href="(/sparql\?[^"]+)">(CSV|TSV|JSON|XML)</a>', response.text)
        assert [name for _, name in links] == ["CSV", "TSV", "JSON", "XML"]
        csv_link = links[0][0].replace("&amp;", "&")
        assert parse_qs(urlsplit(csv_link).query)["query"] == [query]
        download = client.get(csv_link)
        assert download.status_code == 200
        assert download.headers["content-type"].startswith("text/csv")
        assert "3123" in download.text

    def test_named_query_choice_is_bound_and_run(self, client: TestClient) -> None:
        response = client.get("/query", params={"name": "swot-territoire"}, headers=HTML)
        assert response.status_code == 200
        assert "VALUES (?territory)" in response.text  # the example, bound
        assert "11 résultats" in response.text  # Béthune-Bruay: 3 + 4 + 2 + 2

    def test_construct_results_offer_rdf_downloads(self, client: TestClient) -> None:
        query = f"CONSTRUCT WHERE {{ <{BASE}id/acteur/critt-m2a> ?p ?o }}"
        response = client.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        assert ">Turtle</a>" in response.text
        assert ">JSON-LD</a>" in response.text
        assert '<th scope="col">prédicat</th>' in response.text

    def test_malformed_query_is_a_400_with_the_parsers_message(self, client: TestClient) -> None:
        response = client.get("/query", params={"query": "SELECT WHERE {"}, headers=HTML)
        assert response.status_code == 400
        assert 'role="alert"' in response.text
        assert "malformed query" in response.text


class TestRowCap:
    def test_rows_beyond_the_cap_are_cut_with_a_notice(self, real_settings: Settings) -> None:
        with TestClient(create_app(real_settings.replace(html_row_cap=3))) as capped:
            query = "SELECT ?s WHERE { ?s a <https://w3id.org/bassin-minier/def#Force> }"
            response = capped.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        assert response.text.count("<tr><td>") == 3
        assert "Seules les 3 premières lignes sont affichées" in response.text


# --- synthetic edge cases ----------------------------------------------------------------------------
# SYNTHETIC data (made-up IRIs and labels) for what the real graph does not contain: hostile labels.
HOSTILE = "<script>alert('x')</script> & <b>gras</b>"


@pytest.fixture
def hostile_client(tmp_path: Path) -> Iterator[TestClient]:
    store = ox.Store()
    me = ox.NamedNode(BASE + "id/acteur/hostile")
    label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    see_also = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso")
    graph = ox.NamedNode(BASE + "id/graph/test")
    store.extend(
        [
            ox.Quad(me, label, ox.Literal(HOSTILE, language="fr"), graph),
            ox.Quad(me, see_also, ox.NamedNode("javascript:alert(1)"), graph),
        ]
    )
    settings = Settings(root=tmp_path, max_concurrent_queries=1)
    with TestClient(create_app(settings, store=store)) as test_client:
        yield test_client


class TestEscaping:
    def test_a_label_with_markup_is_escaped(self, hostile_client: TestClient) -> None:
        response = hostile_client.get("/id/acteur/hostile", headers=HTML)
        assert response.status_code == 200
        assert "<script>" not in response.text
        assert "<b>gras</b>" not in response.text
        assert (
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;gras&lt;/b&gt;" in response.text
        )

    def test_an_iri_with_a_script_scheme_is_not_a_link(self, hostile_client: TestClient) -> None:
        response = hostile_client.get("/id/acteur/hostile", headers=HTML)
        assert 'href="javascript:' not in response.text
        assert "javascript:alert(1)" in response.text  # shown, as text

    def test_query_results_are_escaped(self, hostile_client: TestClient) -> None:
        query = "SELECT ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l }"
        response = hostile_client.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        assert "<script>alert" not in response.text
        assert "&lt;script&gt;" in response.text
