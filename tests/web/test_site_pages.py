"""The pages issue 14 added or fixed, on the REAL graph: the basin, the trajectories, the service page,
the named queries' forms and exports, and what a French reader must not see.

Figures asserted are the deck's (Lens-Hénin: 1 576 projects for "Agents d'entretien de locaux") and
those of the committed BMO 2024 extract (bassin 3227 LENS: 497 projects for T4X60).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.query_pages import DEFAULT_QUERY

from .html_checks import svg_charts
from .real_graph import real_settings

__all__ = ["real_settings"]

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
BASIN = "/id/territoire/bassin-minier"
LENS_TRAJECTORY = "/trajectoire/ze2010/3122"


@pytest.fixture(scope="module")
def client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


def page(client: TestClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, response.text[-2000:]
    return response.text


class TestBasinPage:
    def test_linked_from_home_and_the_menu(self, client: TestClient) -> None:
        home = page(client, "/")
        assert home.count(f'href="{BASIN}"') >= 2  # the menu and the home page's own link

    def test_the_decks_conclusions(self, client: TestClient) -> None:
        text = page(client, BASIN)
        perspectives = text[text.index('id="perspectives"') : text.index('id="liens"')]
        assert perspectives.count('<li id="') == 6
        assert "Territoires de l’industrie" in perspectives
        links = text[text.index('id="liens"') : text.index('id="zones"')]
        assert links.count('<li id="') == 2
        assert "Complémentarité des filières industrielles" in links

    def test_the_multiplier_with_its_source_lines(self, client: TestClient) -> None:
        text = page(client, BASIN)
        multiplier = text[text.index('class="multiplier"') :]
        multiplier = multiplier[: multiplier.index("</div>")]
        assert re.search(r'<span class="n">1</span> emploi industriel direct', multiplier)
        assert '<span class="n">1,5</span> emplois indirects' in multiplier
        assert '<span class="n">3</span> emplois induits' in multiplier
        assert "diaporama 2019, lignes 376–379" in multiplier
        assert "multipliers.csv, ligne 2" in multiplier

    def test_four_zones_side_by_side_in_charts(self, client: TestClient) -> None:
        text = page(client, BASIN)
        charts = {c["labelledby"].split()[0].removesuffix("-title"): c for c in svg_charts(text)}
        assert set(charts) == {
            "chart-chomage",
            "chart-evolution",
            "chart-projets-2018",
            "chart-projets-2024",
            "chart-difficiles-2024",
        }
        assert "Lens Hénin : 13,8 %" in charts["chart-chomage"]["desc"]
        assert "Lens Hénin : -0,7 point" in charts["chart-evolution"]["desc"]
        # the deck's five occupations of Lens-Hénin: 1 576 + 537 + 493 + 492 + 413
        assert "Lens Hénin : 3\u202f511" in charts["chart-projets-2018"]["desc"]
        assert "Lens Hénin (LENS)" in charts["chart-projets-2024"]["desc"]
        rows = re.findall(r'<tr><th scope="row"><a href="/id/territoire/ze2010/(\d{4})"', text)
        assert rows == ["3123", "3122", "3114", "3115"]  # west to east
        assert text.count('href="/trajectoire/ze2010/') == 4


class TestTrajectory:
    def test_2018_beside_bmo_2024_per_occupation(self, client: TestClient) -> None:
        text = page(client, LENS_TRAJECTORY)
        assert "<h1>Lens Hénin : les métiers de 2018 face aux enquêtes BMO</h1>" in text
        projects = text[text.index('id="projets"') : text.index('id="difficultes"')]
        row = projects[projects.index("Agents d’entretien de locaux") :]
        row = row[: row.index("</tr>")]
        assert "1\u202f576" in row  # the deck, 2018
        assert "<code>T4X60</code>" in row
        assert '<td class="num">497</td>' in row  # BMO 2024, bassin LENS
        assert "rapprochement : même code, même libellé" in row
        # the bassin the figures are read in, and how far it is from the zone
        assert 'href="/id/territoire/bassin-bmo/3227"' in text

    def test_a_figure_without_counterpart_is_said_plainly(self, client: TestClient) -> None:
        text = page(client, LENS_TRAJECTORY)
        row = text[text.index("Chaudronniers, tôliers") :]
        row = row[: row.index("</tr>")]
        assert "Pas de correspondant" in row
        assert "secret statistique" in text

    def test_charts_of_both_measures(self, client: TestClient) -> None:
        charts = svg_charts(page(client, LENS_TRAJECTORY))
        assert [c["labelledby"].split()[0] for c in charts] == [
            "chart-trajectoire-projets-title",
            "chart-trajectoire-difficultes-title",
        ]
        assert (
            "Agents d’entretien de locaux : 2018 (diaporama) 1\u202f576, 2024 (BMO) 497" in charts[0]["desc"]
        )

    def test_unknown_zone_is_a_french_404(self, client: TestClient) -> None:
        assert "Zone sans chiffres du diaporama" in page(client, "/trajectoire/ze2010/9999", 404)
        assert "4 chiffres" in page(client, "/trajectoire/ze2010/abc", 404)


@pytest.fixture(scope="module")
def new_model_client(real_settings: Settings) -> Iterator[TestClient]:
    """The real graph moved to the data model of issue 12: a deck observation's occupation dimension is
    its FAP-2009 family, and the deck's own concept is kept in ``bm:metierDiaporama``."""
    store = ox.Store()
    store.extend(ox.Store.read_only(str(real_settings.store_path)).quads_for_pattern(None, None, None, None))
    store.update(
        """PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
DELETE { GRAPH ?g { ?obs sdmx-dimension:occupation ?deck } }
INSERT { GRAPH ?g { ?obs sdmx-dimension:occupation ?fap ; bm:metierDiaporama ?deck } }
WHERE {
  GRAPH ?g { ?obs sdmx-dimension:occupation ?deck }
  ?deck skos:inScheme <https://w3id.org/bassin-minier/id/schema/metiers-deck> ;
        skos:exactMatch|skos:narrowMatch|skos:closeMatch ?fap .
  ?fap skos:inScheme <https://w3id.org/bassin-minier/id/schema/fap2009> .
}"""
    )
    with TestClient(create_app(real_settings, store=store)) as test_client:
        yield test_client


