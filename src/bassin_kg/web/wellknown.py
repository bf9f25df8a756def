"""The publication's metadata on the server: ``/.well-known/void`` (VoID), ``/catalog`` (DCAT-AP) and
``/dist/<file>`` (the dumps), read from the ``dist/`` folder beside the served store (written by
``bassin-kg publish``). Both descriptions are negotiated: Turtle, JSON-LD, N-Triples, and RDF/XML for the
catalogue (data.gouv.fr's DCAT harvester asks for it by content negotiation).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

from bassin_kg.settings import Settings
from bassin_kg.web import negotiation, publication_pages
from bassin_kg.web.describe import Links
from bassin_kg.web.negotiation import Format, NegotiationError
from bassin_kg.web.page_support import HTML as HTML_FORMAT
from bassin_kg.web.page_support import error_page, page, root_of

VOID_FILES: dict[str, str] = {"ttl": "void.ttl", "jsonld": "void.jsonld", "nt": "void.nt"}
CATALOG_FILES: dict[str, str] = {
    "ttl": "catalog.ttl",
    "rdfxml": "catalog.rdf",
    "jsonld": "catalog.jsonld",
    "nt": "catalog.nt",
}
CHECKSUMS = "checksums.sha256"
_MEDIA = {
    ".ttl": "text/turtle; charset=utf-8",
    ".nq": "application/n-quads",
    ".nt": "application/n-triples",
    ".trig": "application/trig",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
    ".gz": "application/gzip",
    ".sha256": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
_HINT = "run `bassin-kg publish` to write the publication of this release"
#: what a browser reads when the publication is missing (no maintainer command on a public page)
_FRENCH_MISSING = "Ce serveur ne publie pas encore de {what} pour la version servie du graphe."


def wants_html(request: Request, offers: list[Format]) -> bool:
    """True for a browser: ``Accept`` names HTML and ranks it above every RDF format offered."""
    accept = request.headers.get("accept") or ""
    if "text/html" not in accept or request.query_params.get("format"):
        return False
    try:
        return negotiation.choose(accept, None, [HTML_FORMAT, *offers]) is HTML_FORMAT
    except NegotiationError:
        return False


def dist_dir(settings: Settings) -> Path:
    """The ``dist/`` of the served release (beside its ``store/``)."""
    return settings.store_path.parent / "dist"


def _negotiated(request: Request, files: dict[str, str], what: str) -> Response:
    settings: Settings = request.app.state.settings
    offers: list[Format] = [negotiation.find(key) for key in files]
    if wants_html(request, offers):
        return _html(request, files, what)
    try:
        fmt = negotiation.choose(request.headers.get("accept"), request.query_params.get("format"), offers)
    except NegotiationError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)
    if fmt is None:
        return PlainTextResponse(
            f"no type in Accept is available for the {what}; available: {negotiation.available(offers)}\n",
            status_code=406,
        )
    path = dist_dir(settings) / files[fmt.name]
    if not path.is_file():
        return PlainTextResponse(f"no {what} published for this release: {_HINT}\n", status_code=404)
    return FileResponse(path, media_type=fmt.content_type, headers={"Vary": "Accept"})


_FRENCH_WHAT = {"VoID description": "description VoID", "DCAT-AP catalogue": "catalogue DCAT-AP"}


def _html(request: Request, files: dict[str, str], what: str) -> Response:
    """The catalogue or the VoID description as a page, with links to its RDF forms."""
    settings: Settings = request.app.state.settings
    root = root_of(request)
    path = dist_dir(settings) / files["ttl"]
    french_what = _FRENCH_WHAT.get(what, what)
    if not path.is_file():
        message = _FRENCH_MISSING.format(what=french_what)
        return error_page(request, 404, "Publication absente", message)
    reader = publication_pages.catalog_view if "DCAT" in what else publication_pages.void_view
    view = reader(path, Links(settings.base_iri).base, root)
    here = root + ("/catalog" if "DCAT" in what else "/.well-known/void")
    formats = [{"href": f"{here}?format={key}", "name": negotiation.find(key).media_type} for key in files]
    return page(
        request,
        "publication.html",
        headers={"Vary": "Accept"},
        title=view.title,
        view=view,
        what=french_what,
        formats=formats,
    )


async def dist_index(request: Request) -> Response:
    """``/dist/``: the published files, with sizes and checksums."""
    settings: Settings = request.app.state.settings
    folder = dist_dir(settings)
    files = publication_pages.dist_files(folder, folder / CHECKSUMS)
    return page(request, "dist.html", title="Téléchargements", files=files)


async def well_known_void(request: Request) -> Response:
    return _negotiated(request, VOID_FILES, "VoID description")


async def catalog(request: Request) -> Response:
    return _negotiated(request, CATALOG_FILES, "DCAT-AP catalogue")


async def dist_file(request: Request) -> Response:
    """A file of the publication; only names listed in ``checksums.sha256`` (so never a path outside)."""
    settings: Settings = request.app.state.settings
    folder = dist_dir(settings)
    name = str(request.path_params.get("name", ""))
    listing = folder / CHECKSUMS
    names = {CHECKSUMS}
    if listing.is_file():
        names |= {
            line.split("  ", 1)[1]
            for line in listing.read_text(encoding="utf-8").splitlines()
            if "  " in line
        }
    if name not in names or not (folder / name).is_file():
        if "text/html" in (request.headers.get("accept") or ""):
            message = f"Aucun fichier publié ne s'appelle « {name} »."
            return error_page(request, 404, "Fichier inconnu", message)
        return PlainTextResponse(
            f"no published file {name!r}; the list is in /dist/{CHECKSUMS}\n", status_code=404
        )
    suffix = Path(name).suffix
    return FileResponse(folder / name, media_type=_MEDIA.get(suffix, "application/octet-stream"))


def install(app: FastAPI) -> None:
    """Add the routes to an app made by :func:`bassin_kg.web.app.create_app`."""
    get = ["GET", "HEAD"]
    app.add_api_route("/.well-known/void", well_known_void, methods=get, summary="VoID description")
    app.add_api_route("/catalog", catalog, methods=get, summary="DCAT-AP 3 catalogue")
    app.add_api_route("/dist/", dist_index, methods=get, include_in_schema=False)
    app.add_api_route("/dist/{name:path}", dist_file, methods=get, summary="Dumps of the published graph")
