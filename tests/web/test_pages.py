"""The HTML pages (web/pages.py, query_pages.py, describe/, templates): REAL graph, synthetic edge cases.

The real graph is built from the checkout's data by ``real_graph.py``; the figures asserted here are the
deck's (Béthune-Bruay: 3 forces, 4 weaknesses, 2 opportunities, 2 threats; 10.7 % unemployment, -0.4).
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient

from bassin_kg.progress import Progress
from bassin_kg.release.replace import run_loader
from bassin_kg.settings import Settings
from bassin_kg.sources.registry import loader
from bassin_kg.web.app import create_app
from bassin_kg.web.page_support import CONTENT_SECURITY_POLICY
from bassin_kg.web.serving.cache import CachedResponse
from bassin_kg.web.sparql import SparqlService

from .html_checks import svg_charts, swot_counts
from .real_graph import real_settings

__all__ = ["real_settings"]

BASE = "https://w3id.org/bassin-minier/"
BETHUNE = "/id/territoire/ze2010/3123"
PROJECT = Path(__file__).resolve().parents[2]
#: SYNTHETIC Urssaf export (the published layout, invented figures): see tests/fixtures/acoss/README.md
ACOSS_FIXTURE = Path("tests") / "fixtures" / "acoss" / "effectifs-ze-synthetic.csv"
HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(real_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(real_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bethune(client: TestClient) -> str:
    response = client.get(BETHUNE, headers=HTML)
    assert response.status_code == 200, response.text
    return str(response.text)


def assert_security_headers(headers: Mapping[str, str]) -> None:
    csp = headers.get("content-security-policy")
    assert csp == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("referrer-policy")


class TestTerritoryPage:
    def test_swot_grid_has_the_decks_items_per_box(self, bethune: str) -> None:
        assert swot_counts(bethune) == {"force": 3, "faiblesse": 4, "opportunite": 2, "menace": 2}
        for title in ("Forces", "Faiblesses", "Opportunités", "Menaces"):
            assert f">{title} <span" in bethune

    def test_actors_named_in_items_are_linked(self, bethune: str) -> None:
        # force 1 names CRITT M2A, CREPIM and PLASTIUM: each is linked inside the item's text
        for slug, name in (("critt-m2a", "CRITT M2A"), ("crepim", "CREPIM"), ("plastium", "PLASTIUM")):
            assert f'<a class="actor" href="/id/acteur/{slug}">{name}</a>' in bethune

    def test_an_accessible_svg_chart_with_its_data(self, bethune: str) -> None:
        charts = svg_charts(bethune)
        assert len(charts) == 1
        (projects,) = charts
        assert projects["role"] == "img"
        assert projects["labelledby"] == "chart-projets-title chart-projets-desc"
        assert "Aides à domicile et aides ménagères : 656" in projects["desc"]
        # the table fallback repeats the figures with their sources
        assert re.search(r'<td class="num">656</td><td><span class="source">source&nbsp;: ', bethune)

    def test_five_occupations_at_100_percent_are_a_sentence_not_five_equal_bars(self, bethune: str) -> None:
        # the deck gives Béthune-Bruay five occupations, all at 100 %: no chart can rank them
        assert 'id="chart-difficultes"' not in bethune
        assert "5 métiers à 100 % de projets jugés difficiles en 2018" in bethune
        start = bethune.index('id="difficultes-egales"')
        section = bethune[start : bethune.index("</figure>", start)]
        assert section.count("<li>") == 5
        assert ">Médecins</a>" in section

    def test_links_to_the_trajectory_and_the_basin(self, bethune: str) -> None:
        assert 'href="/trajectoire/ze2010/3123"' in bethune
        assert 'href="/id/territoire/bassin-minier"' in bethune

    def test_unemployment_rate_and_change_with_source(self, bethune: str) -> None:
        assert "10,7 %" in bethune
        assert "-0,4 point" in bethune
        assert "2e trimestre 2018" in bethune
        assert "unemployment.csv, ligne 2" in bethune

    def test_every_item_cites_its_deck_lines(self, bethune: str) -> None:
        assert "diaporama 2019, lignes 4–10" in bethune
        assert bethune.count("swot_items.csv, ligne") == 11

    def test_labels_not_iris_and_french(self, bethune: str) -> None:
        assert '<html lang="fr">' in bethune
        assert "<h1>Béthune Bruay</h1>" in bethune
        assert ">zone d&#39;emploi 2010</a>" in bethune  # the type, by its French label

    def test_overlaps_with_other_zonings_by_share_of_communes(self, bethune: str) -> None:
        section = bethune[bethune.index('id="zonages"') : bethune.index('id="donnees"')]
        rows = re.findall(r"<tr><td><a [^>]*>([^<]+)</a></td><td>([^<]+)</td><td>(\d+)</td>", section)
        # 2020 zones first, largest share first; then the BMO bassins
        assert rows[0] == ("Béthune", "zone d&#39;emploi 2020", "3205")
        assert rows[-1][1] == "bassin d&#39;emploi BMO"
        assert (
            '<td class="num">85</td><td class="num">83\u202f%</td><td class="num">78\u202f%</td>' in section
        )

    def test_without_urssaf_data_no_chart_only_one_line_saying_it_is_not_published(
        self, bethune: str
    ) -> None:
        assert len(svg_charts(bethune)) == 1
        assert 'id="emploi"' not in bethune
        assert 'id="chart-emploi"' not in bethune
        hints = re.findall(r'<p class="src acoss-absent">(.*?)</p>', bethune)
        assert len(hints) == 1
        assert "n'est pas publiée sur ce serveur" in hints[0].replace("&#39;", "'")
        # a visitor cannot run the maintainer's command: none on a public page
        assert "<code>bassin-kg" not in bethune
        assert "ingest" not in bethune
        assert 'href="/id/territoire/ze2020/3205"' in hints[0]

    def test_a_zone_outside_the_deck_gets_no_urssaf_line(self, client: TestClient) -> None:
        # Lille's 2010 zone: the Urssaf ingest loads only the basin's zones, so nothing to offer there
        response = client.get("/id/territoire/ze2010/3111", headers=HTML)
        assert response.status_code == 200
        assert "acoss" not in response.text

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
        # figures carry their unit: a count of projects, a share of projects
        assert "(656 projets)" in response.text
        # the deck's five occupations at 100 %: all five, not "the most difficult"
        assert "5 métiers à 100 % de projets jugés difficiles en 2018" in response.text
        assert "le plus difficile" not in response.text
        assert 'href="/id/territoire/bassin-minier"' in response.text
        assert 'href="/trajectoire/ze2010/3115"' in response.text
        assert "taux de chômage, 2e trimestre 2018" in response.text

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
        assert "diaporama 2019, lignes 23–25" in response.text

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
        # a French page: the English label stays in the RDF, not beside the French one
        assert "Strength" not in text
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


class TestQueryLanes:
    """The visitor's own query text runs in the public lane, as on /sparql; the site's queries do not."""

    @pytest.fixture
    def lanes(self, client: TestClient, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
        service: SparqlService = client.app.state.sparql  # type: ignore[attr-defined]
        original = service.run_query
        calls: list[tuple[str, bool]] = []

        async def spy(query: str, **kwargs: Any) -> tuple[CachedResponse, bool]:
            calls.append((query, bool(kwargs.get("public", False))))
            return await original(query, **kwargs)

        monkeypatch.setattr(service, "run_query", spy)
        return calls

    def test_query_page_runs_the_visitors_text_in_the_public_lane(
        self, client: TestClient, lanes: list[tuple[str, bool]]
    ) -> None:
        query = "SELECT ?s WHERE { ?s a <https://w3id.org/bassin-minier/def#Menace> } LIMIT 3"
        response = client.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        assert (query, True) in lanes
        # the labels of the results are the site's own queries: they keep the reserved lane
        assert all(not public for text, public in lanes if text != query)

    def test_named_query_page_runs_in_the_sites_lane(
        self, client: TestClient, lanes: list[tuple[str, bool]]
    ) -> None:
        response = client.get("/queries/swot-territoire", params={"territory": "3123"}, headers=HTML)
        assert response.status_code == 200
        assert lanes
        assert not any(public for _, public in lanes)


class TestRowCap:
    def test_rows_beyond_the_cap_are_cut_with_a_notice(self, real_settings: Settings) -> None:
        with TestClient(create_app(real_settings.replace(html_row_cap=3))) as capped:
            query = "SELECT ?s WHERE { ?s a <https://w3id.org/bassin-minier/def#Force> }"
            response = capped.get("/query", params={"query": query}, headers=HTML)
        assert response.status_code == 200
        assert response.text.count("<tr><td>") == 3
        assert "Seules les 3 premières lignes sont affichées" in response.text


# --- the Urssaf series, on the real build plus a SYNTHETIC export -------------------------------------
@pytest.fixture(scope="module")
def acoss_settings(real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the real build with the SYNTHETIC Urssaf export (invented figures) ingested, as
    ``bassin-kg ingest acoss tests/fixtures/acoss/effectifs-ze-synthetic.csv`` does."""
    project = tmp_path_factory.mktemp("acoss-project")
    shutil.copytree(real_settings.root, project, symlinks=True, dirs_exist_ok=True)
    (project / ACOSS_FIXTURE).parent.mkdir(parents=True)
    shutil.copy(PROJECT / ACOSS_FIXTURE, project / ACOSS_FIXTURE)
    settings = real_settings.replace(root=project, build_dir=project / "build")
    args = argparse.Namespace(file=project / ACOSS_FIXTURE)
    run_loader(settings, loader("ingest", "acoss"), args, Progress(quiet=True))
    return settings