def test_the_trajectory_reads_the_new_occupation_model_too(
    client: TestClient, new_model_client: TestClient
) -> None:
    before = page(client, LENS_TRAJECTORY)
    after = page(new_model_client, LENS_TRAJECTORY)

    def tables(text: str) -> str:
        return text[text.index('id="projets"') : text.index('id="graphiques"')]

    assert tables(after) == tables(before)


class TestEndpointAndFiles:
    def test_sparql_in_a_browser_is_a_page_about_the_endpoint(self, client: TestClient) -> None:
        text = page(client, "/sparql")
        assert "<h1>Point d'accès SPARQL</h1>" in text
        assert 'href="/query"' in text
        assert "http://testserver/sparql" in text
        # an RDF client, and curl's */*, still get the service description
        for accept in ("text/turtle", "*/*"):
            response = client.get("/sparql", headers={"accept": accept})
            assert response.headers["content-type"].startswith("text/turtle"), accept
        # and a browser sending a query gets its results, as before
        response = client.get("/sparql", params={"query": "ASK {}"}, headers=HTML)
        assert not response.headers["content-type"].startswith("text/html")

    def test_an_unknown_address_is_a_french_page_for_browsers(self, client: TestClient) -> None:
        text = page(client, "/nulle-part", 404)
        assert "Page introuvable" in text
        # programs keep FastAPI's JSON
        assert client.get("/nulle-part", headers={"accept": "application/json"}).json() == {
            "detail": "Not Found"
        }

    def test_favicon_and_no_cdn_swagger(self, client: TestClient) -> None:
        icon = client.get("/favicon.ico")
        assert icon.status_code == 200
        assert icon.headers["content-type"] == "image/svg+xml"
        assert client.get("/docs").status_code == 404  # Swagger UI came from a CDN: dropped
        assert client.get("/openapi.json").status_code == 200


class TestFrenchOnly:
    def test_curators_notes_are_not_on_public_pages(self, client: TestClient) -> None:
        assert "lists it among" not in page(client, "/id/acteur/critt-m2a")
        assert "Spelling of" not in page(client, "/id/metier/deck/agents-d-entretien-de-locaux")
        # but the RDF keeps them
        ttl = client.get("/id/acteur/critt-m2a.ttl").text
        assert "lists it among" in ttl

    def test_actor_page_has_one_row_named_type(self, client: TestClient) -> None:
        text = page(client, "/id/acteur/critt-m2a")
        assert len(re.findall(r'<th scope="row"><a [^>]*>type</a></th>', text)) == 1
        assert re.search(r'<th scope="row"><a [^>]*>catégorie</a></th>', text)

    def test_overlaps_are_named_by_their_territories(self, client: TestClient) -> None:
        text = page(client, "/id/territoire/ze2010/3122")
        assert ">ze2010-3122</a>" not in text
        assert "Recouvrement Lens Hénin → LENS" in text

    def test_english_label_hidden_when_a_french_one_exists(self, client: TestClient) -> None:
        assert "mining basin" not in page(client, BASIN)


