"""The YASGUI editor of /query (static/query-editor.js) in a REAL headless Chromium: real server and graph.

The bundle is the one npm installed from package-lock.json (``make vendor``, which ``make test`` runs);
without it, or without Chromium, these tests FAIL rather than skip. The server runs in a project folder
that links the real graph's build and the checkout's ``node_modules``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bassin_kg.settings import Settings
from bassin_kg.web.vendor import YASGUI_BUILD
from serving import bassin_kg_server, cli

from .real_graph import real_settings
from .test_browser import run_chromium

__all__ = ["real_settings"]

PROJECT = Path(__file__).resolve().parents[2]
#: long enough for the deferred scripts, YASGUI's start and the query it runs against /sparql
BUDGET = "--virtual-time-budget=20000"
#: Chromium prints the page's console, CSP reports included, on stderr
LOGGING = ("--enable-logging=stderr", "--v=0")


@pytest.fixture(scope="module")
def server(real_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``bassin-kg serve`` over the real build, in a project folder that also holds node_modules."""
    modules = PROJECT / "node_modules"
    if not (PROJECT / YASGUI_BUILD / "yasgui.min.js").is_file():
        pytest.fail(
            f"YASGUI is not installed in {modules}: run `make vendor` (npm ci); this test fails, not skips"
        )
    project = tmp_path_factory.mktemp("editor-project")
    for entry in real_settings.root.iterdir():
        (project / entry.name).symlink_to(entry)
    (project / "node_modules").symlink_to(modules)
    command = cli("-q", "--root", str(project), "serve", "--store", str(real_settings.store_path))
    with bassin_kg_server(command, ready_path="/", timeout=60) as running:
        yield running.url


def dump(tmp_path: Path, url: str) -> tuple[str, list[str]]:
    """The DOM once the page's scripts ran, and the console messages about the CSP."""
    result = run_chromium(tmp_path, *LOGGING, BUDGET, "--dump-dom", url)
    assert result.returncode == 0, result.stderr[-2000:]
    csp = [
        line for line in result.stderr.splitlines() if "CONSOLE" in line and "Content Security Policy" in line
    ]
    return result.stdout, csp


def editor_text(dom: str) -> str:
    """The text CodeMirror shows (the lines it rendered), without its markup."""
    code = dom[dom.index('class="CodeMirror-code"') :]
    lines = re.findall(r'<pre class=" CodeMirror-line "[^>]*>(.*?)</pre>', code)
    return "\n".join(html.unescape(re.sub(r"<[^>]+>", "", line)) for line in lines)


def named_query_count() -> int:
    return len(list((PROJECT / "queries").glob("*.rq")))


@pytest.fixture(scope="module")
def swot_page(server: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    return dump(tmp_path_factory.mktemp("chromium-swot"), server + "/query?name=swot-territoire")


class TestYasguiInChromium:
    def test_yasgui_replaces_the_form(self, swot_page: tuple[str, list[str]]) -> None:
        dom, _ = swot_page
        assert '<html lang="fr" class="yasgui-ready">' in dom
        assert '<div class="yasgui">' in dom
        assert 'class="CodeMirror ' in dom  # YASQE's editor
        # the plain form is still in the page, hidden only now that YASGUI is up
        assert re.search(
            r'<form class="editor" method="get" action="/query" data-endpoint="/sparql"[^>]* hidden="">', dom
        )

    def test_the_editor_holds_the_pages_query(self, swot_page: tuple[str, list[str]]) -> None:
        dom, _ = swot_page
        text = editor_text(dom)
        assert "# title: SWOT d'une zone d'emploi" in text
        assert "SELECT ?territoryLabel ?category ?rank ?text" in text
        # the tab is named after the chosen named query
        assert re.search(r'<a role="tab"[^>]*><span>SWOT d\'une zone d\'emploi</span>', dom)

    def test_the_named_queries_are_available(self, swot_page: tuple[str, list[str]]) -> None:
        dom, _ = swot_page
        assert f'data-named-queries="{named_query_count()}"' in dom
        assert (
            len(re.findall(r'<a href="/query\?name=[^"]+" data-name="[^"]+" data-query="', dom))
            == named_query_count()
        )

    def test_results_come_back_in_yasrs_table_with_downloads(self, swot_page: tuple[str, list[str]]) -> None:
        dom, _ = swot_page
        # YASGUI ran the query against this server's /sparql: Béthune-Bruay's 3 + 4 + 2 + 2 SWOT items
        assert re.search(r"11 résultat\(s\) en [\d.]+ s", dom)
        assert '<table id="DataTables_Table_0" class="dataTable' in dom
        assert dom.count("Béthune") >= 11
        # the server's table, now redundant, is hidden
        assert '<section aria-labelledby="resultats" hidden="">' in dom
        downloads = re.search(r'<p class="downloads yasgui-downloads">(.*?)</p>', dom)
        assert downloads is not None
        assert re.findall(r'<a href="/sparql\?query=[^"]+&amp;format=(\w+)">', downloads.group(1)) == [
            "csv",
            "tsv",
            "json",
            "xml",
        ]

    def test_no_script_or_connection_was_refused(self, swot_page: tuple[str, list[str]]) -> None:
        _, csp = swot_page
        # the column resizer's <style> is allowed by its hash; a refused script, or a fetch to another
        # origin (prefix.cc, LOV, a CDN), would show here
        assert csp == []

    def test_yasguis_words_are_french_and_result_links_stay_on_this_server(
        self, swot_page: tuple[str, list[str]]
    ) -> None:
        dom, _ = swot_page
        assert "Lignes 1 à 11 sur 11" in dom
        assert ">Tableau<" in dom
        for english in ("Showing 1 to", ">Table<", ">Response<", "Simple view", "Filter query results"):
            assert english not in dom
        # the named query's columns under their French headers, the variable in the tooltip
        assert 'title="?territoryLabel">territoire</th>' in dom

    def test_result_links_go_to_this_servers_pages(self, server: str, tmp_path: Path) -> None:
        # the first query a visitor runs: the example, whose zones are IRIs under the base
        query = "SELECT DISTINCT ?zone WHERE { ?zone a <http://rdf.insee.fr/def/geo#ZoneDEmploi2010> }"
        dom, csp = dump(tmp_path, server + "/query?" + urlencode({"query": query}))
        table = dom[dom.index('id="DataTables_Table_0"') :]
        assert 'href="/id/territoire/ze2010/3123"' in table
        assert 'href="https://w3id.org/bassin-minier/id/' not in table
        assert csp == []

    def test_the_default_query_without_results(self, server: str, tmp_path: Path) -> None:
        dom, csp = dump(tmp_path, server + "/query")
        assert 'class="yasgui-ready"' in dom
        assert "SELECT DISTINCT ?zone ?nom WHERE {" in editor_text(dom)
        assert "DataTables_Table_0" not in dom  # nothing was run: the visitor has not asked yet
        assert csp == []
