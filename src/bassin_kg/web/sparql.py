"""The SPARQL 1.1 Protocol on ``/sparql``: reading requests, negotiating, running, answering.

Errors follow the W3C protocol tests and Oxigraph server: 400 for a malformed request or query, 403 for an
update on a read-only service, 406 when no result format is acceptable, 413 for an oversized request,
415 for a POST body of the wrong type, 502 when a remote SERVICE or LOAD target fails, 503 when the
endpoint is busy or a query overran its time. Errors a query causes are said in English and French.

Relative IRIs in a query or update are resolved against the endpoint's IRI, ``<base IRI>sparql``
(SPARQL 1.1 Protocol: a service-defined base), whatever host serves it: ``<id/commune/62119>`` is the
commune's IRI, and the same text gives the same answer (and cache entry) on every host.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import anyio
import pyoxigraph as ox
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from bassin_kg.settings import Settings
from bassin_kg.web import negotiation, service_description
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, NegotiationError
from bassin_kg.web.query_text import (
    QueryTextError,
    add_using,
    check_nesting,
    check_services,
    has_from_clause,
    load_calls,
    service_calls,
)
from bassin_kg.web.serving.cache import CachedResponse, ResponseCache
from bassin_kg.web.serving.engine import (
    Engine,
    GraphStats,
    Job,
    JobError,
    JobTimeoutError,
    Outcome,
    QueryJob,
    StatsJob,
    UpdateJob,
)
from bassin_kg.web.serving.query_shape import is_subject_lookup
from bassin_kg.web.serving.releases import ReleaseEngine

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"


class ProtocolError(Exception):
    """An HTTP error answer: status, a message saying what to do, and extra headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        return PlainTextResponse(self.message + "\n", status_code=self.status, headers=self.headers)


# reading requests -----------------------------------------------------------------------------------
def parse_params(raw: bytes, *, where: str) -> list[tuple[str, str]]:
    """Decode ``a=b&c=d`` strictly as UTF-8 (a body or query string that is not UTF-8 is a 400)."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the {where} is not valid UTF-8; encode the query as UTF-8") from None


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed ``max_bytes``."""
    too_big = ProtocolError(
        413, f"request body larger than {max_bytes} bytes, the limit of this endpoint; send a shorter query"
    )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def media_type_of(request: Request) -> str | None:
    value = request.headers.get("content-type")
    if value is None:
        return None
    return value.split(";")[0].strip().lower() or None


@dataclass(frozen=True)
class ProtocolRequest:
    """The parameters of one protocol request, whichever way they were sent."""

    params: tuple[tuple[str, str], ...]
    query: str | None = None
    update: str | None = None

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise ProtocolError(400, f"the {name!r} parameter is given {len(values)} times; give it once")
        return values[0] if values else None


async def read_protocol_request(request: Request, max_bytes: int) -> ProtocolRequest:
    """Parameters from the URL and (for POST) the body, per SPARQL 1.1 Protocol §2.1 and §2.2."""
    raw_query = request.scope.get("query_string", b"")
    if len(raw_query) > max_bytes:
        raise ProtocolError(413, f"query string longer than {max_bytes} bytes; send the query by POST")
    params = parse_params(raw_query, where="query string")
    if request.method in ("GET", "HEAD"):
        if any(k == "update" for k, _ in params):
            raise ProtocolError(
                400, "updates must be sent by POST (form 'update=' or application/sparql-update)"
            )
        return _with_operation(ProtocolRequest(tuple(params)))
    media = media_type_of(request)
    accepted = f"{FORM}, {QUERY_TYPE} or {UPDATE_TYPE}"
    if media is None:
        raise ProtocolError(415, f"a POST to this endpoint needs a Content-Type: {accepted}")
    if media not in (FORM, QUERY_TYPE, UPDATE_TYPE):
        raise ProtocolError(415, f"Content-Type {media!r} is not accepted here; use {accepted}")
    body = await read_body(request, max_bytes)
    if media == FORM:
        return _with_operation(ProtocolRequest(tuple(params + parse_params(body, where="form body"))))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"the {media} body is not valid UTF-8; send it encoded as UTF-8") from None
    for name in ("query", "update"):
        if any(k == name for k, _ in params):
            raise ProtocolError(400, f"a {media} POST carries the operation in its body, not in {name}=")
    if media == QUERY_TYPE:
        return ProtocolRequest(tuple(params), query=text)
    return ProtocolRequest(tuple(params), update=text)


