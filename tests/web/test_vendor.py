"""The YASGUI bundle served from node_modules (web/vendor.py) and how the query page links it.

The bundle here is SYNTHETIC (a few bytes standing for ``yasgui.min.js``/``.css`` in a temporary project
folder), so these tests do not depend on npm; the real bundle, in a real browser, is test_query_editor.py.
The store is conftest.py's synthetic one; the named queries are the checkout's ``queries/``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.page_support import CONTENT_SECURITY_POLICY
from bassin_kg.web.vendor import RESIZER_STYLE_HASH, YASGUI_BUILD

from .conftest import ClientFactory

PROJECT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}
SCRIPT = b"/* synthetic stand-in for yasgui.min.js */ window.Yasgui = function () {};\n"
STYLESHEET = b"/* synthetic stand-in for yasgui.min.css */ .yasgui { color: black; }\n"
VERSION = "9.9.9-synthetic"


def make_project(root: Path, *, bundle: bool) -> Path:
    """A project folder with the checkout's named queries and, if ``bundle``, a synthetic YASGUI build."""
    shutil.copytree(PROJECT / "queries", root / "queries")
    if bundle:
        build = root / YASGUI_BUILD
        (build / "ts").mkdir(parents=True)
        (build / "yasgui.min.js").write_bytes(SCRIPT)
        (build / "yasgui.min.css").write_bytes(STYLESHEET)
        (build / "yasgui.min.js.map").write_text('{"version": 3}\n')
        (build / "yasgui.esm.js").write_text("export default {};\n")  # present, yet not served
        (build / "ts" / "index.d.ts").write_text("export {};\n")
        (build.parent / "package.json").write_text(json.dumps({"name": "@zazuko/yasgui", "version": VERSION}))
    (root / "secret.txt").write_text("outside the build folder\n")
    return root


ProjectClient = Callable[[bool], TestClient]


@pytest.fixture
def project_client(make_client: ClientFactory, tmp_path: Path) -> ProjectClient:
    def factory(bundle: bool) -> TestClient:
        return make_client(root=make_project(tmp_path / "project", bundle=bundle))

    return factory


def assert_strict_csp(headers: Mapping[str, str]) -> None:
    csp = headers.get("content-security-policy", "")
    assert csp == CONTENT_SECURITY_POLICY
    for directive in ("script-src 'self';", "style-src 'self';", "default-src 'self';"):
        assert directive in csp
    for relaxation in ("unsafe-inline", "unsafe-eval", "http:", "https:"):
        assert relaxation not in csp


class TestWithoutTheBundle:
    def test_the_page_is_the_plain_form_without_any_script(self, project_client: ProjectClient) -> None:
        response = project_client(False).get("/query", headers=HTML)
        assert response.status_code == 200
        assert "<script" not in response.text
        assert "yasgui" not in response.text
        assert '<form class="editor" method="get" action="/query">' in response.text
        assert '<textarea id="query" name="query"' in response.text
        assert 'href="/query?name=swot-territoire">' in response.text  # plain links, no data-query
        assert_strict_csp(response.headers)

    def test_the_vendor_route_answers_404(self, project_client: ProjectClient) -> None:
        client = project_client(False)
        assert client.get("/static/vendor/yasgui/yasgui.min.js").status_code == 404
        assert client.get("/static/vendor/yasgui/yasgui.min.css").status_code == 404

    def test_a_half_installed_package_is_not_linked(self, make_client: ClientFactory, tmp_path: Path) -> None:
        root = make_project(tmp_path / "project", bundle=True)
        (root / YASGUI_BUILD / "yasgui.min.css").unlink()
        response = make_client(root=root).get("/query", headers=HTML)
        assert "<script" not in response.text


