"""The query page (``/query``) and the named-query API (``/queries/…``), with results as HTML tables.

The named queries of ``<root>/queries`` are loaded once, by :func:`install`, and each gets its own
documented route in the OpenAPI description.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bassin_kg import french_csv
from bassin_kg.namespaces import Iris
from bassin_kg.queries import KINDS, NamedQuery, ParameterError, bind, canonical_values, load_queries
from bassin_kg.settings import Settings
from bassin_kg.web import negotiation, query_forms, vendor
from bassin_kg.web.describe import ONTOLOGY, Labels, Links, Shown
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS
from bassin_kg.web.page_support import (
    ALL_FORMATS,
    CONTENT_SECURITY_POLICY,
    HTML,
    JSON,
    etag_for,
    links_of,
    not_modified_response,
    one_param,
    page,
    protocol_error_response,
    query_params,
    root_of,
    settings_of,
    sparql_of,
    wanted_format,
)
from bassin_kg.web.sparql import ProtocolError, SparqlService

log = logging.getLogger(__name__)

RESULT_DOWNLOADS = (("csv", "CSV"), ("tsv", "TSV"), ("json", "JSON"), ("xml", "XML"))
GRAPH_DOWNLOADS = (("ttl", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"), ("rdfxml", "RDF/XML"))

DEFAULT_QUERY = """PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>

# DISTINCT: a zone described by two sources (two named graphs) would otherwise come twice
SELECT DISTINCT ?zone ?nom WHERE {
  ?zone a igeo:ZoneDEmploi2010 ; skos:prefLabel ?nom .
}
ORDER BY ?nom
"""


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
    def headers(self) -> list[str]:
        """The columns as a French reader sees them (the variable names stay in the data formats)."""
        return [query_forms.column_label(c) for c in self.columns]

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


def _french_csv_link(endpoint: str, params: Sequence[tuple[str, str]]) -> dict[str, str]:
    return {
        "href": endpoint + "?" + urlencode([*params, ("format", french_csv.NAME)]),
        "name": "CSV pour Excel (« ; », virgule décimale)",
    }


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
    service, settings = sparql_of(request), settings_of(request)
    queries: dict[str, NamedQuery] = request.app.state.named_queries
    iris = Iris(settings.base_iri)
    try:
        params = query_params(request)
        text = one_param(params, "query")
        chosen = one_param(params, "name")
        if one_param(params, "format") == french_csv.NAME and text:
            answer, _ = await service.run_query(
                text, solutions=negotiation.find("json"), graph=None, public=True
            )
            return french_csv_response(answer.body, "resultats")
    except ProtocolError as exc:
        return protocol_error_response(request, exc)
    error: str | None = None
    status = 200
    unavailable = await query_forms.unavailable_queries(queries, settings, service)
    notice: str | None = None
    if text is None and chosen is not None:
        if chosen in queries:
            text = _example_text(queries[chosen], iris)
            # shown, not run: it cannot answer here, and saying why beats the endpoint's refusal
            notice = unavailable.get(chosen)
        else:
            error, status = f"Aucune requête nommée « {chosen} ».", 404
    result: ResultTable | None = None
    downloads: list[dict[str, str]] = []
    if text is not None and text.strip() and error is None and notice is None:
        try:
            result = await run_for_page(
                service, text, settings.html_row_cap, Labels(links_of(request)), public=True
            )
            downloads = _downloads(root_of(request) + "/sparql", [("query", text)], result.kind)
            if result.kind != "graph":
                downloads.insert(1, _french_csv_link(root_of(request) + "/query", [("query", text)]))
        except ProtocolError as exc:
            error, status = french_error(exc), exc.status
    # with the YASGUI bundle installed, the page also carries each named query's text for the editor
    editor = vendor.editor_assets(settings, root_of(request))
    named_texts = {q.name: _example_text(q, iris) for q in queries.values()} if editor else {}
    csp = vendor.editor_csp(CONTENT_SECURITY_POLICY) if editor else CONTENT_SECURITY_POLICY
    return page(
        request,
        "query.html",
        status=status,
        headers={"Content-Security-Policy": csp},
        editor=editor,
        named_texts=named_texts,
        title="Interroger le graphe (SPARQL)",
        query_text=text if text is not None else DEFAULT_QUERY,
        queries=sorted(queries.values(), key=lambda q: q.title),
        unavailable=unavailable,
        notice=notice,
        base_iri=Links(settings.base_iri).base,
        ontology_iri=ONTOLOGY,
        column_labels=query_forms.COLUMN_LABELS,
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
    root = root_of(request)
    ordered = sorted(queries.values(), key=lambda q: q.name)
    try:
        fmt = wanted_format(request, one_param(query_params(request), "format"), (HTML, JSON))
    except ProtocolError as exc:
        return protocol_error_response(request, exc)
    headers = {"Vary": "Accept"}
    if fmt is JSON:
        body = json.dumps([_query_info(q, root) for q in ordered], ensure_ascii=False, indent=2)
        return Response(body + "\n", media_type="application/json", headers=headers)
    if fmt is None:
        return Response(
            "formats disponibles : text/html, application/json\n", status_code=406, media_type="text/plain"
        )
    unavailable = await query_forms.unavailable_queries(queries, settings_of(request), sparql_of(request))
    return page(
        request,
        "queries.html",
        headers=headers,
        title="Requêtes prêtes à l'emploi",
        queries=ordered,
        unavailable=unavailable,
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
        message = f"aucune requête nommée « {name} » ; requêtes : {', '.join(sorted(queries)) or 'aucune'}"
        return protocol_error_response(request, ProtocolError(404, message))
    service, settings = sparql_of(request), settings_of(request)
    headers = {"Vary": "Accept"}
    try:
        params = query_params(request)
        format_param = one_param(params, "format")
        values: dict[str, str] = {}
        for key, _ in params:
            if key != "format" and key not in values:
                value = one_param(params, key)
                assert value is not None
                values[key] = value
        try:
            values = canonical_values(query, values)
        except ParameterError as exc:
            raise ProtocolError(400, str(exc)) from None
        if format_param == french_csv.NAME:
            return await _french_csv_download(request, query, values)
        solutions = wanted_format(request, format_param, (*SOLUTION_FORMATS, HTML))
        graph = wanted_format(request, format_param, (*GRAPH_FORMATS, HTML))
        if solutions is None and graph is None:
            raise ProtocolError(
                406,
                "none of the formats in Accept (or format=) is available; available: "
                + negotiation.available(ALL_FORMATS),
            )
        html = HTML in (solutions, graph)
        if html:
            reason = await query_forms.unavailable_reason(query, settings, service, {})
            if reason is not None:
                # said before anything runs: the query cannot answer on this server, whatever the values
                return await _named_query_html(request, query, values, None, None, 200, headers, reason)
        if html and not values and any(p.required for p in query.params):
            # a browser arriving without parameters gets the form, not an error
            return await _named_query_html(request, query, values, None, None, 200, headers)
        try:
            text = bind(query, values, Iris(settings.base_iri))
        except ParameterError as exc:
            if html:
                return await _named_query_html(request, query, values, None, str(exc), 400, headers)
            raise ProtocolError(400, f"paramètre refusé : {exc}") from None
        if html:
            unknown = await query_forms.unknown_values(query, values, service, settings.base_iri)
            if unknown is not None:
                return await _named_query_html(request, query, values, None, unknown, 404, headers)
        etag = etag_for(service, f"q-{query.name}-{(solutions or graph or HTML).name}")
        headers["ETag"] = etag
        not_modified = not_modified_response(request, etag, headers)
        if not_modified is not None:
            return not_modified
        if html:
            try:
                # the site's own query text, only its parameters bound (checked): the site's lane
                result = await run_for_page(
                    service, text, settings.html_row_cap, Labels(links_of(request)), public=False
                )
            except ProtocolError as exc:
                message = french_error(exc)
                return await _named_query_html(request, query, values, None, message, exc.status, headers)
            return await _named_query_html(request, query, values, result, None, 200, headers)
        answer, hit = await service.run_query(
            text,
            solutions=solutions if solutions is not HTML else None,
            graph=graph if graph is not HTML else None,
        )
        headers["X-Cache"] = "hit" if hit else "miss"
        return Response(answer.body, media_type=answer.content_type, headers=headers)
    except ProtocolError as exc:
        return protocol_error_response(request, exc, headers)


async def _french_csv_download(request: Request, query: NamedQuery, values: Mapping[str, str]) -> Response:
    """``format=csv-fr``: the results as a French spreadsheet opens them (see :mod:`bassin_kg.french_csv`)."""
    settings = settings_of(request)
    try:
        text = bind(query, values, Iris(settings.base_iri))
    except ParameterError as exc:
        raise ProtocolError(400, f"paramètre refusé : {exc}") from None
    answer, _ = await sparql_of(request).run_query(text, solutions=negotiation.find("json"), graph=None)
    return french_csv_response(answer.body, query.name)


def french_csv_response(json_body: bytes, name: str) -> Response:
    body = french_csv.from_sparql_json(json_body)
    return Response(
        body.encode("utf-8"),
        media_type=french_csv.MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


#: what a reader is told when the endpoint refuses or fails a query, by HTTP status
_FRENCH_ERRORS = {
    400: "Le point d'accès a refusé la requête.",
    403: "Ce serveur n'autorise pas cette requête.",
    406: "Aucun des formats demandés n'est disponible.",
    413: "La requête est trop longue.",
    503: "Le serveur est occupé, ou la requête a dépassé le temps imparti : réessayez, ou restreignez-la.",
}


def french_error(exc: ProtocolError) -> str:
    """A French sentence for an endpoint error, with the endpoint's own technical detail after it."""
    return f"{_FRENCH_ERRORS.get(exc.status, 'La requête a échoué.')}\nDétail technique : {exc.message}"