def _with_operation(request: ProtocolRequest) -> ProtocolRequest:
    query, update = request.one("query"), request.one("update")
    if query is not None and update is not None:
        raise ProtocolError(400, "give either a query or an update, not both")
    return ProtocolRequest(request.params, query=query, update=update)


def checked_iris(values: Sequence[str], parameter: str) -> tuple[str, ...]:
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise ProtocolError(400, f"{parameter}={value!r} is not an absolute IRI") from None
    return tuple(values)


# ETags ------------------------------------------------------------------------------------------------
def etag_matches(header: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2), as If-None-Match requires."""
    if header is None:
        return False
    opaque = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


# the service ----------------------------------------------------------------------------------------
#: the part of a GET request a cached answer depends on: ETag, raw query string, Accept header
RawKey = tuple[str, bytes, bytes]


class TransferTimeoutError(Exception):
    """A client did not read an answer within the query timeout: its connection is dropped."""


async def send_body(send: Send, body: bytes | memoryview, timeout: float) -> None:
    """Send a response body, giving the client ``timeout`` s to read it.

    The server writes to the socket and waits while the client does not read; without a bound, a client
    reading a 50 MB answer slowly holds it in memory for as long as it likes. Past the bound the error
    makes the ASGI server close the connection (the status line is already sent: nothing else can say it).
    """
    try:
        with anyio.fail_after(timeout):
            await send({"type": "http.response.body", "body": body})
    except TimeoutError:
        raise TransferTimeoutError(f"the client did not read the answer within {timeout:g} s") from None


class TimedResponse(Response):
    """A :class:`Response` whose body must be read within ``transfer_timeout`` s (see :func:`send_body`)."""

    def __init__(self, *args: Any, transfer_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.transfer_timeout = transfer_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send_body(send, self.body, self.transfer_timeout)


def bilingual(english: str, french: str) -> str:
    """An error message for anyone: English, then French on the next line."""
    return f"{english}\n{french}"


@dataclass
class _Gates:
    """Semaphores of one event loop: all workers, the share ad-hoc (public) queries may hold, CPU turns."""

    loop: asyncio.AbstractEventLoop
    workers: asyncio.Semaphore
    public: asyncio.Semaphore
    #: one turn per CPU (see :meth:`SparqlService._worker_slot`)
    cpus: asyncio.Semaphore
    #: client -> (its share of the workers, jobs of it holding or waiting for that share)
    clients: dict[str, tuple[asyncio.Semaphore, int]] = field(default_factory=dict)

    @contextlib.contextmanager
    def client(self, name: str, size: int) -> Iterator[asyncio.Semaphore]:
        """The semaphore of ``name``'s share, kept only while one of its jobs uses it."""
        gate, users = self.clients.get(name) or (asyncio.Semaphore(size), 0)
        self.clients[name] = (gate, users + 1)
        try:
            yield gate
        finally:
            gate, users = self.clients[name]
            if users <= 1:
                del self.clients[name]
            else:
                self.clients[name] = (gate, users - 1)


