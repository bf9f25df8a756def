"""Linked-data pages: dereferencing ``/id/…`` and ``/def``, the home page, the query page, named queries.

:func:`install` adds the routes to an app made by :func:`bassin_kg.web.app.create_app` and reads what it
needs from ``app.state`` (``settings``, ``sparql``); the named queries of ``<root>/queries`` are loaded
once, there, and each gets its own documented route in the OpenAPI description.

Every IRI under the configured base answers on this server whatever its host: the request path
``/id/territoire/ze2010/3123`` is the IRI ``<base>id/territoire/ze2010/3123``. Browsers get HTML, programs
Turtle, JSON-LD, N-Triples or RDF/XML (by ``Accept``, by a ``.ttl``/``.jsonld``/``.nt``/``.rdf`` suffix or
by ``format=``). HTML pages carry a strict Content-Security-Policy: no script at all, styles from
``/static`` only; the charts are inline SVG without style attributes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pyoxigraph as ox
from fastapi import FastAPI
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from bassin_kg.namespaces import BM, Iris
from bassin_kg.queries import KINDS, NamedQuery, ParameterError, bind, load_queries
from bassin_kg.settings import Settings
from bassin_kg.web import charts, describe, negotiation
from bassin_kg.web.describe import Labels, Links, Shown
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, NegotiationError
from bassin_kg.web.sparql import ProtocolError, SparqlService, etag_matches, parse_params

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

HTML = Format("html", "text/html", "graph", ("application/xhtml+xml",))
JSON = Format("json", "application/json", "solutions")
#: representations of a resource, HTML first: it answers browsers and ``*/*``
RESOURCE_FORMATS: tuple[Format, ...] = (
    HTML,
    negotiation.find("ttl"),
    negotiation.find("jsonld"),
    negotiation.find("nt"),
    negotiation.find("rdfxml"),
)
EXTENSIONS: dict[str, Format] = {
    ".html": HTML,
    ".ttl": negotiation.find("ttl"),
    ".jsonld": negotiation.find("jsonld"),
    ".nt": negotiation.find("nt"),
    ".rdf": negotiation.find("rdfxml"),
}
ALL_FORMATS: tuple[Format, ...] = (*SOLUTION_FORMATS, *GRAPH_FORMATS, HTML)
FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdfxml": "RDF/XML", "html": "HTML"}
RESULT_DOWNLOADS = (("csv", "CSV"), ("tsv", "TSV"), ("json", "JSON"), ("xml", "XML"))
GRAPH_DOWNLOADS = (("ttl", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"), ("rdfxml", "RDF/XML"))

#: no script at all; inline SVG is markup, not script, so the charts need nothing more
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

DEFAULT_QUERY = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>

SELECT ?zone ?nom WHERE {
  ?zone a igeo:ZoneDEmploi2010 ; skos:prefLabel ?nom .
}
ORDER BY ?nom
"""

templates = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every label comes from data: always escaped
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# --- helpers ------------------------------------------------------------------------------------------
def _service(request: Request) -> SparqlService:
    service: SparqlService = request.app.state.sparql
    return service


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _links(request: Request) -> Links:
    return Links(_settings(request).base_iri, request.scope.get("root_path", ""))


def _root(request: Request) -> str:
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
    body = templates.get_template(template).render(root=_root(request), **context)
    all_headers = {**SECURITY_HEADERS, **(headers or {})}
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=all_headers)


def error_page(request: Request, status: int, title: str, message: str, **context: Any) -> Response:
    return page(request, "error.html", status=status, title=title, message=message, **context)


