"""The web application: ``create_app`` builds it from a :class:`Settings`, ``run_server`` serves it.

No state lives at module level: everything an app needs is built by :func:`create_app` and kept in
``app.state`` (``settings``, ``sparql``: the :class:`SparqlService`, ``graph_store``). Route functions
read it from ``request.app.state``, so several apps (tests, workers) never share anything.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

import anyio.to_thread
import pyoxigraph as ox
from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from bassin_kg.errors import StoreError, UsageError
from bassin_kg.namespaces import PREFIXES
from bassin_kg.release import release_id
from bassin_kg.settings import ENV_PREFIX, Settings
from bassin_kg.web import pages, service_page, wellknown
from bassin_kg.web.graph_store import GraphStore
from bassin_kg.web.page_support import STATIC, error_page
from bassin_kg.web.security import ALWAYS, SecurityHeaders
from bassin_kg.web.serving.engine import Engine, InProcessEngine, ProcessEngine, open_store
from bassin_kg.web.serving.fastpath import SparqlFastPath
from bassin_kg.web.serving.releases import PinRelease, ReleaseEngine
from bassin_kg.web.serving.remote_engine import RemoteEngine, discover_graphs, release_graphs
from bassin_kg.web.sparql import SparqlService
from bassin_kg.web.updates import ReleasingEngine, check_store_given

SPARQL_METHODS = ("GET", "HEAD", "POST")
GRAPH_STORE_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


def _service(request: Request) -> SparqlService:
    service: SparqlService = request.app.state.sparql
    return service


async def sparql_endpoint(request: Request) -> Response:
    """SPARQL 1.1 Protocol: query (GET, POST form, POST sparql-query), update, service description.

    A browser visiting without a query gets a page about the endpoint (web/service_page.py).
    """
    if service_page.is_browser_visit(request):
        return service_page.service_page(request)
    return await _service(request).handle(request)


async def http_error(request: Request, exc: Exception) -> Response:
    """Routing errors (no such page, method not allowed): a French page for browsers, JSON for programs."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and "text/html" in (request.headers.get("accept") or ""):
        return error_page(
            request, 404, "Page introuvable", "Cette adresse ne correspond à aucune page de ce site."
        )
    return await http_exception_handler(request, exc)


async def favicon(request: Request) -> Response:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")


async def sparql_method_not_allowed(request: Request) -> Response:
    return PlainTextResponse(
        f"{request.method} is not allowed on the SPARQL endpoint; use GET or POST "
        "(graphs are changed through /rdf-graphs/service when updates are enabled)\n",
        status_code=405,
        headers={"Allow": ", ".join(SPARQL_METHODS)},
    )


async def graph_store_endpoint(request: Request) -> Response:
    """SPARQL 1.1 Graph Store HTTP Protocol (off unless updates are enabled)."""
    graph_store: GraphStore = request.app.state.graph_store
    return await graph_store.handle(request)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    service: SparqlService = app.state.sparql
    # start the query workers before the first request, off the event loop
    await anyio.to_thread.run_sync(service.engine.start)
    try:
        yield
    finally:
        service.engine.close()