@dataclass
class SparqlService:
    """State of the endpoint: settings, engine, cache, ETag. One per app, kept in ``app.state.sparql``."""

    settings: Settings
    engine: Engine
    release: str
    cache: ResponseCache = field(init=False)
    #: bumped by every successful update, so ETags and cache keys change with the data
    generation: int = 0
    #: jobs running or waiting for a worker
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stats: tuple[str, GraphStats] | None = None
    _gates: _Gates | None = None
    #: raw GET requests already answered -> their cache key (see :meth:`cached_get`)
    _raw_keys: OrderedDict[RawKey, Hashable] = field(default_factory=OrderedDict)

    def __post_init__(self) -> None:
        self.cache = ResponseCache(self.settings.cache_entries)

    @property
    def endpoint_iri(self) -> str:
        """The base of relative IRIs in queries and updates: the endpoint's own IRI (module doc)."""
        return self.settings.base_iri + "sparql"

    @property
    def etag(self) -> str:
        # a server following build/current answers with the release each request pinned
        following = self.engine.release_now() if isinstance(self.engine, ReleaseEngine) else None
        release = following or self.release
        # a store written in place changes under one release id: the generation tells its states apart
        in_place = self.engine.writable and not isinstance(self.engine, ReleaseEngine)
        tag = f"{release}-{self.generation}" if in_place else release
        return f'W/"{tag}"'

    def data_changed(self) -> None:
        with self._lock:
            self.generation += 1
            self._stats = None
        self.cache.clear()
        self._raw_keys.clear()

    # running jobs ---------------------------------------------------------------------------------
    def _busy(self) -> ProtocolError:
        return ProtocolError(
            503,
            f"the endpoint is busy ({self._in_flight} queries running or waiting); retry in a moment",
            {"Retry-After": "1"},
        )

    def _current_gates(self) -> _Gates:
        # asyncio semaphores belong to one loop; a test client may start another loop for the same app
        loop = asyncio.get_running_loop()
        gates = self._gates
        if gates is None or gates.loop is not loop:
            size = max(1, self.engine.size)
            cpus = self.settings.query_cpus or len(os.sched_getaffinity(0))
            gates = _Gates(
                loop, asyncio.Semaphore(size), asyncio.Semaphore(max(1, size - 1)), asyncio.Semaphore(cpus)
            )
            self._gates = gates
        return gates

    @contextlib.asynccontextmanager
    async def _worker_slot(self, public: bool, client: str | None = None) -> AsyncIterator[None]:
        """Wait (``query_timeout`` s and a margin) for a worker and a CPU turn (``public``: in their share).

        A public job of a known ``client`` first waits in that client's line: at most
        ``max_client_queries`` of its jobs hold workers at once, so the others' queries still find one.

        More worker processes than CPUs keep short queries moving while long ones run, but evaluating
        more queries than there are CPUs only makes each slower (on 2 CPUs, four processes scanning
        their in-memory copies at once do 290–550 aggregates/s, two do 615–624: bench/README.md). So a job
        also takes a CPU turn, and gives it up when it ends or after ``query_turn`` s, whichever comes
        first: short queries run at most one per CPU, a long one lets the next start beside it.
        """
        gates = self._current_gates()
        with contextlib.ExitStack() as stack:
            needed: tuple[asyncio.Semaphore, ...] = (
                (gates.public, gates.workers, gates.cpus) if public else (gates.workers, gates.cpus)
            )
            if public and client is not None:
                needed = (
                    stack.enter_context(gates.client(client, self.settings.max_client_queries)),
                    *needed,
                )
            async with self._take(gates, needed):
                yield

    @contextlib.asynccontextmanager
    async def _take(self, gates: _Gates, needed: tuple[asyncio.Semaphore, ...]) -> AsyncIterator[None]:
        """Hold the ``needed`` gates (the last one, the CPU, only for a turn) for the block."""
        held: list[asyncio.Semaphore] = []
        if not any(gate.locked() for gate in needed):
            # free slots (and nobody waiting for them): take them at once, without a cancel scope
            for gate in needed:
                await gate.acquire()  # returns without suspending: the gate is not locked
                held.append(gate)
        else:
            waited = False
            try:
                # a little longer than a query may run: a job queued behind one that is stopped at its
                # timeout gets the worker then (killing and replacing it takes a moment), instead of
                # giving up at the same instant
                timeout = 1.5 * self.settings.query_timeout
                with anyio.fail_after(timeout):
                    for gate in needed:
                        await gate.acquire()
                        held.append(gate)
                waited = True
            except TimeoutError:
                raise self._busy() from None
            finally:
                # timed out, or cancelled while waiting (the client went away): give back what was taken
                if not waited:
                    for gate in reversed(held):
                        gate.release()
        cpu: asyncio.Semaphore | None = held.pop()

        def end_turn() -> None:
            nonlocal cpu
            if cpu is not None:
                cpu.release()
                cpu = None

        turn = gates.loop.call_later(self.settings.query_turn, end_turn)
        try:
            yield
        finally:
            turn.cancel()
            end_turn()
            for gate in reversed(held):
                gate.release()

    async def run(self, job: Job, *, public: bool = False, client: str | None = None) -> Outcome:
        """Run a job within the limits, off the event loop, stopped after ``query_timeout`` s.

        One job per worker runs at once; up to ``max_queued_queries`` more wait for a worker (at most
        ``query_timeout`` s); beyond that the answer is 503 with Retry-After. Ad-hoc queries sent by
        anyone (``public``) may hold every worker but one, so the pages and named queries — queries
        this service wrote itself — are still answered while heavy ad-hoc queries run.
        """
        # bounded jobs (a subject lookup) are answered at once: no worker, no queue, no timeout needed
        outcome = self.engine.run_now(job)
        if outcome is not None:
            return outcome
        limit = self.settings.max_concurrent_queries + max(0, self.settings.max_queued_queries)
        with self._lock:
            if self._in_flight >= limit:
                raise self._busy()
            self._in_flight += 1
        try:
            async with self._worker_slot(public, client):
                return await self.engine.run(job, self.settings.query_timeout)
        except JobTimeoutError:
            raise ProtocolError(
                503,
                f"the query was stopped after {self.settings.query_timeout:g} s, the limit of this endpoint; "
                "make it more selective (LIMIT, more specific patterns) or run it on a dump",
            ) from None
        finally:
            with self._lock:
                self._in_flight -= 1

    async def run_query(
        self,
        query: str,
        *,
        solutions: Format | None,
        graph: Format | None,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        public: bool = False,
        client: str | None = None,
    ) -> tuple[CachedResponse, bool]:
        """Serialised answer of ``query`` and whether it came from the cache (ProtocolError on failure).

        ``public``: an ad-hoc query from a client, not one of the service's own (see :meth:`run`);
        ``client``: who sent it (its address), for the per-client share of the workers.
        """
        key = self.cache_key(query, solutions, graph, default_graphs, named_graphs)
        cached = self.cache.get(key)
        if cached is not None:
            return cached, True  # only answers that passed the checks below were ever cached
        bounded = is_subject_lookup(query)
        remote = False
        if bounded:
            # one triple pattern about one subject: no nesting, no SERVICE, no FROM to look for
            union = default_graphs is None and named_graphs is None
        else:
            try:
                check_nesting(query)  # before the engine: Oxigraph's parser overflows on deep nesting
                check_services(query, self.settings.service_allowlist)
            except QueryTextError as exc:
                raise ProtocolError(400, str(exc)) from None
            union = default_graphs is None and named_graphs is None and not has_from_clause(query)
            remote = bool(self.settings.service_allowlist) and bool(service_calls(query))
        job = QueryJob(
            query,
            solutions.name if solutions else None,
            graph.name if graph else None,
            default_graphs,
            named_graphs,
            union,
            base_iri=self.endpoint_iri,
            bounded=bounded,
            remote=remote,
            max_bytes=self.settings.max_result_bytes,
        )
        try:
            outcome = await self.run(job, public=public, client=client)
        except JobError as exc:
            raise _query_failure(exc) from None
        assert outcome.format is not None
        answer = CachedResponse(outcome.body, negotiation.find(outcome.format).content_type)
        self.cache.put(key, answer)
        return answer, False

    def cache_key(
        self,
        query: str,
        solutions: Format | None,
        graph: Format | None,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
    ) -> Hashable:
        return (
            self.etag,
            "query",
            query,
            default_graphs,
            named_graphs,
            solutions.name if solutions else None,
            graph.name if graph else None,
        )

    def cached_get(self, query_string: bytes, accept: bytes) -> CachedResponse | None:
        """The cached answer of a GET already answered with this query string and Accept, if any.

        This is the shortcut of :class:`bassin_kg.web.serving.fastpath.SparqlFastPath`: a repeated request is
        answered before routing, parsing or negotiating anything. Only successful answers are recorded
        (by :meth:`_query`), and the key holds the ETag, so a new release or an update never reaches them.
        """
        key = self._raw_keys.get((self.etag, query_string, accept))
        return None if key is None else self.cache.get(key)

    def _remember_get(self, request: Request, key: Hashable) -> None:
        self.remember_get(request.scope.get("query_string", b""), _first_header(request, b"accept"), key)

    def remember_get(self, query_string: bytes, accept: bytes, key: Hashable) -> None:
        """Record that this raw GET (query string, first Accept header) was answered from ``key``."""
        raw = (self.etag, query_string, accept)
        self._raw_keys[raw] = key
        self._raw_keys.move_to_end(raw)
        while len(self._raw_keys) > 2 * max(1, self.settings.cache_entries):
            self._raw_keys.popitem(last=False)

    async def solutions(self, query: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        """Rows of a SELECT as dicts of pyoxigraph terms (for pages built on the same engine)."""
        answer, _ = await self.run_query(query, solutions=negotiation.find("json"), graph=None)
        results = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
        assert isinstance(results, ox.QuerySolutions)
        names = [v.value for v in results.variables]
        rows: list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]] = []
        for solution in results:
            row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] = {}
            for name in names:
                term = solution[name]
                if isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
                    row[name] = term
            rows.append(row)
        return rows

    async def triples(self, query: str) -> list[ox.Triple]:
        """Triples of a CONSTRUCT or DESCRIBE (for pages built on the same engine)."""
        answer, _ = await self.run_query(query, solutions=None, graph=negotiation.find("nt"))
        return [q.triple for q in ox.parse(answer.body, format=ox.RdfFormat.N_TRIPLES)]

    async def stats(self) -> GraphStats:
        """Triple counts per graph, computed once per state of the data."""
        current = self._stats
        if current is not None and current[0] == self.etag:
            return current[1]
        etag = self.etag
        try:
            outcome = await self.run(StatsJob())
        except JobError as exc:
            raise ProtocolError(500, f"could not count the triples of the store: {exc.message}") from None
        assert outcome.stats is not None
        self._stats = (etag, outcome.stats)
        return outcome.stats

    # authorisation ----------------------------------------------------------------------------------
    def require_update_rights(self, request: Request) -> None:
        """403 when updates are off; 401 unless the bearer token matches (constant-time comparison)."""
        if not self.settings.enable_update or not self.engine.writable:
            raise ProtocolError(
                403,
                "this is a read-only endpoint: updates are disabled. For local editing start it with "
                "`bassin-kg serve --enable-update` and BASSIN_KG_UPDATE_TOKEN set",
            )
        token = self.settings.update_token or ""
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        challenge = 'Bearer realm="bassin-kg"'
        if scheme.lower() != "bearer" or not given.strip():
            raise ProtocolError(
                401, "updates need 'Authorization: Bearer <token>'", {"WWW-Authenticate": challenge}
            )
        if not token or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ProtocolError(
                401,
                "the bearer token is not valid",
                {"WWW-Authenticate": challenge + ', error="invalid_token"'},
            )

    # the /sparql endpoint -------------------------------------------------------------------------
    async def handle(self, request: Request) -> Response:
        """Answer one request to ``/sparql``."""
        try:
            protocol = await read_protocol_request(request, self.settings.max_request_bytes)
            if protocol.update is not None:
                return await self._update(request, protocol)
            if protocol.query is None:
                if request.method in ("GET", "HEAD"):
                    return await self._service_description(request, protocol)
                raise ProtocolError(400, "missing 'query' (or 'update') parameter")
            return await self._query(request, protocol, protocol.query)
        except ProtocolError as exc:
            return exc.response()

    def _base_headers(self, cache: str | None = None) -> dict[str, str]:
        headers = {"ETag": self.etag, "Vary": "Accept"}
        if cache is not None:
            headers["X-Cache"] = cache
        return headers

    def _not_modified(self, request: Request) -> Response | None:
        if request.method in ("GET", "HEAD") and etag_matches(
            request.headers.get("if-none-match"), self.etag
        ):
            return Response(status_code=304, headers=self._base_headers())
        return None

    async def _query(self, request: Request, protocol: ProtocolRequest, query: str) -> Response:
        format_param = protocol.one("format")
        accept = request.headers.get("accept")
        try:
            if format_param:
                negotiation.check_format_param(format_param, (SOLUTION_FORMATS, GRAPH_FORMATS))
            solutions = negotiation.choose(accept, format_param, SOLUTION_FORMATS)
            graph = negotiation.choose(accept, format_param, GRAPH_FORMATS)
        except NegotiationError as exc:
            raise ProtocolError(400, str(exc)) from None
        if solutions is None and graph is None:
            raise _not_acceptable(SOLUTION_FORMATS + GRAPH_FORMATS)
        default_graphs = named_graphs = None
        given_default, given_named = protocol.all("default-graph-uri"), protocol.all("named-graph-uri")
        if given_default or given_named:
            default_graphs = checked_iris(given_default, "default-graph-uri")
            named_graphs = checked_iris(given_named, "named-graph-uri")
        not_modified = self._not_modified(request)
        if not_modified is not None:
            return not_modified
        answer, hit = await self.run_query(
            query,
            solutions=solutions,
            graph=graph,
            default_graphs=default_graphs,
            named_graphs=named_graphs,
            public=True,
            client=client_of(request.scope),
        )
        if request.method == "GET":
            self._remember_get(request, self.cache_key(query, solutions, graph, default_graphs, named_graphs))
        return TimedResponse(
            answer.body,
            media_type=answer.content_type,
            headers=self._base_headers("hit" if hit else "miss"),
            transfer_timeout=self.settings.query_timeout,
        )

    async def _update(self, request: Request, protocol: ProtocolRequest) -> Response:
        assert protocol.update is not None
        self.require_update_rights(request)
        try:
            check_nesting(protocol.update)
            check_services(protocol.update, self.settings.service_allowlist)
            using = checked_iris(protocol.all("using-graph-uri"), "using-graph-uri")
            using_named = checked_iris(protocol.all("using-named-graph-uri"), "using-named-graph-uri")
            text = add_using(protocol.update, using, using_named)
        except QueryTextError as exc:
            raise ProtocolError(400, str(exc)) from None
        remote = bool(self.settings.service_allowlist) and bool(service_calls(text) or load_calls(text))
        try:
            await self.run(UpdateJob(text, base_iri=self.endpoint_iri, remote=remote))
        except JobError as exc:
            if exc.kind == "syntax":
                raise ProtocolError(400, f"malformed update: {exc.message}") from None
            raise _query_failure(exc, "update") from None
        self.data_changed()
        return Response(status_code=204, headers={"ETag": self.etag})

    async def _service_description(self, request: Request, protocol: ProtocolRequest) -> Response:
        try:
            fmt = negotiation.choose(request.headers.get("accept"), protocol.one("format"), GRAPH_FORMATS)
        except NegotiationError as exc:
            raise ProtocolError(400, str(exc)) from None
        if fmt is None:
            raise _not_acceptable(GRAPH_FORMATS)
        not_modified = self._not_modified(request)
        if not_modified is not None:
            return not_modified
        endpoint = str(request.url.replace(query=""))
        key = (self.etag, "service-description", endpoint, fmt.name)
        cached = self.cache.get(key)
        if cached is None:
            body = service_description.serialise(
                service_description.describe(endpoint, self.settings, await self.stats()), fmt.name
            )
            cached = CachedResponse(body, fmt.content_type)
            self.cache.put(key, cached)
        return Response(cached.body, media_type=cached.content_type, headers=self._base_headers())