def _code_version() -> str:
    """A hash of the templates, styles and page code: a new deployment changes every page's ETag."""
    digest = hashlib.sha256()
    for path in sorted([*TEMPLATES.glob("*.html"), *STATIC.glob("*"), *HERE.glob("*.py")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


CODE_VERSION = _code_version()


def _etag(service: SparqlService, variant: str) -> str:
    tag = service.etag.removeprefix("W/").strip('"')
    return f'W/"{tag}-{CODE_VERSION}-{variant}"'


def _not_modified(request: Request, etag: str, headers: Mapping[str, str]) -> Response | None:
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers={**headers, "ETag": etag})
    return None


def _query_params(request: Request) -> list[tuple[str, str]]:
    raw = request.scope.get("query_string", b"")
    max_bytes = _settings(request).max_request_bytes
    if len(raw) > max_bytes:
        raise ProtocolError(413, f"query string longer than {max_bytes} bytes; send the query by POST")
    return parse_params(raw, where="query string")


def _one(params: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise ProtocolError(400, f"the {name!r} parameter is given {len(values)} times; give it once")
    return values[0] if values else None


def _wants(request: Request, format_param: str | None, offers: Sequence[Format]) -> Format | None:
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


# --- dereferencing ----------------------------------------------------------------------------------
class PathRefusedError(Exception):
    """The path cannot name a resource of ours (traversal, bad characters): answered as 404."""


def resource_path(raw_tail: str) -> tuple[str, Format | None]:
    """The IRI path after the base for a raw ``/id/`` request tail, and the format its suffix asks for.

    Each segment is decoded, checked and re-encoded the way :class:`~bassin_kg.namespaces.Iris` mints
    IRIs, so ``%C3%A9`` and ``é`` name the same resource and an encoded ``..`` is refused.
    """
    fmt: Format | None = None
    for suffix, candidate in EXTENSIONS.items():
        if raw_tail.endswith(suffix) and len(raw_tail) > len(suffix):
            raw_tail, fmt = raw_tail[: -len(suffix)], candidate
            break
    segments = raw_tail.split("/")
    clean = []
    for raw in segments:
        try:
            segment = unquote(raw, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:
            raise PathRefusedError(raw) from None
        if segment in ("", ".", "..") or any(ord(c) < 0x20 or c in "\\\x7f" for c in segment):
            raise PathRefusedError(raw)
        clean.append(quote(segment, safe="-._~"))
    return "id/" + "/".join(clean), fmt


def _raw_tail(request: Request) -> str:
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(request.url.path)
    path = path.split("?", 1)[0]
    start = path.find("/id/")
    return path[start + 4 :] if start >= 0 else ""


def _alternates(href: str) -> list[dict[str, str]]:
    return [
        {"href": href + suffix, "type": fmt.media_type, "name": FORMAT_NAMES[fmt.name]}
        for suffix, fmt in EXTENSIONS.items()
    ]


def _link_header(alternates: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f'<{a["href"]}>; rel="alternate"; type="{a["type"]}"' for a in alternates)


def _rdf_not_found(iri: str, fmt: Format) -> Response:
    """A 404 that RDF clients can still parse: an empty document saying what was not found."""
    message = f"Aucune description de <{iri}> dans ce graphe (not found)"
    if fmt.name == "jsonld":
        body = "[]\n"
    elif fmt.name == "rdfxml":
        comment = message.replace("--", "- -")
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<!-- {comment} -->\n"
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>\n'
        )
    else:
        body = f"# {message}\n"
    return Response(body, status_code=404, media_type=fmt.content_type, headers={"Vary": "Accept"})


def _page_kind(description: describe.Description, base: str) -> str:
    iri = description.iri
    if description.has_type("http://rdf.insee.fr/def/geo#ZoneDEmploi2010"):
        return "territory"
    if description.has_type(str(BM.Acteur)):
        return "actor"
    if description.has_type(*describe.SWOT_CLASSES):
        return "swot"
    if iri.startswith(str(Iris(base).deck_occupation(""))):
        return "occupation"
    return "resource"


async def _resource_html(request: Request, iri: str, headers: dict[str, str]) -> Response:
    service, settings = _service(request), _settings(request)
    links = _links(request)
    labels = Labels(links)
    description = await describe.describe(service, iri, labels)
    if description is None:
        return error_page(
            request,
            404,
            "Ressource inconnue",
            "Ce graphe ne dit rien de cette ressource : l'identifiant est peut-être mal orthographié.",
            iri=iri,
            headers=headers,
        )
    kind = _page_kind(description, settings.base_iri)
    context: dict[str, Any] = {
        "d": description,
        "title": description.label,
        "alternates": _alternates(links.local(iri) or iri),
        "incoming_cap": describe.INCOMING_CAP,
    }
    template = "resource.html"
    if kind == "territory":
        view = await describe.territory_view(service, description, labels, settings.base_iri)
        context["v"] = view
        context["charts"] = [
            c
            for c in (
                charts.bar_chart(
                    "chart-projets",
                    f"Principaux projets de recrutement en 2018 – {description.label}",
                    view.projects,
                    "projets de recrutement",
                    kind="projects",
                ),
                charts.bar_chart(
                    "chart-difficultes",
                    f"Métiers les plus difficiles à recruter en 2018 – {description.label}",
                    view.difficulties,
                    "part des projets jugés difficiles (%)",
                    kind="difficulties",
                ),
            )
            if c is not None
        ]
        context["employment_chart"] = employment_chart(view)
        template = "territory.html"
    elif kind == "occupation":
        context["v"] = await describe.occupation_view(service, description, labels, settings.base_iri)
        template = "occupation.html"
    elif kind == "actor":
        context["v"] = await describe.actor_view(service, description, labels)
        template = "actor.html"
    elif kind == "swot":
        context["v"] = await describe.swot_item_view(service, description, labels)
        template = "swot_item.html"
    return page(request, template, headers=headers, **context)


def employment_chart(view: describe.TerritoryView) -> charts.SeriesChart | None:
    """The Urssaf series of the zone's main 2020 zone, with the deck's unemployment rate marked."""
    employment = view.employment
    if employment is None or employment.series is None:
        return None
    series = employment.series
    deck = view.unemployment
    marker = None
    if deck is not None and deck.quarter is not None:
        marker = charts.Marker(deck.quarter, f"{deck.period} : chômage {deck.rate.shown} (plaquette)")
    return charts.series_chart(
        "chart-emploi",
        f"Effectifs salariés du secteur privé (CVS) – zone d'emploi 2020 {series.zone.territory.text}",
        series,
        "salariés (CVS)",
        marker,
    )


async def resource(request: Request) -> Response:
    """``/id/…``: the description of a resource, as HTML or RDF."""
    try:
        path, suffix_format = resource_path(_raw_tail(request))
    except PathRefusedError:
        return error_page(
            request, 404, "Chemin refusé", "Ce chemin ne peut désigner aucune ressource de ce graphe."
        )
    links = _links(request)
    iri = links.iri(path)
    try:
        ox.NamedNode(iri)
    except ValueError:
        return error_page(request, 404, "Chemin refusé", "Ce chemin n'est pas un identifiant valide.")
    service = _service(request)
    alternates = _alternates(links.local(iri) or "/" + path)
    headers = {"Vary": "Accept", "Link": _link_header(alternates)}
    try:
        params = _query_params(request)
        fmt = suffix_format or _wants(request, _one(params, "format"), RESOURCE_FORMATS)
        if fmt is None:
            raise ProtocolError(
                406,
                "none of the types in Accept is available for this resource; available: "
                + negotiation.available(RESOURCE_FORMATS),
            )
        etag = _etag(service, fmt.name)
        headers["ETag"] = etag
        not_modified = _not_modified(request, etag, headers)
        if not_modified is not None:
            return not_modified
        if fmt is HTML:
            return await _resource_html(request, iri, headers)
        if not await describe.exists(service, iri):
            return _rdf_not_found(iri, fmt)
        answer, _ = await service.run_query(describe.construct_query(iri), solutions=None, graph=fmt)
        return Response(answer.body, media_type=answer.content_type, headers=headers)
    except ProtocolError as exc:
        return _protocol_error(request, exc, headers)


def _protocol_error(
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


# --- the ontology ------------------------------------------------------------------------------------
async def ontology(request: Request) -> Response:
    return await _ontology(request, None)


async def ontology_file(request: Request) -> Response:
    ext = "." + str(request.path_params.get("ext", ""))
    fmt = EXTENSIONS.get(ext)
    if fmt is None:
        return error_page(request, 404, "Format inconnu", "Formats : .ttl, .jsonld, .nt, .rdf, .html.")
    return await _ontology(request, fmt)


async def _ontology(request: Request, suffix_format: Format | None) -> Response:
    service, settings = _service(request), _settings(request)
    links = _links(request)
    graph = str(Iris(settings.base_iri).graph("ontology"))
    alternates = _alternates(_root(request) + "/def")
    headers = {"Vary": "Accept", "Link": _link_header(alternates)}
    try:
        fmt = suffix_format or _wants(request, _one(_query_params(request), "format"), RESOURCE_FORMATS)
        if fmt is None:
            raise ProtocolError(
                406, "no type in Accept is available; available: " + negotiation.available(RESOURCE_FORMATS)
            )
        etag = _etag(service, "def-" + fmt.name)
        headers["ETag"] = etag
        not_modified = _not_modified(request, etag, headers)
        if not_modified is not None:
            return not_modified
        if fmt is HTML:
            view = await describe.ontology_view(service, Labels(links), graph)
            if not (view.classes or view.properties):
                return error_page(
                    request, 404, "Ontologie absente", "Le graphe servi ne contient pas l'ontologie."
                )
            return page(
                request,
                "ontology.html",
                headers=headers,
                title=view.title,
                o=view,
                alternates=alternates,
                ontology_iri=describe.ONTOLOGY,
            )
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {describe.node(graph)} {{ ?s ?p ?o }} }}"
        answer, _ = await service.run_query(query, solutions=None, graph=fmt)
        return Response(answer.body, media_type=answer.content_type, headers=headers)
    except ProtocolError as exc:
        return _protocol_error(request, exc, headers)


# --- home --------------------------------------------------------------------------------------------
async def home(request: Request) -> Response:
    service, settings = _service(request), _settings(request)
    etag = _etag(service, "home")
    headers = {"ETag": etag}
    not_modified = _not_modified(request, etag, headers)
    if not_modified is not None:
        return not_modified
    try:
        cards = await describe.home_view(service, Labels(_links(request)), settings.base_iri)
    except ProtocolError as exc:
        return _protocol_error(request, exc)
    queries: dict[str, NamedQuery] = request.app.state.named_queries
    return page(
        request,
        "home.html",
        headers=headers,
        title="Trajectoire économique du bassin minier",
        cards=cards,
        queries=sorted(queries.values(), key=lambda q: q.title),
    )


# --- query results as HTML ----------------------------------------------------------------------------
@dataclass
class ResultTable:
    """A query's results for a page: columns, capped rows, and what kind of result it was."""

    kind: str  # "solutions", "boolean" or "graph"
    columns: list[str]
    rows: list[list[Shown]]
    total: int
    boolean: bool | None = None

    @property
    def capped(self) -> bool:
        return self.total > len(self.rows)


async def run_for_page(
    service: SparqlService, query: str, cap: int, labels: Labels, *, public: bool
) -> ResultTable:
    """Run ``query`` through the endpoint and turn its answer into at most ``cap`` labelled rows.

    ``public``: the query text is the visitor's own (the ``/query`` page), so it runs in the public
    lane like ``/sparql`` and can never take the worker kept for the site's pages and named queries.
    """
    answer, _ = await service.run_query(
        query, solutions=negotiation.find("json"), graph=negotiation.find("nt"), public=public
    )
    if answer.content_type.startswith("application/sparql-results+json"):
        parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        if isinstance(parsed, ox.QueryBoolean):
            return ResultTable("boolean", [], [], 0, bool(parsed))
        columns = [v.value for v in parsed.variables]
        all_rows = [[solution[c] for c in columns] for solution in parsed]
        kept = all_rows[:cap]
        terms = [t for row in kept for t in row if isinstance(t, ox.NamedNode)]
        await labels.fetch(service, {t.value for t in terms})
        rows = [[_cell(t, labels) for t in row] for row in kept]
        return ResultTable("solutions", columns, rows, len(all_rows))
    triples = [q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]
    kept_triples = triples[:cap]
    await labels.fetch(
        service,
        {
            t.value
            for tr in kept_triples
            for t in (tr.subject, tr.predicate, tr.object)
            if isinstance(t, ox.NamedNode)
        },
    )
    rows = [
        [_cell(t.subject, labels), _cell(t.predicate, labels), _cell(t.object, labels)] for t in kept_triples
    ]
    return ResultTable("graph", ["sujet", "prédicat", "objet"], rows, len(triples))


def _cell(term: object, labels: Labels) -> Shown:
    if isinstance(term, ox.NamedNode):
        shown = labels.show(term)
        # in a result table the IRI matters: show the label when the graph has one, else the IRI itself
        return shown if term.value in labels else Shown(term.value, shown.href, term.value)
    if isinstance(term, ox.Literal | ox.BlankNode):
        return labels.show(term)
    if term is None:
        return Shown("")
    return Shown(str(term))


def _downloads(endpoint: str, params: Sequence[tuple[str, str]], kind: str) -> list[dict[str, str]]:
    choices = GRAPH_DOWNLOADS if kind == "graph" else RESULT_DOWNLOADS
    return [
        {"href": endpoint + "?" + urlencode([*params, ("format", name)]), "name": label}
        for name, label in choices
    ]


# --- the query page ---------------------------------------------------------------------------------------
def _example_text(query: NamedQuery, iris: Iris) -> str:
    """The query with its first example bound: ready to run as it is."""
    example = query.examples[0] if query.examples else {}
    try:
        return bind(query, example, iris)
    except ParameterError:
        return query.text


async def query_page(request: Request) -> Response:
    """``/query``: a plain GET form (no JavaScript needed) whose results come back as an HTML table."""
    service, settings = _service(request), _settings(request)
    queries: dict[str, NamedQuery] = request.app.state.named_queries
    iris = Iris(settings.base_iri)
    try:
        params = _query_params(request)
        text = _one(params, "query")
        chosen = _one(params, "name")
    except ProtocolError as exc:
        return _protocol_error(request, exc)
    error: str | None = None
    status = 200
    if text is None and chosen is not None:
        if chosen in queries:
            text = _example_text(queries[chosen], iris)
        else:
            error, status = f"Aucune requête nommée « {chosen} ».", 404
    result: ResultTable | None = None
    downloads: list[dict[str, str]] = []
    if text is not None and text.strip() and error is None:
        try:
            result = await run_for_page(
                service, text, settings.html_row_cap, Labels(_links(request)), public=True
            )
            downloads = _downloads(_root(request) + "/sparql", [("query", text)], result.kind)
        except ProtocolError as exc:
            error, status = exc.message, exc.status
    return page(
        request,
        "query.html",
        status=status,
        title="Interroger le graphe (SPARQL)",
        query_text=text if text is not None else DEFAULT_QUERY,
        queries=sorted(queries.values(), key=lambda q: q.title),
        chosen=chosen,
        result=result,
        error=error,
        downloads=downloads,
        cap=settings.html_row_cap,
    )


# --- named queries ----------------------------------------------------------------------------------------
def _query_info(query: NamedQuery, root: str) -> dict[str, Any]:
    return {
        "name": query.name,
        "title": query.title,
        "description": query.description,
        "url": f"{root}/queries/{query.name}",
        "parameters": [
            {
                "name": p.name,
                "kind": p.kind,
                "expected": KINDS[p.kind].expected,
                "required": p.required,
                "default": p.default,
                "description": p.description,
            }
            for p in query.params
        ],
        "examples": [dict(e) for e in query.examples],
    }


async def queries_index(request: Request) -> Response:
    """``/queries/``: the named queries, as HTML or JSON."""
    queries: dict[str, NamedQuery] = request.app.state.named_queries
    root = _root(request)
    ordered = sorted(queries.values(), key=lambda q: q.name)
    try:
        fmt = _wants(request, _one(_query_params(request), "format"), (HTML, JSON))
    except ProtocolError as exc:
        return _protocol_error(request, exc)
    headers = {"Vary": "Accept"}
    if fmt is JSON:
        body = json.dumps([_query_info(q, root) for q in ordered], ensure_ascii=False, indent=2)
        return Response(body + "\n", media_type="application/json", headers=headers)
    if fmt is None:
        return Response("available: text/html, application/json\n", status_code=406, media_type="text/plain")
    return page(
        request,
        "queries.html",
        headers=headers,
        title="Requêtes prêtes à l'emploi",
        queries=ordered,
        kinds=KINDS,
        example_urls={q.name: _example_url(q, root) for q in ordered},
    )


def _example_url(query: NamedQuery, root: str) -> str:
    example = query.examples[0] if query.examples else {}
    return f"{root}/queries/{query.name}" + ("?" + urlencode(example) if example else "")


def _named_query_of(request: Request) -> NamedQuery | None:
    queries: dict[str, NamedQuery] = request.app.state.named_queries
    route = request.scope.get("route")
    path = str(getattr(route, "path", ""))
    name = path.rsplit("/", 1)[-1] if "{" not in path else str(request.path_params.get("name", ""))
    return queries.get(name)


async def named_query(request: Request) -> Response:
    """``/queries/<name>``: run a named query with its parameters bound as checked RDF terms."""
    query = _named_query_of(request)
    if query is None:
        queries: dict[str, NamedQuery] = request.app.state.named_queries
        name = str(request.path_params.get("name", ""))
        message = f"no named query {name!r}; available: {', '.join(sorted(queries)) or 'none'}"
        return _protocol_error(request, ProtocolError(404, message))
    service, settings = _service(request), _settings(request)
    headers = {"Vary": "Accept"}
    try:
        params = _query_params(request)
        format_param = _one(params, "format")
        values: dict[str, str] = {}
        for key, _ in params:
            if key != "format" and key not in values:
                value = _one(params, key)
                assert value is not None
                values[key] = value
        solutions = _wants(request, format_param, (*SOLUTION_FORMATS, HTML))
        graph = _wants(request, format_param, (*GRAPH_FORMATS, HTML))
        if solutions is None and graph is None:
            raise ProtocolError(
                406,
                "none of the formats in Accept (or format=) is available; available: "
                + negotiation.available(ALL_FORMATS),
            )
        html = HTML in (solutions, graph)
        if html and not values and any(p.required for p in query.params):
            # a browser arriving without parameters gets the form, not an error
            return _named_query_html(request, query, values, None, None, 200, headers)
        try:
            text = bind(query, values, Iris(settings.base_iri))
        except ParameterError as exc:
            if html:
                return _named_query_html(request, query, values, None, str(exc), 400, headers)
            raise ProtocolError(400, f"bad parameter: {exc}") from None
        etag = _etag(service, f"q-{query.name}-{(solutions or graph or HTML).name}")
        headers["ETag"] = etag
        not_modified = _not_modified(request, etag, headers)
        if not_modified is not None:
            return not_modified
        if html:
            try:
                # the site's own query text, only its parameters bound (checked): the site's lane
                result = await run_for_page(
                    service, text, settings.html_row_cap, Labels(_links(request)), public=False
                )
            except ProtocolError as exc:
                return _named_query_html(request, query, values, None, exc.message, exc.status, headers)
            return _named_query_html(request, query, values, result, None, 200, headers)
        answer, hit = await service.run_query(
            text,
            solutions=solutions if solutions is not HTML else None,
            graph=graph if graph is not HTML else None,
        )
        headers["X-Cache"] = "hit" if hit else "miss"
        return Response(answer.body, media_type=answer.content_type, headers=headers)
    except ProtocolError as exc:
        return _protocol_error(request, exc, headers)


def _named_query_html(
    request: Request,
    query: NamedQuery,
    values: Mapping[str, str],
    result: ResultTable | None,
    error: str | None,
    status: int,
    headers: Mapping[str, str],
) -> Response:
    root = _root(request)
    bound = [(k, v) for k, v in values.items()]
    downloads = _downloads(f"{root}/queries/{query.name}", bound, result.kind) if result else []
    if error is not None:
        headers = {k: v for k, v in headers.items() if k != "ETag"}
    return page(
        request,
        "named_query.html",
        status=status,
        headers=headers,
        title=query.title,
        q=query,
        kinds=KINDS,
        values=values,
        result=result,
        error=error,
        downloads=downloads,
        cap=_settings(request).html_row_cap,
        editor_url=f"{root}/query?" + urlencode({"name": query.name}),
    )


def _openapi_parameters(query: NamedQuery) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for param in query.params:
        kind = KINDS[param.kind]
        schema: dict[str, Any] = {"type": "string", "pattern": kind.pattern.pattern}
        if param.default is not None:
            schema["default"] = param.default
        parameters.append(
            {
                "name": param.name,
                "in": "query",
                "required": param.required,
                "description": f"{param.description} ({param.kind}: {kind.expected})".strip(),
                "schema": schema,
            }
        )
    names = sorted({f.name for f in (*SOLUTION_FORMATS, *GRAPH_FORMATS)} | {"html"})
    parameters.append(
        {
            "name": "format",
            "in": "query",
            "required": False,
            "description": "result format, instead of the Accept header",
            "schema": {"type": "string", "enum": names},
        }
    )
    return parameters


def _openapi_responses() -> dict[str, Any]:
    content: dict[str, Any] = {f.media_type: {} for f in ALL_FORMATS}
    return {
        "200": {"description": "the query's results", "content": content},
        "400": {"description": "a parameter is missing, unknown or malformed (the message says which)"},
        "406": {"description": "no acceptable result format"},
        "503": {"description": "the endpoint is busy or the query ran out of time"},
    }


# --- installation -----------------------------------------------------------------------------------------
def load_named_queries(settings: Settings) -> dict[str, NamedQuery]:
    """The named queries of ``<root>/queries``; none when the folder is absent (a store-only deployment)."""
    folder = settings.root / "queries"
    if not folder.is_dir():
        log.warning("no named queries: %s does not exist", folder)
        return {}
    # a malformed query file is a DataError naming file and line: the server refuses to start
    return load_queries(folder)


def install(app: FastAPI) -> None:
    """Add the pages, the named-query API and ``/static`` to ``app`` (made by ``create_app``)."""
    settings: Settings = app.state.settings
    queries = load_named_queries(settings)
    app.state.named_queries = queries
    get = ["GET", "HEAD"]
    app.add_api_route("/", home, methods=get, include_in_schema=False)
    app.add_api_route("/id/{path:path}", resource, methods=get, include_in_schema=False)
    app.add_api_route("/def", ontology, methods=get, include_in_schema=False)
    app.add_api_route("/def.{ext}", ontology_file, methods=get, include_in_schema=False)
    app.add_api_route("/query", query_page, methods=get, include_in_schema=False)
    app.add_api_route(
        "/queries/",
        queries_index,
        methods=["GET"],
        summary="The named queries and their parameters",
        tags=["named queries"],
    )
    app.add_api_route("/queries", _to_index, methods=get, include_in_schema=False)
    for query in sorted(queries.values(), key=lambda q: q.name):
        app.add_api_route(
            f"/queries/{query.name}",
            named_query,
            methods=["GET"],
            name=f"query-{query.name}",
            summary=query.title,
            description=query.description,
            tags=["named queries"],
            openapi_extra={"parameters": _openapi_parameters(query), "responses": _openapi_responses()},
        )
    app.add_api_route("/queries/{name}", named_query, methods=get, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")


async def _to_index(request: Request) -> Response:
    return RedirectResponse(_root(request) + "/queries/", status_code=308)