class TestWithTheBundle:
    def test_the_page_links_the_bundle_and_the_editor_script(self, project_client: ProjectClient) -> None:
        response = project_client(True).get("/query", headers=HTML)
        assert response.status_code == 200
        head = response.text.split("</head>", 1)[0]
        assert f'<link rel="stylesheet" href="/static/vendor/yasgui/yasgui.min.css?v={VERSION}">' in head
        assert '<link rel="stylesheet" href="/static/query-editor.css">' in head
        assert f'<script defer src="/static/vendor/yasgui/yasgui.min.js?v={VERSION}"></script>' in head
        assert '<script defer src="/static/query-editor.js"></script>' in head
        # same-origin scripts only: no inline script, no other origin
        assert re.findall(r"<script[^>]*>", response.text) == [
            f'<script defer src="/static/vendor/yasgui/yasgui.min.js?v={VERSION}">',
            '<script defer src="/static/query-editor.js">',
        ]
        # the plain form is still there, and says where the endpoint is
        assert '<form class="editor" method="get" action="/query" data-endpoint="/sparql"' in response.text
        # what the editor needs to link results to this server's pages and to label their columns
        assert (
            'data-base="https://w3id.org/bassin-minier/" data-root="" data-ontology="https://w3id.org/bassin-minier/def"'
            in (response.text)
        )
        assert "data-columns=" in response.text
        assert '<textarea id="query" name="query"' in response.text

    def test_the_named_queries_texts_are_in_the_page(self, project_client: ProjectClient) -> None:
        response = project_client(True).get("/query", headers=HTML)
        links = re.findall(
            r'<a href="/query\?name=([^"]+)" data-name="\1" data-query="([^"]*)">', response.text
        )
        assert len(links) == len(list((PROJECT / "queries").glob("*.rq")))
        texts = {name: html.unescape(text) for name, text in links}
        swot = texts["swot-territoire"]
        assert swot.startswith("# title: SWOT d'une zone d'emploi\n")
        assert "VALUES (?territory)" in swot  # the first example bound, as ?name= runs it

    def test_the_page_keeps_the_strict_csp_and_so_do_the_others(self, project_client: ProjectClient) -> None:
        client = project_client(True)
        # the query page allows one more thing: the column resizer's <style>, by its hash only
        editor = client.get("/query", headers=HTML).headers["content-security-policy"]
        assert editor == CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", f"style-src 'self' {RESIZER_STYLE_HASH}"
        )
        assert "unsafe-inline" not in editor
        assert_strict_csp(client.get("/queries/", headers=HTML).headers)
        unknown = client.get("/query", params={"name": "nope"}, headers=HTML)
        assert unknown.headers["content-security-policy"] == editor

    def test_root_path_prefixes_every_url(self, store_path: Path, tmp_path: Path) -> None:
        root = make_project(tmp_path / "project", bundle=True)
        settings = Settings(store=store_path, root=root, max_concurrent_queries=2)
        with TestClient(create_app(settings), root_path="/kg") as client:  # behind a proxy, under /kg
            text = client.get("/query", headers=HTML).text
        assert f'src="/kg/static/vendor/yasgui/yasgui.min.js?v={VERSION}"' in text
        assert 'src="/kg/static/query-editor.js"' in text
        assert 'data-endpoint="/kg/sparql"' in text


class TestServingTheBundle:
    @pytest.mark.parametrize(
        ("name", "content_type", "body"),
        [
            ("yasgui.min.js", "text/javascript; charset=utf-8", SCRIPT),
            ("yasgui.min.css", "text/css; charset=utf-8", STYLESHEET),
        ],
    )
    def test_files_with_their_content_type(
        self, project_client: ProjectClient, name: str, content_type: str, body: bytes
    ) -> None:
        client = project_client(True)
        response = client.get(f"/static/vendor/yasgui/{name}", params={"v": VERSION})
        assert response.status_code == 200
        assert response.headers["content-type"] == content_type
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "max-age" in response.headers["cache-control"]
        assert response.content == body
        etag = response.headers["etag"]
        assert client.head(f"/static/vendor/yasgui/{name}").status_code == 200
        again = client.get(f"/static/vendor/yasgui/{name}", headers={"if-none-match": etag})
        assert again.status_code == 304

    def test_the_source_map_for_developer_tools(self, project_client: ProjectClient) -> None:
        response = project_client(True).get("/static/vendor/yasgui/yasgui.min.js.map")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"

    @pytest.mark.parametrize(
        "path",
        [
            "../package.json",
            "%2e%2e/package.json",
            "..%2fpackage.json",
            "%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fsecret.txt",
            "../../../../secret.txt",
            "/etc/passwd",
            "%2fetc%2fpasswd",
            "ts/index.d.ts",
            "yasgui.esm.js",  # in the build folder, but not one of the files the page needs
            "",
        ],
    )
    def test_nothing_else_is_served(self, project_client: ProjectClient, path: str) -> None:
        response = project_client(True).get("/static/vendor/yasgui/" + path)
        assert response.status_code == 404
        assert b"outside the build folder" not in response.content
        assert b"@zazuko/yasgui" not in response.content

    def test_the_sites_own_static_files_are_still_served(self, project_client: ProjectClient) -> None:
        client = project_client(True)
        script = client.get("/static/query-editor.js")
        assert script.status_code == 200
        assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
        assert client.get("/static/style.css").status_code == 200


class TestThePin:
    """package.json pins one exact version, and package-lock.json holds that version."""

    def test_exact_version_locked(self) -> None:
        manifest = json.loads((PROJECT / "package.json").read_text())
        wanted = manifest["dependencies"]["@zazuko/yasgui"]
        assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), "pin an exact version, not a range"
        lock = json.loads((PROJECT / "package-lock.json").read_text())
        locked = lock["packages"]["node_modules/@zazuko/yasgui"]
        assert locked["version"] == wanted
        assert locked["integrity"].startswith("sha512-")
        assert locked["license"] == "MIT"

    def test_the_editor_script_keeps_yasgui_off_the_network(self) -> None:
        # the "class" and "property" autocompleters query lov.linkeddata.es; prefix.cc is a remote list
        script = (PROJECT / "src" / "bassin_kg" / "web" / "static" / "query-editor.js").read_text()
        assert 'autocompleters: ["variables", "prefixes"]' in script
        assert "prefixCcApi: null" in script
        assert "persistenceId: null" in script
        assert "populateFromUrl: false" in script
        for call in ("fetch(", "XMLHttpRequest", "import("):
            assert call not in script