@pytest.fixture(scope="module")
def acoss_client(acoss_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(acoss_settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def bethune_acoss(acoss_client: TestClient) -> str:
    response = acoss_client.get(BETHUNE, headers=HTML)
    assert response.status_code == 200, response.text
    return str(response.text)


class TestEmploymentSeries:
    # the figures are those of the SYNTHETIC export: 3205 Béthune, 2018-Q2, 50200.5 (CVS), file line 3
    def test_a_second_chart_the_series_of_the_main_2020_zone(self, bethune_acoss: str) -> None:
        charts = svg_charts(bethune_acoss)
        assert len(charts) == 2
        series = charts[1]
        assert series["role"] == "img"
        assert series["labelledby"] == "chart-emploi-title chart-emploi-desc"
        assert series["title"] == "Effectifs salariés du secteur privé (CVS) – zone d'emploi 2020 Béthune"
        assert "12 trimestres" in series["desc"]
        assert "1er trimestre 2018 : 50\u202f100,5" in series["desc"]
        # the deck's unemployment rate for 2018-Q2 is marked on the chart
        assert "Repère : 2e trimestre 2018 : chômage 10,7 % (diaporama)" in series["desc"]

    def test_the_decks_figure_beside_the_series_with_both_sources(self, bethune_acoss: str) -> None:
        aside = bethune_acoss[bethune_acoss.index('<aside class="beside"') : bethune_acoss.index("</aside>")]
        assert "Au 2e trimestre 2018" in aside
        assert '<dd class="big">10,7 %</dd>' in aside
        assert "unemployment.csv, ligne 2" in aside
        assert '<dd class="big">50\u202f200,5</dd>' in aside
        assert "effectifs-ze-synthetic.csv, ligne 3" in aside

    def test_source_licence_and_zoning_note(self, bethune_acoss: str) -> None:
        section = bethune_acoss[bethune_acoss.index('id="emploi"') : bethune_acoss.index('id="zonages"')]
        assert "Urssaf Caisse nationale (ex-Acoss)" in section
        assert "fichier tests/fixtures/acoss/effectifs-ze-synthetic.csv, lignes 2–13" in section
        assert re.search(
            r'licence <a href="https://opendatacommons.org/licenses/odbl/1-0/"[^>]*>ODbL 1.0</a>', section
        )
        note = re.search(r'<p class="notice zoning">(.*?)</p>', section, re.DOTALL)
        assert note is not None
        assert "n'est pas identique à la zone d'emploi 2010" in note.group(1)
        assert "85 communes en commun, soit 83\u202f% des communes de la zone 2010" in note.group(1)
        assert 'href="/queries/emploi-acoss-territoire?territory=3205"' in section

    def test_the_data_table_lists_every_quarter_with_its_line(self, bethune_acoss: str) -> None:
        start = bethune_acoss.index('id="chart-emploi"')
        table = bethune_acoss[start : bethune_acoss.index("</figure>", start)]
        rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td>", table)
        assert len(rows) == 12
        assert rows[1] == ("2e trimestre 2018", "50\u202f200,5")
        assert "effectifs-ze-synthetic.csv, ligne 13" in table
        assert " style=" not in bethune_acoss

    def test_a_zone_the_file_does_not_cover_says_so_in_one_line(self, acoss_client: TestClient) -> None:
        # the synthetic file has rows for 3205 and 3215, none for Douai (3212), Douaisis' main 2020 zone
        response = acoss_client.get("/id/territoire/ze2010/3114", headers=HTML)
        assert response.status_code == 200
        assert 'id="chart-emploi"' not in response.text
        lines = re.findall(r'<p class="src acoss-absent">(.*?)</p>', response.text)
        assert len(lines) == 1
        assert "ne donne pas de série" in lines[0]
        assert ">Douai</a>" in lines[0]


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
