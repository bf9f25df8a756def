"""Linked-data pages: dereferencing ``/id/…`` and ``/def``, and the home page.

:func:`install` adds the routes to an app made by :func:`bassin_kg.web.app.create_app` and reads what it
needs from ``app.state`` (``settings``, ``sparql``); the query page and the named-query API are in
:mod:`bassin_kg.web.query_pages`, what every page shares in :mod:`bassin_kg.web.page_support`.

Every IRI under the configured base answers on this server whatever its host: the request path
``/id/territoire/ze2010/3123`` is the IRI ``<base>id/territoire/ze2010/3123``. Browsers get HTML, programs
Turtle, JSON-LD, N-Triples or RDF/XML (by ``Accept``, by a ``.ttl``/``.jsonld``/``.nt``/``.rdf`` suffix or
by ``format=``). HTML pages carry a strict Content-Security-Policy: same-origin scripts only (just the
query page's editor has any, :mod:`bassin_kg.web.vendor`), styles from ``/static`` only; the charts are
inline SVG without style attributes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

import pyoxigraph as ox
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from bassin_kg.namespaces import BM, Iris
from bassin_kg.queries import NamedQuery
from bassin_kg.web import charts, describe, negotiation, query_forms, query_pages, vendor
from bassin_kg.web.describe import Labels
from bassin_kg.web.negotiation import Format
from bassin_kg.web.page_support import (
    HTML,
    STATIC,
    error_page,
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
from bassin_kg.web.sparql import ProtocolError

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
FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdfxml": "RDF/XML", "html": "HTML"}


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
    if description.has_type(str(BM.BassinMinier)):
        return "basin"
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
    service, settings = sparql_of(request), settings_of(request)
    links = links_of(request)
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
    if kind == "basin":
        basin = await describe.basin_view(service, iri, labels, settings.base_iri)
        context["v"] = basin
        context["charts"] = basin_charts(basin)
        template = "basin.html"
    elif kind == "territory":
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
                )
                # bars all of one length say nothing: the page lists them in one sentence instead
                if not tied(view.difficulties)
                else None,
            )
            if c is not None
        ]
        context["tied_difficulties"] = view.difficulties if tied(view.difficulties) else []
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


def tied(figures: Sequence[describe.Figure]) -> bool:
    """Several figures, all with the same value (the deck's five occupations at 100 %)."""
    return len(figures) > 1 and len({f.value for f in figures}) == 1


def basin_charts(view: describe.BasinView) -> list[charts.Chart]:
    """The four zones side by side: unemployment and its change, recruitment projects, difficulty."""
    zones = view.zones
    # the zone's figures, each named by its zone (a bar per zone)
    rates = [dataclasses.replace(z.unemployment.rate, label=z.zone) for z in zones if z.unemployment]
    changes = [
        dataclasses.replace(z.unemployment.change, label=z.zone)
        for z in zones
        if z.unemployment and z.unemployment.change
    ]
    period = next((z.unemployment.period for z in zones if z.unemployment and z.unemployment.period), "")
    top = [z.top_projects for z in zones if z.top_projects]
    specs: list[tuple[str, str, list[describe.Figure], str, str]] = [
        ("chart-chomage", f"Taux de chômage, {period} (diaporama)", rates, "taux de chômage (%)", "projects"),
        (
            "chart-evolution",
            f"Évolution du taux de chômage sur un an, {period} (diaporama)",
            changes,
            "évolution sur un an (points)",
            "difficulties",
        ),
        (
            "chart-projets-2018",
            "Projets de recrutement des cinq premiers métiers, 2018 (diaporama)",
            top,
            "projets de recrutement",
            "projects",
        ),
    ]
    for year in view.bmo_years:
        projects, shares = [], []
        for zone in zones:
            totals = next((t for t in zone.bmo if t.year == year), None)
            if totals is None:
                continue
            sources: list[describe.Source] = []
            label = describe.Shown(
                f"{zone.zone.text} ({totals.bassin.text})", zone.zone.href, zone.zone.title
            )
            projects.append(
                describe.Figure(label, totals.projects, describe.shown_number(totals.projects), None, sources)
            )
            if totals.share is not None:
                shown = describe.shown_number(totals.share) + " %"
                shares.append(describe.Figure(label, totals.share, shown, None, sources))
        specs.append(
            (
                f"chart-projets-{year}",
                f"Projets de recrutement, enquête BMO {year}, bassin BMO principal de chaque zone",
                projects,
                "projets de recrutement",
                "projects",
            )
        )
        specs.append(
            (
                f"chart-difficiles-{year}",
                f"Part des projets jugés difficiles, enquête BMO {year}, bassin BMO principal",
                shares,
                "part des projets jugés difficiles (%)",
                "difficulties",
            )
        )
    made = [
        charts.bar_chart(chart_id, title, figures, value_title, kind=kind, subject="zone d'emploi")
        for chart_id, title, figures, value_title, kind in specs
    ]
    return [c for c in made if c is not None]


def trajectory_charts(view: describe.TrajectoryView) -> list[charts.GroupChart]:
    """2018 (deck) beside each BMO year, per occupation: projects, then share of difficult projects."""
    series = ["2018 (diaporama)", *(f"{y} (BMO)" for y in view.years)]
    made = []
    for chart_id, title, rows, measure, value_title in (
        (
            "chart-trajectoire-projets",
            f"Projets de recrutement – {view.zone.text} : 2018 et enquêtes BMO",
            view.projects,
            "projects",
            "projets de recrutement",
        ),
        (
            "chart-trajectoire-difficultes",
            f"Part des projets jugés difficiles – {view.zone.text} : 2018 et enquêtes BMO",
            view.difficulties,
            "share",
            "part des projets jugés difficiles (%)",
        ),
    ):
        groups = [
            charts.Group(
                row.occupation.text,
                row.occupation.href,
                (
                    charts.Bar(series[0], row.value, row.shown),
                    *(
                        charts.Bar(name, row.total(year, measure), row.shown_total(year, measure) or "")
                        for name, year in zip(series[1:], view.years, strict=True)
                    ),
                ),
            )
            for row in rows
        ]
        chart = charts.group_chart(chart_id, title, groups, series, value_title)
        if chart is not None:
            made.append(chart)
    return made


async def trajectory(request: Request) -> Response:
    """``/trajectoire/ze2010/<code>``: a zone's 2018 figures beside every BMO survey loaded."""
    service, settings = sparql_of(request), settings_of(request)
    code = str(request.path_params.get("code", ""))
    labels = Labels(links_of(request))
    iris = Iris(settings.base_iri)
    if not code.isdigit() or len(code) != 4:
        return error_page(
            request, 404, "Zone inconnue", f"« {code} » n'est pas un code de zone d'emploi 2010 (4 chiffres)."
        )
    zone = str(iris.ze2010(code))
    etag = etag_for(service, "trajectoire-" + code)
    headers = {"ETag": etag}
    not_modified = not_modified_response(request, etag, headers)
    if not_modified is not None:
        return not_modified
    try:
        view = await describe.trajectory_view(service, zone, labels, settings.base_iri)
    except ProtocolError as exc:
        return protocol_error_response(request, exc)
    if not view.projects and not view.difficulties:
        return error_page(
            request,
            404,
            "Zone sans chiffres du diaporama",
            f"Le diaporama ne donne pas de chiffres de recrutement pour la zone d'emploi 2010 {code}.",
        )
    return page(
        request,
        "trajectory.html",
        headers=headers,
        title=f"Trajectoire des métiers – {view.zone.text}",
        t=view,
        charts=trajectory_charts(view),
    )


def employment_chart(view: describe.TerritoryView) -> charts.SeriesChart | None:
    """The Urssaf series of the zone's main 2020 zone, with the deck's unemployment rate marked."""
    employment = view.employment
    if employment is None or employment.series is None:
        return None
    series = employment.series
    deck = view.unemployment
    marker = None
    if deck is not None and deck.quarter is not None:
        marker = charts.Marker(deck.quarter, f"{deck.period} : chômage {deck.rate.shown} (diaporama)")
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
    links = links_of(request)
    iri = links.iri(path)
    try:
        ox.NamedNode(iri)
    except ValueError:
        return error_page(request, 404, "Chemin refusé", "Ce chemin n'est pas un identifiant valide.")
    service = sparql_of(request)
    alternates = _alternates(links.local(iri) or "/" + path)
    headers = {"Vary": "Accept", "Link": _link_header(alternates)}
    try:
        params = query_params(request)
        fmt = suffix_format or wanted_format(request, one_param(params, "format"), RESOURCE_FORMATS)
        if fmt is None:
            raise ProtocolError(
                406,
                "none of the types in Accept is available for this resource; available: "
                + negotiation.available(RESOURCE_FORMATS),
            )
        etag = etag_for(service, fmt.name)
        headers["ETag"] = etag
        not_modified = not_modified_response(request, etag, headers)
        if not_modified is not None:
            return not_modified
        if fmt is HTML:
            return await _resource_html(request, iri, headers)
        if not await describe.exists(service, iri):
            return _rdf_not_found(iri, fmt)
        answer, _ = await service.run_query(describe.construct_query(iri), solutions=None, graph=fmt)
        return Response(answer.body, media_type=answer.content_type, headers=headers)
    except ProtocolError as exc:
        return protocol_error_response(request, exc, headers)


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
    service, settings = sparql_of(request), settings_of(request)
    links = links_of(request)
    graph = str(Iris(settings.base_iri).graph("ontology"))
    alternates = _alternates(root_of(request) + "/def")
    headers = {"Vary": "Accept", "Link": _link_header(alternates)}
    try:
        fmt = suffix_format or wanted_format(
            request, one_param(query_params(request), "format"), RESOURCE_FORMATS
        )
        if fmt is None:
            raise ProtocolError(
                406, "no type in Accept is available; available: " + negotiation.available(RESOURCE_FORMATS)
            )
        etag = etag_for(service, "def-" + fmt.name)
        headers["ETag"] = etag
        not_modified = not_modified_response(request, etag, headers)
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
        return protocol_error_response(request, exc, headers)


# --- home --------------------------------------------------------------------------------------------
async def home(request: Request) -> Response:
    service, settings = sparql_of(request), settings_of(request)
    etag = etag_for(service, "home")
    headers = {"ETag": etag}
    not_modified = not_modified_response(request, etag, headers)
    if not_modified is not None:
        return not_modified
    try:
        cards = await describe.home_view(service, Labels(links_of(request)), settings.base_iri)
        queries: dict[str, NamedQuery] = request.app.state.named_queries
        unavailable = await query_forms.unavailable_queries(queries, settings, service)
    except ProtocolError as exc:
        return protocol_error_response(request, exc)
    return page(
        request,
        "home.html",
        headers=headers,
        title="Trajectoire économique du bassin minier",
        cards=cards,
        queries=sorted(queries.values(), key=lambda q: q.title),
        unavailable=unavailable,
    )


def install(app: FastAPI) -> None:
    """Add the pages, the named-query API and ``/static`` to ``app`` (made by ``create_app``)."""
    get = ["GET", "HEAD"]
    app.add_api_route("/", home, methods=get, include_in_schema=False)
    app.add_api_route("/id/{path:path}", resource, methods=get, include_in_schema=False)
    app.add_api_route("/trajectoire/ze2010/{code}", trajectory, methods=get, include_in_schema=False)
    app.add_api_route("/def", ontology, methods=get, include_in_schema=False)
    app.add_api_route("/def.{ext}", ontology_file, methods=get, include_in_schema=False)
    query_pages.install(app)
    vendor.install(app)  # /static/vendor/yasgui/…: before the /static mount, which would answer first
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
