"""SPARQL 1.1 Graph Store HTTP Protocol on ``/rdf-graphs/service`` (indirect graph identification).

Off by default (403). With ``serve --enable-update`` reads (GET, HEAD) are open and writes (PUT, POST,
DELETE) need the update bearer token. ``?default`` is the store's own default graph, not the union
that queries see.
"""

from __future__ import annotations

import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import Response

from bassin_kg.web import negotiation
from bassin_kg.web.negotiation import GRAPH_FORMATS, NegotiationError
from bassin_kg.web.serving.engine import GraphDropJob, GraphReadJob, GraphWriteJob, Job, JobError, Outcome
from bassin_kg.web.sparql import (
    ProtocolError,
    SparqlService,
    checked_iris,
    media_type_of,
    parse_params,
    read_body,
)

#: media types a graph may be sent in (dataset formats such as N-Quads make no sense for one graph)
INPUT_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")


class GraphStore:
    """Handlers of the Graph Store protocol, over the same engine as the SPARQL service."""

    def __init__(self, service: SparqlService) -> None:
        self.service = service

    async def handle(self, request: Request) -> Response:
        try:
            if not self.service.settings.enable_update or not self.service.engine.writable:
                raise ProtocolError(
                    403,
                    "the Graph Store protocol is disabled on this read-only endpoint; for local editing "
                    "start it with `bassin-kg serve --enable-update` and BASSIN_KG_UPDATE_TOKEN set",
                )
            graph = self._target(request)
            if request.method in ("GET", "HEAD"):
                return await self._read(request, graph)
            self.service.require_update_rights(request)
            if request.method == "DELETE":
                await self._run(GraphDropJob(graph))
                self.service.data_changed()
                return Response(status_code=204)
            return await self._write(request, graph, replace=request.method == "PUT")
        except ProtocolError as exc:
            return exc.response()

    def _target(self, request: Request) -> str | None:
        params = parse_params(request.scope.get("query_string", b""), where="query string")
        graphs = [v for k, v in params if k == "graph"]
        default = any(k == "default" for k, _ in params)
        if len(graphs) + int(default) != 1:
            raise ProtocolError(400, "name exactly one graph: ?graph=<IRI> or ?default")
        if default:
            return None
        return checked_iris(graphs, "graph")[0]

    async def _run(self, job: Job) -> Outcome:
        try:
            return await self.service.run(job)
        except JobError as exc:
            if exc.kind == "not_found":
                raise ProtocolError(404, exc.message) from None
            if exc.kind == "bad_data":
                raise ProtocolError(400, exc.message) from None
            if exc.kind == "busy":
                raise ProtocolError(503, exc.message, {"Retry-After": "5"}) from None
            raise ProtocolError(500, f"the graph operation failed: {exc.message}") from None

    async def _read(self, request: Request, graph: str | None) -> Response:
        params = parse_params(request.scope.get("query_string", b""), where="query string")
        format_param = next((v for k, v in params if k == "format"), None)
        try:
            fmt = negotiation.choose(request.headers.get("accept"), format_param, GRAPH_FORMATS)
        except NegotiationError as exc:
            raise ProtocolError(400, str(exc)) from None
        if fmt is None:
            raise ProtocolError(
                406, "no acceptable format; available: " + negotiation.available(GRAPH_FORMATS)
            )
        outcome = await self._run(GraphReadJob(graph, fmt.name))
        return Response(
            outcome.body, media_type=fmt.content_type, headers={"ETag": self.service.etag, "Vary": "Accept"}
        )

    async def _write(self, request: Request, graph: str | None, *, replace: bool) -> Response:
        media = media_type_of(request)
        if media not in INPUT_TYPES:
            raise ProtocolError(
                415, f"Content-Type {media!r} cannot carry a graph here; use one of: {', '.join(INPUT_TYPES)}"
            )
        assert ox.RdfFormat.from_media_type(media) is not None
        body = await read_body(request, self.service.settings.max_request_bytes)
        outcome = await self._run(GraphWriteJob(graph, body, media, replace, base_iri=graph))
        self.service.data_changed()
        return Response(status_code=201 if outcome.created else 204)