async def _named_query_html(
    request: Request,
    query: NamedQuery,
    values: Mapping[str, str],
    result: ResultTable | None,
    error: str | None,
    status: int,
    headers: Mapping[str, str],
    unavailable: str | None = None,
) -> Response:
    root = root_of(request)
    service, settings = sparql_of(request), settings_of(request)
    bound = [(k, v) for k, v in values.items()]
    downloads = _downloads(f"{root}/queries/{query.name}", bound, result.kind) if result else []
    if result is not None and result.kind != "graph":
        downloads.insert(1, _french_csv_link(f"{root}/queries/{query.name}", bound))
    if error is not None:
        headers = {k: v for k, v in headers.items() if k != "ETag"}
    labels = Labels(links_of(request))
    choices = {p.name: await query_forms.choices(p, service, labels, settings.base_iri) for p in query.params}
    return page(
        request,
        "named_query.html",
        status=status,
        error_status=status,
        headers=headers,
        title=query.title,
        q=query,
        kinds=KINDS,
        values=values,
        choices=choices,
        unavailable=unavailable,
        result=result,
        error=error,
        downloads=downloads,
        cap=settings_of(request).html_row_cap,
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
    """Load the named queries into ``app.state`` and add ``/query`` and the ``/queries/…`` routes."""
    settings: Settings = app.state.settings
    queries = load_named_queries(settings)
    app.state.named_queries = queries
    get = ["GET", "HEAD"]
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


async def _to_index(request: Request) -> Response:
    return RedirectResponse(root_of(request) + "/queries/", status_code=308)