def _first_header(request: Request, name: bytes) -> bytes:
    # the raw bytes of the first header of that name, as the shortcut reads them from the ASGI scope
    for key, value in request.scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return b""


def _not_acceptable(offers: Sequence[Format]) -> ProtocolError:
    return ProtocolError(
        406,
        "none of the formats in Accept (or format=) is available; available: "
        + negotiation.available(offers),
    )


def client_of(scope: Mapping[str, object]) -> str | None:
    """The address of the client of an ASGI request (behind a trusted proxy, as uvicorn rewrote it)."""
    client = scope.get("client")
    if isinstance(client, tuple | list) and client:
        return str(client[0])
    return None


def _query_failure(exc: JobError, what: str = "query") -> ProtocolError:
    if exc.kind == "syntax":
        return ProtocolError(400, f"malformed {what}: {exc.message}")
    if exc.kind == "not_acceptable":
        offers = GRAPH_FORMATS if exc.message == "graph" else SOLUTION_FORMATS
        form = "CONSTRUCT/DESCRIBE" if exc.message == "graph" else "SELECT/ASK"
        return ProtocolError(
            406, f"no acceptable format for a {form} result; available: {negotiation.available(offers)}"
        )
    la = "la requête" if what == "query" else "la mise à jour"
    if exc.kind == "busy":
        return ProtocolError(
            503,
            bilingual(exc.message, "une construction des données est en cours ; réessayez dans un moment"),
            {"Retry-After": "5"},
        )
    if exc.kind == "remote":
        return ProtocolError(
            502,
            bilingual(
                f"a remote SERVICE or LOAD target failed ({exc.message}); check that it answers, "
                "or retry later",
                f"un service distant (SERVICE ou LOAD) a échoué ({exc.message}) ; vérifiez qu'il répond, "
                "ou réessayez plus tard",
            ),
        )
    if exc.kind == "too_large":
        return ProtocolError(
            400,
            bilingual(
                f"the answer is larger than {exc.message} bytes, the limit of this endpoint; add a LIMIT, "
                "select fewer variables, or download the dumps (/dist)",
                f"la réponse dépasse {exc.message} octets, la limite de ce service ; ajoutez une LIMIT, "
                "sélectionnez moins de variables, ou téléchargez les fichiers complets (/dist)",
            ),
        )
    if exc.kind == "bad_data":
        return ProtocolError(
            400,
            bilingual(
                f"the {what} could not be evaluated: {exc.message}",
                f"{la} n'a pas pu être évaluée : {exc.message}",
            ),
        )
    return ProtocolError(
        500,
        bilingual(
            f"the {what} failed while running: {exc.message}",
            f"{la} a échoué pendant son exécution : {exc.message}",
        ),
    )