class BassinKgApp(FastAPI):
    """FastAPI, with the ``/sparql`` fast path (web/serving/fastpath.py) in front of its middleware stack.

    The fast path answers the plain queries itself; in front of the stack it also skips FastAPI's own
    layers (error handler, telemetry, body limit), about a quarter of the CPU of a cached answer and a
    sixth of a subject lookup's (bench/README.md). It applies what the skipped layers of this app would
    have: it pins the release (as :class:`PinRelease`) and writes the security headers; an exception
    reaches uvicorn, which answers 500 as FastAPI's error layer would. Requests it does not answer go
    through the whole stack. Answers of the fast path are not in FastAPI's OpenTelemetry spans (the
    access log has them).
    """

    #: the front for /sparql (None: every request goes through the stack)
    front: ASGIApp | None = None
    #: bytes the header lines of a request may have together (0: no limit); more gets 431
    max_header_bytes: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.max_header_bytes and scope["type"] == "http":
            # the HTTP layer (httptools) reads headers of any size; past this, nothing reads them further
            # (a 2 MB Accept header cost ~1 s of negotiation on the event loop)
            size = sum(len(name) + len(value) for name, value in scope["headers"])
            if size > self.max_header_bytes:
                await _headers_too_large(self.max_header_bytes)(scope, receive, send)
                return
        front = self.front
        if front is not None and scope["type"] == "http" and scope["path"] == "/sparql":
            await front(scope, receive, send)
            return
        await super().__call__(scope, receive, send)

    async def through_stack(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The request as FastAPI answers it (what the front falls back to)."""
        await super().__call__(scope, receive, send)


def _headers_too_large(limit: int) -> Response:
    return PlainTextResponse(
        f"the request's headers are larger than {limit} bytes, the limit of this server; send shorter "
        "ones (an Accept header lists a few media types)\n",
        status_code=431,
        headers=ALWAYS,
    )


def _check_update_settings(settings: Settings) -> None:
    if settings.enable_update and not settings.update_token:
        raise UsageError(
            "--enable-update needs a bearer token: set BASSIN_KG_UPDATE_TOKEN to a long random secret "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe())'`)"
        )


def create_app(settings: Settings, *, store: ox.Store | None = None) -> FastAPI:
    """Build the application.

    Without ``store`` the store at ``settings.store_path`` is served through worker processes (opened
    read-only, or read-write with ``enable_update`` — for local editing and tests only). A missing or
    corrupt store raises :class:`~bassin_kg.errors.StoreError` here, before anything listens.
    """
    _check_update_settings(settings)
    engine: Engine
    if settings.sparql_endpoint and store is None:
        engine, release = _remote_engine(settings)
    elif store is None:
        path = settings.store_path
        # fail now with a clear message rather than in a worker later; the handle is closed at once
        probe = open_store(path, writable=False)
        del probe
        if settings.enable_update and settings.store is None:
            # the build's releases: each accepted change becomes a new release (web/updates.py)
            engine = ReleasingEngine(settings, size=settings.max_concurrent_queries, prefixes=PREFIXES)
        elif settings.enable_update:
            # a store of the user's own, outside build/releases/: written in place
            check_store_given(path)
            engine = ProcessEngine(
                path, writable=True, size=settings.max_concurrent_queries, prefixes=PREFIXES
            )
        else:
            # follows build/current to each new release, one release per request (web/serving/releases.py)
            engine = ReleaseEngine(
                path,
                size=settings.max_concurrent_queries,
                prefixes=PREFIXES,
                memory_max_quads=settings.memory_store_max_quads,
            )
        release = release_id(path)
    else:
        engine = InProcessEngine(
            store, writable=settings.enable_update, size=settings.max_concurrent_queries, prefixes=PREFIXES
        )
        release = f"memory-{uuid.uuid4().hex[:12]}"
    service = SparqlService(settings, engine, release)

    app = BassinKgApp(
        title="bassin-kg",
        description="Knowledge graph of the Nord–Pas-de-Calais mining basin: SPARQL and linked data.",
        lifespan=_lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN: dropped (many users have no network
        # beyond this server); the description itself stays at /openapi.json
        docs_url=None,
        redoc_url=None,
    )
    app.max_header_bytes = settings.max_header_bytes
    app.state.settings = settings
    app.state.sparql = service
    app.state.graph_store = GraphStore(service)
    app.add_api_route("/sparql", sparql_endpoint, methods=list(SPARQL_METHODS), summary="SPARQL 1.1 endpoint")
    app.add_api_route(
        "/sparql", sparql_method_not_allowed, methods=["PUT", "DELETE", "PATCH"], include_in_schema=False
    )
    app.add_api_route(
        "/rdf-graphs/service",
        graph_store_endpoint,
        methods=list(GRAPH_STORE_METHODS),
        summary="SPARQL 1.1 Graph Store HTTP Protocol",
    )
    app.add_api_route("/favicon.ico", favicon, methods=["GET", "HEAD"], include_in_schema=False)
    app.add_exception_handler(StarletteHTTPException, http_error)
    # linked-data pages, /def (web/pages.py), /query and the named-query API (web/query_pages.py)
    pages.install(app)
    # /.well-known/void, /catalog and /dist/… from the release's publication (web/wellknown.py)
    wellknown.install(app)
    _one_operation_per_method(app)
    # plain /sparql queries and cached answers without FastAPI's routing (web/serving/fastpath.py): in
    # front of the whole stack, or, when CORS must decorate its answers, as the innermost middleware
    if settings.fast_path and settings.cors_origins:
        app.add_middleware(SparqlFastPath, service=service)
    elif settings.fast_path:
        releases = engine if isinstance(engine, ReleaseEngine) else None
        app.front = SparqlFastPath(app.through_stack, service, releases)
    if isinstance(engine, ReleaseEngine):
        # outside the shortcut: even a cached answer carries the ETag of the release it pinned
        app.add_middleware(PinRelease, engine=engine)
    # nosniff and a Referrer-Policy on every answer, a CSP on any HTML without one (web/security.py)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        write_methods = ["PUT", "DELETE"] if settings.enable_update else []
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            # never credentials: with them a '*' origin would hand any site the user's session
            allow_credentials=False,
            allow_methods=[*SPARQL_METHODS, *write_methods],
            allow_headers=["Accept", "Content-Type", "If-None-Match"]
            + (["Authorization"] if settings.enable_update else []),
            expose_headers=["ETag", "X-Cache", "Retry-After"],
            max_age=600,
        )
    return app


def _remote_engine(settings: Settings) -> tuple[RemoteEngine, str]:
    """The engine of ``--sparql-endpoint`` and the release it serves (its graphs make every query's dataset).

    The graphs are the release's beside the store path when there is one (its dumps, VoID and catalogue
    are served too); otherwise they are listed on the endpoint.
    """
    endpoint = settings.sparql_endpoint
    assert endpoint is not None
    if settings.enable_update:
        raise UsageError("--enable-update edits the local store: not with --sparql-endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"--sparql-endpoint {endpoint!r} is not an http(s) URL of a SPARQL query endpoint "
            "(e.g. http://host:8890/sparql)"
        )
    graphs = release_graphs(settings.store_path) or discover_graphs(endpoint, settings.base_iri)
    if not graphs:
        raise StoreError(
            f"the SPARQL endpoint {endpoint} holds no graph under {settings.base_iri}: push first"
        )
    if (settings.store_path.resolve().parent / "release.json").is_file():
        release = release_id(settings.store_path)
    else:  # what the endpoint serves can change under us: the ETag names only the endpoint and graphs
        release = hashlib.sha256("\0".join((endpoint, *graphs)).encode()).hexdigest()[:16]
    engine = RemoteEngine(endpoint, graphs, settings.max_concurrent_queries, prefixes=PREFIXES)
    return engine, release


def _one_operation_per_method(app: FastAPI) -> None:
    """Give each method of a documented route its own OpenAPI operation.

    FastAPI names one operation per route, so a route for GET and POST documents two operations under
    one operationId (a warning, and an invalid description for clients and fuzzers). Each extra method
    becomes a route of its own; HEAD, answered like GET, stays out of the description.
    """
    for route in list(app.router.routes):
        if not isinstance(route, APIRoute) or not route.include_in_schema or len(route.methods or ()) < 2:
            continue
        first, *others = sorted(route.methods or (), key=lambda m: (m != "GET", m))
        route.methods = {first}
        route.operation_id = route.operation_id or f"{route.name}_{first.lower()}"
        for method in others:
            app.add_api_route(
                route.path,
                route.endpoint,
                methods=[method],
                name=route.name,
                summary=route.summary,
                description=route.description,
                tags=list(route.tags),
                include_in_schema=method != "HEAD",
                operation_id=f"{route.name}_{method.lower()}",
                openapi_extra=route.openapi_extra,
            )


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory bassin_kg.web.app:app_from_env``: settings from BASSIN_KG_*."""
    return create_app(Settings.from_env())


def settings_to_env(settings: Settings) -> dict[str, str]:
    """``settings`` as BASSIN_KG_* variables that :meth:`Settings.from_env` reads back identically."""
    env: dict[str, str] = {}
    for spec in dataclasses.fields(settings):
        value = getattr(settings, spec.name)
        if value is None:
            text = ""
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, tuple):
            text = ",".join(value)
        elif isinstance(value, Path):
            text = str(value.resolve())
        else:
            text = str(value)
        env[ENV_PREFIX + spec.name.upper()] = text
    return env


def run_server(settings: Settings, *, workers: int = 1) -> None:
    """Serve with uvicorn on ``settings.host:settings.port``.

    With ``workers > 1`` uvicorn starts processes that each build their app from the environment
    (``app_from_env``), so the settings are exported as BASSIN_KG_* variables here, just before
    uvicorn starts them, and nowhere else. Updates need a single writer: they refuse several workers.
    """
    import uvicorn

    if workers < 1:
        raise UsageError(f"--workers {workers} must be at least 1")
    _check_update_settings(settings)
    if workers == 1:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            access_log=settings.access_log,
            server_header=False,  # no "server: uvicorn": it tells an attacker what to look up
        )
        return
    if settings.enable_update:
        raise UsageError("--enable-update serves a single writer: use --workers 1")
    # validate in the parent, so a bad store is one clear error instead of one per worker
    if settings.sparql_endpoint:
        _remote_engine(settings)
    else:
        open_store(settings.store_path, writable=False)
    os.environ.update(settings_to_env(settings))
    uvicorn.run(
        "bassin_kg.web.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        access_log=settings.access_log,
        server_header=False,
    )
