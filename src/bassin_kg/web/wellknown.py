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
from bassin_kg.web import negotiation
from bassin_kg.web.negotiation import Format, NegotiationError

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


def dist_dir(settings: Settings) -> Path:
    """The ``dist/`` of the served release (beside its ``store/``)."""
    return settings.store_path.parent / "dist"


def _negotiated(request: Request, files: dict[str, str], what: str) -> Response:
    settings: Settings = request.app.state.settings
    offers: list[Format] = [negotiation.find(key) for key in files]
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
    app.add_api_route("/dist/{name:path}", dist_file, methods=get, summary="Dumps of the published graph")
