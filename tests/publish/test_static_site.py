"""The static export: pages rendered by the app, links made relative, browsable from disk."""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import unquote

from bassin_kg.publish import PublishResult
from bassin_kg.publish.static_site import file_of, relink
from bassin_kg.settings import Settings

LINK = re.compile(r'\b(?:href|src|action)="([^"]*)"')


def test_pages_are_exported_with_working_relative_links(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    site = settings.dist_dir / "site"
    for name in (
        "index.html",
        "def.html",
        "queries/index.html",
        "id/territoire/ze2010/3123.html",
        "id/acteur/critt-m2a.html",
        "id/swot/ze2010-3123/force-1.html",
        "static/style.css",
    ):
        assert (site / name).is_file(), name
    pages = list(site.rglob("*.html"))
    assert result.site_pages == len(pages) > 100
    checked = 0
    for page in pages:
        for raw in LINK.findall(page.read_text(encoding="utf-8")):
            link = html.unescape(raw)
            assert not (link.startswith("/") and not link.startswith("//")), f"{page}: root-relative {link}"
            if link.startswith(("http://", "https://", "#", "mailto:")):
                continue
            target = (page.parent / unquote(link.split("#", 1)[0])).resolve()
            assert target.is_file(), f"{page}: {link} points to nothing"
            checked += 1
    assert checked > 1000


def test_territory_page_links_to_its_swot_items_and_the_live_endpoint(
    published: tuple[Settings, PublishResult],
) -> None:
    settings, _result = published
    text = (settings.dist_dir / "site" / "id/territoire/ze2010/3123.html").read_text(encoding="utf-8")
    assert 'href="../../swot/ze2010-3123/force-1.html"' in text
    assert 'href="../../../static/style.css"' in text
    assert f'href="{settings.base_iri}sparql"' in text  # only the server answers SPARQL


def test_download_index_lists_the_dumps(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    text = (settings.dist_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="site/index.html"' in text
    for dump in result.dumps:
        assert f'href="{dump.name}"' in text
        assert dump.sha256 in text


def test_relink_rewrites_only_root_relative_links() -> None:
    # SYNTHETIC page
    page = (
        '<a href="/id/a/b">b</a> <a href="/id/a/c?x=1&amp;y=2">c</a> <link href="/static/s.css">'
        '<a href="https://example.org/x">x</a> <a href="#top">t</a> <a href="/def#Force">f</a>'
    )
    out = relink(page, "/id/a/z", {"/id/a/b", "/def"}, "https://w3id.org/bm/")
    assert 'href="b.html"' in out
    assert 'href="https://w3id.org/bm/id/a/c?x=1&amp;y=2"' in out
    assert 'href="../../static/s.css"' in out
    assert 'href="https://example.org/x"' in out
    assert 'href="#top"' in out
    assert 'href="../../def.html#Force"' in out


def test_file_names() -> None:
    assert file_of("/") == "index.html"
    assert file_of("/queries/") == "queries/index.html"
    assert file_of("/id/territoire/ze2010/3123") == "id/territoire/ze2010/3123.html"
    with_query = file_of("/queries/swot?territoire=3123")
    assert with_query.startswith("queries/swot--")
    assert with_query.endswith(".html")
    assert Path(file_of("/id/x/%C3%A9")).name == "%C3%A9.html"
