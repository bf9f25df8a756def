"""What every HTML page module shares: templates, security headers, ETags, request parameters.

HTML pages carry a strict Content-Security-Policy: same-origin scripts only (just the query page's
editor has any, :mod:`bassin_kg.web.vendor`), styles from ``/static`` only; the charts are inline SVG
without style attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import Response

from bassin_kg.settings import Settings
from bassin_kg.web import negotiation
from bassin_kg.web.describe import Links
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, NegotiationError
from bassin_kg.web.sparql import ProtocolError, SparqlService, etag_matches, parse_params

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

HTML = Format("html", "text/html", "graph", ("application/xhtml+xml",))
JSON = Format("json", "application/json", "solutions")
ALL_FORMATS: tuple[Format, ...] = (*SOLUTION_FORMATS, *GRAPH_FORMATS, HTML)

#: same-origin scripts only, no inline script or style, no other origin (the query page's YASGUI too)
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every label comes from data: always escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def sparql_of(request: Request) -> SparqlService:
    service: SparqlService = request.app.state.sparql
    return service


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def links_of(request: Request) -> Links:
    return Links(settings_of(request).base_iri, request.scope.get("root_path", ""))


def root_of(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def page(
    request: Request,
    template: str,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> Response:
    """Render ``template`` as an HTML response with the security headers."""
    body = templates.get_template(template).render(root=root_of(request), **context)
    all_headers = {**SECURITY_HEADERS, **(headers or {})}
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=all_headers)


def error_page(request: Request, status: int, title: str, message: str, **context: Any) -> Response:
    return page(request, "error.html", status=status, title=title, message=message, **context)


def _code_version() -> str:
    """A hash of the templates, styles and page code (``describe/`` too): a deployment changes all ETags."""
    digest = hashlib.sha256()
    for path in sorted([*TEMPLATES.glob("*.html"), *STATIC.glob("*"), *HERE.rglob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


CODE_VERSION = _code_version()


def etag_for(service: SparqlService, variant: str) -> str:
    tag = service.etag.removeprefix("W/").strip('"')
    return f'W/"{tag}-{CODE_VERSION}-{variant}"'


def not_modified_response(request: Request, etag: str, headers: Mapping[str, str]) -> Response | None:
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return None


def query_params(request: Request) -> list[tuple[str, str]]:
    raw = request.scope.get("query_string", b"")
    max_bytes = settings_of(request).max_request_bytes
    if len(raw) > max_bytes:
        raise ProtocolError(413, f"query string longer than {max_bytes} bytes; send the query by POST")
    return parse_params(raw, where="query string")


def one_param(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise ProtocolError(
            400, f"le paramètre « {name} » est donné {len(values)} fois ; donnez-le une seule fois"
        )
    return values[0] if values else None


def wanted_format(request: Request, format_param: str | None, offers: Sequence[Format]) -> Format | None:
    """The format ``format=`` or ``Accept`` asks for among ``offers``; None: known but not offered here.

    A ``format=`` naming no format at all is a client error (400), as on ``/sparql``.
    """
    if format_param and negotiation.by_format_param(format_param, ALL_FORMATS) is None:
        raise ProtocolError(
            400,
            f"format={format_param!r} is not a format this server knows; use one of "
            + ", ".join(f.name for f in ALL_FORMATS),
        )
    try:
        return negotiation.choose(request.headers.get("accept"), format_param, offers)
    except NegotiationError as exc:
        raise ProtocolError(400, str(exc)) from None


def protocol_error_response(
    request: Request, exc: ProtocolError, headers: Mapping[str, str] | None = None
) -> Response:
    """HTML for browsers, the endpoint's plain-text message for everyone else."""
    merged = {**(headers or {}), **exc.headers}
    merged.pop("ETag", None)
    accept = request.headers.get("accept") or ""
    if "text/html" in accept:
        titles = {400: "Requête incorrecte", 406: "Format indisponible", 413: "Requête trop longue"}
        return error_page(request, exc.status, titles.get(exc.status, "Erreur"), exc.message, headers=merged)
    response = exc.response()
    response.headers.update(merged)
    return response
