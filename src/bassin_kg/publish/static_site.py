"""Static export of the linked-data pages: every HTML page of the app as a file under ``dist/site/``.

The pages are rendered by the application itself (FastAPI's TestClient on the release store, in this
process), so the files are exactly what the server shows. Links between exported pages become relative
(``../../territoire/ze2010/3123.html``), so the site browses from disk or from any static host; links to
what only a live server can answer (``/sparql``, ``/query``, RDF variants, forms) point to the deployment
under the base IRI. ``dist/index.html`` lists the downloads (always written, with or without the site).
"""

from __future__ import annotations

import hashlib
import html
import posixpath
import re
import shutil
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pyoxigraph as ox

from bassin_kg.progress import Progress
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only

SITE = "site"
_LINK = re.compile(r'\b(href|src|action)="([^"]*)"')
#: pages that are not resources of the graph but belong to the site
FIXED_PAGES = ("/", "/def", "/queries/")
BUSY_RETRIES = 2
BUSY_PAUSE = 1.0


@dataclass
class SiteResult:
    pages: int
    notes: list[str] = field(default_factory=list)


def file_of(url: str) -> str:
    """The file (relative to site/, percent-encoded like the URL) that holds the page at ``url``."""
    path, _, query = url.partition("?")
    if path.endswith("/"):
        path += "index"
    name = path.lstrip("/")
    if query:
        name += "--" + hashlib.sha256(query.encode()).hexdigest()[:12]
    return name + ".html"


def page_urls(store: ox.Store, base: str, only: Sequence[str] = ()) -> list[str]:
    """``/id/…`` paths of every IRI under ``<base>id/`` that is the subject of a triple.

    ``only`` keeps the resources whose first path segment after ``id/`` is listed (``territoire``,
    ``acteur``, ``swot``…): a quick partial export.
    """
    prefix = base + "id/"
    query = (
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{prefix}")) }}'
    )
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    urls = []
    for row in solutions:
        term = row["s"]
        if not isinstance(term, ox.NamedNode):
            continue
        tail = term.value[len(prefix) :]
        if "#" in tail or "?" in tail or not tail:
            continue  # hash IRIs are parts of another page
        if only and tail.split("/", 1)[0] not in only:
            continue
        urls.append("/id/" + tail)
    return sorted(urls)


def export_site(
    settings: Settings, release_dir: Path, *, only: Sequence[str] = (), progress: Progress | None = None
) -> SiteResult:
    """Render the pages of the release's store into ``<release>/dist/site``."""
    from bassin_kg.web.app import create_app
    from bassin_kg.web.page_support import STATIC

    with warnings.catch_warnings():
        # starlette's TestClient warns at import that it prefers another HTTP client: harmless here
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    out = release_dir / "dist" / SITE
    out.mkdir(parents=True)
    shutil.copytree(STATIC, out / "static")
    store = open_read_only(release_dir / "store")
    base = settings.base_iri if settings.base_iri.endswith("/") else settings.base_iri + "/"
    urls = [*FIXED_PAGES, *page_urls(store, base, only)]
    app = create_app(settings.replace(store=release_dir / "store"), store=store)
    notes: list[str] = []
    rendered: dict[str, str] = {}
    with TestClient(app) as client:
        queue = list(urls)
        seen = set(queue)
        while queue:
            url = queue.pop(0)
            response = client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)
            for _ in range(BUSY_RETRIES):
                if response.status_code != 503:
                    break
                # the engine was busy or a query ran out of time: once more, after a pause
                time.sleep(BUSY_PAUSE)
                response = client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)
            if response.status_code != 200:
                notes.append(
                    f"{url}: HTTP {response.status_code}, not exported (links to it go to the server)"
                )
                continue
            if not response.headers.get("content-type", "").startswith("text/html"):
                continue  # a JSON or RDF variant linked from a page: the server answers it
            rendered[url] = response.text
            if url == "/queries/" or url == "/":
                # the named queries and their worked examples, one level deep
                for link in _links(response.text):
                    if link.startswith("/queries/") and link not in seen:
                        seen.add(link)
                        queue.append(link)
            if progress is not None and len(rendered) % 1000 == 0:
                progress.info(f"  {len(rendered)} pages rendered")
    for url, text in rendered.items():
        target = out / unquote(file_of(url))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(relink(text, url, set(rendered), base), encoding="utf-8")
    return SiteResult(len(rendered), notes)


def _links(text: str) -> list[str]:
    return [html.unescape(m.group(2)) for m in _LINK.finditer(text)]


def relink(text: str, url: str, local: set[str], base: str) -> str:
    """Rewrite the root-relative links of the page at ``url``: exported pages and /static become relative
    paths, anything else an absolute URL of the deployment under ``base``."""
    here = posixpath.dirname(file_of(url))

    def replace(match: re.Match[str]) -> str:
        attribute, raw = match.group(1), html.unescape(match.group(2))
        if not raw.startswith("/") or raw.startswith("//"):
            return match.group(0)
        target, hash_, fragment = raw.partition("#")
        if target in local:
            new = posixpath.relpath(file_of(target), here or ".") + hash_ + fragment
        elif target.startswith("/static/"):
            new = posixpath.relpath(target.lstrip("/"), here or ".") + hash_ + fragment
        elif target == "" and hash_:
            return match.group(0)
        else:
            new = base + raw.lstrip("/")
        return f'{attribute}="{html.escape(new, quote=True)}"'

    return _LINK.sub(replace, text)


def write_index(dist: Path, rows: Sequence[tuple[str, int, str]], *, site: bool, title: str) -> Path:
    """``dist/index.html``: the downloads (name, bytes, sha256) and the metadata, for a static host."""
    items = "\n".join(
        f'<tr><td><a href="{html.escape(name)}">{html.escape(name)}</a></td><td>{size}</td>'
        f"<td><code>{digest}</code></td></tr>"
        for name, size, digest in rows
    )
    site_link = f'<p><a href="{SITE}/index.html">Pages du graphe (site statique)</a></p>\n' if site else ""
    body = f"""<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><title>{html.escape(title)} : téléchargements</title></head>
<body>
<h1>{html.escape(title)}</h1>
{site_link}<p>Catalogue DCAT-AP : <a href="catalog.ttl">Turtle</a> · <a href="catalog.rdf">RDF/XML</a> ·
<a href="catalog.jsonld">JSON-LD</a> — description VoID : <a href="void.ttl">void.ttl</a> —
sommes de contrôle : <a href="checksums.sha256">checksums.sha256</a>
(<code>sha256sum -c checksums.sha256</code>)</p>
<table>
<thead><tr><th>fichier</th><th>octets</th><th>SHA-256</th></tr></thead>
<tbody>
{items}
</tbody>
</table>
</body>
</html>
"""
    path = dist / "index.html"
    path.write_text(body, encoding="utf-8")
    return path