class TestNamedQueries:
    def test_queries_that_cannot_answer_here_are_greyed_with_the_reason(self, client: TestClient) -> None:
        for path in ("/", "/queries/"):
            text = page(client, path)
            assert "requête fédérée (SERVICE vers rdf.insee.fr) désactivée sur ce serveur" in text
            assert (
                "données non chargées sur ce serveur : séries d&#39;effectifs salariés de l&#39;Urssaf"
                in text
            )
            assert 'href="/queries/insee-departements"' not in text
        # reached anyway: the reason, not "Paramètre refusé" and an English message
        direct = page(client, "/queries/insee-departements")
        assert "Requête indisponible sur ce serveur" in direct
        assert "Paramètre refusé" not in direct
        editor = page(client, "/query?name=insee-zones-emploi")
        assert "Requête indisponible sur ce serveur" in editor

    def test_closed_value_sets_are_select_lists(self, client: TestClient) -> None:
        text = page(client, "/queries/territoires-par-secteur")
        assert '<select id="p-secteur" name="secteur"' in text
        assert '<option value="automobile">' in text
        # ROME codes are hundreds: a text field with the expected form
        rome = page(client, "/queries/territoires-rome")
        assert '<input id="p-rome" name="rome"' in rome
        assert "une lettre de A à N et 4 chiffres" in rome

    def test_an_unknown_value_says_so(self, client: TestClient) -> None:
        text = page(client, "/queries/swot-territoire?territoire=9999", 404)
        assert "aucune zone d&#39;emploi 2010 n&#39;a le code « 9999 » dans ce graphe" in text
        assert "0 résultat" not in text

    def test_a_decimal_comma_is_accepted(self, client: TestClient) -> None:
        comma = page(client, "/queries/metiers-difficiles-plusieurs-bassins?seuil=90,5")
        dot = page(client, "/queries/metiers-difficiles-plusieurs-bassins?seuil=90.5")
        assert re.search(r"\d+ résultats?\.", comma)
        assert re.findall(r"(\d+) résultats?\.", comma) == re.findall(r"(\d+) résultats?\.", dot)

    def test_french_csv_download(self, client: TestClient) -> None:
        text = page(client, "/queries/chomage-par-territoire")
        assert 'href="/queries/chomage-par-territoire?format=csv-fr"' in text
        response = client.get("/queries/chomage-par-territoire", params={"format": "csv-fr"})
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in response.headers["content-disposition"]
        body = response.content.decode("utf-8")
        assert body.startswith("\ufeffterritoryLabel;period;rate;change1y\r\n")
        assert "Lens Hénin;2018-Q2;13,8;-0,7\r\n" in body
        # format=csv stays RFC 4180
        plain = client.get("/queries/chomage-par-territoire", params={"format": "csv"}).text
        assert "Lens Hénin,2018-Q2,13.8,-0.7" in plain

    def test_french_csv_from_the_query_page(self, client: TestClient) -> None:
        query = "SELECT ?x WHERE { VALUES ?x { 12.5 } }"
        text = page(client, "/query?" + urlencode({"query": query}))
        assert "format=csv-fr" in text
        response = client.get("/query", params={"query": query, "format": "csv-fr"})
        assert response.content.decode("utf-8") == "\ufeffx;\r\n12,5\r\n".replace(";\r\n", "\r\n")

    def test_the_example_query_lists_each_zone_once_with_local_links(self, client: TestClient) -> None:
        assert "SELECT DISTINCT" in DEFAULT_QUERY
        text = page(client, "/query?" + urlencode({"query": DEFAULT_QUERY}))
        zones = re.findall(r'<td><a href="(/id/territoire/ze2010/\d{4})"', text)
        assert zones
        assert len(zones) == len(set(zones))
        assert 'href="https://w3id.org/bassin-minier/id/' not in text
