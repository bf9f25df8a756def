"""A raw ASGI fast path for the common ``/sparql`` queries, in front of FastAPI.

Through the route, an uncached query pays for routing, a Starlette ``Request``, FastAPI's endpoint
machinery and a ``Response`` object: about 200 µs of CPU before and after the query itself. Most queries
are the plain kind — ``GET /sparql?query=…``, a form POST with only ``query=``, or an
``application/sparql-query`` POST — with an ``Accept`` header. :class:`SparqlFastPath` answers those
here, with the same code that decides everything else (:meth:`SparqlService.run_query`: cache, SERVICE and
nesting checks, bounded queue, reserved lane, timeout) and the same headers as the route. Anything else
— HEAD, a conditional request, ``format=``, a dataset, an update, an unreadable Accept header, a body
over the limit, a non-UTF-8 request — goes on to the app unchanged (a read body is replayed), so every
unusual answer is still written in one place: :meth:`SparqlService.handle`.

It also answers repeated GETs straight from the cache (:meth:`SparqlService.cached_get`) before
parsing anything (what the former ``CachedQueryShortcut`` of app.py did).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Hashable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bassin_kg.web import negotiation
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS, Format, NegotiationError
from bassin_kg.web.security import ALWAYS_RAW
from bassin_kg.web.serving.releases import ReleaseEngine, pin_request, unpin
from bassin_kg.web.sparql import FORM, QUERY_TYPE, ProtocolError, SparqlService, client_of, send_body

#: Accept header -> (solutions format, graph format); clients send few distinct headers
_Choice = tuple[Format | None, Format | None]
_MAX_MEMO = 256


class _FallbackError(Exception):
    """This request is not a plain one: the app answers it."""


def content_type(media_type: str) -> bytes:
    """What ``starlette.responses.Response`` sends for this media type: text types get a charset."""
    if media_type.startswith("text/") and "charset=" not in media_type.lower():
        media_type += "; charset=utf-8"
    return media_type.encode("latin-1")


class SparqlFastPath:
    """ASGI middleware: cached GETs and plain uncached queries on ``/sparql``, without FastAPI.

    ``releases``: pin the request's release here (in front of the stack, where :class:`PinRelease`
    does not run). Its answers carry the security headers themselves (web/security.py adds them to
    everything else).
    """

    def __init__(self, app: ASGIApp, service: SparqlService, releases: ReleaseEngine | None = None) -> None:
        self.app = app
        self.service = service
        self.releases = releases
        self._choices: dict[bytes, _Choice] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql":
            await self.app(scope, receive, send)
            return
        token = pin_request(self.releases) if self.releases is not None else None
        try:
            method = scope["method"]
            if method == "GET":
                await self._get(scope, receive, send)
            elif method == "POST":
                await self._post(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            if token is not None:
                unpin(token)

    # GET -------------------------------------------------------------------------------------------
    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = b""
        for name, value in scope["headers"]:
            if name == b"accept":
                if not accept:
                    accept = value
            elif name == b"if-none-match":
                # 304 handling stays in one place: the route
                await self.app(scope, receive, send)
                return
        query_string: bytes = scope.get("query_string", b"")
        if not query_string:
            await self.app(scope, receive, send)  # the service description
            return
        cached = self.service.cached_get(query_string, accept)
        if cached is not None:
            await self._send(send, cached.body, content_type(cached.content_type), b"hit")
            return
        if len(query_string) > self.service.settings.max_request_bytes:
            await self.app(scope, receive, send)
            return
        try:
            query = _only_query(query_string)
            choice = self._choose(accept)
        except _FallbackError:
            await self.app(scope, receive, send)
            return
        await self._answer(send, query, choice, (query_string, accept), client_of(scope))

    # POST ------------------------------------------------------------------------------------------
    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        media = b""
        seen_type = False
        accept = b""
        declared = -1
        for name, value in scope["headers"]:
            if name == b"content-type":
                if not seen_type:  # the first one, as the route reads it
                    media, seen_type = value.split(b";")[0].strip().lower(), True
            elif name == b"accept" and not accept:
                accept = value
            elif name == b"content-length" and value.isdigit() and declared < 0:
                declared = int(value)
        limit = self.service.settings.max_request_bytes
        if media not in (FORM.encode(), QUERY_TYPE.encode()) or scope.get("query_string") or declared > limit:
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break  # a disconnect: let the app see it
            size += len(message.get("body", b""))
            if size > limit or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        try:
            if messages[-1]["type"] != "http.request" or size > limit:
                raise _FallbackError
            query = _only_query(body) if media == FORM.encode() else _utf8(body)
            choice = self._choose(accept)
        except _FallbackError:
            await self.app(scope, _replay(messages, receive), send)
            return
        await self._answer(send, query, choice, None, client_of(scope))

    # shared ----------------------------------------------------------------------------------------
    def _choose(self, accept: bytes) -> _Choice:
        choice = self._choices.get(accept)
        if choice is None:
            try:
                header = accept.decode("latin-1") if accept else None
                choice = (
                    negotiation.choose(header, None, SOLUTION_FORMATS),
                    negotiation.choose(header, None, GRAPH_FORMATS),
                )
            except NegotiationError:
                raise _FallbackError from None
            if choice == (None, None):
                raise _FallbackError  # the route writes the 406
            if len(self._choices) >= _MAX_MEMO:
                self._choices.clear()
            self._choices[accept] = choice
        return choice

    async def _answer(
        self,
        send: Send,
        query: str,
        choice: _Choice,
        raw: tuple[bytes, bytes] | None,
        client: str | None,
    ) -> None:
        service = self.service
        solutions, graph = choice
        try:
            answer, hit = await service.run_query(
                query, solutions=solutions, graph=graph, public=True, client=client
            )
        except ProtocolError as exc:
            await self._send_error(send, exc)
            return
        if raw is not None:
            key: Hashable = service.cache_key(query, solutions, graph)
            service.remember_get(raw[0], raw[1], key)
        cache = b"hit" if hit else b"miss"
        await self._send(send, answer.body, content_type(answer.content_type), cache)

    async def _send(self, send: Send, body: bytes, media: bytes, cache: bytes) -> None:
        headers = [
            (b"etag", self.service.etag.encode()),
            (b"vary", b"Accept"),
            (b"x-cache", cache),
            (b"content-length", str(len(body)).encode()),
            (b"content-type", media),
            *ALWAYS_RAW,
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send_body(send, body, self.service.settings.query_timeout)

    @staticmethod
    async def _send_error(send: Send, exc: ProtocolError) -> None:
        # as ProtocolError.response() (a PlainTextResponse) writes it
        body = (exc.message + "\n").encode()
        headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in exc.headers.items()]
        headers += [
            (b"content-length", str(len(body)).encode()),
            (b"content-type", b"text/plain; charset=utf-8"),
            *ALWAYS_RAW,
        ]
        await send({"type": "http.response.start", "status": exc.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _FallbackError from None


#: ``query=`` and a value of unreserved characters, ``+`` and ``%`` only (escapes checked below)
_PLAIN_QUERY_PARAMETER = re.compile(rb"query=[A-Za-z0-9\-._~!*'()+%]*+")
_MALFORMED_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def _only_query(raw: bytes) -> str:
    """The value of ``query=`` when it is the only parameter, given once; else :class:`_FallbackError`."""
    if _PLAIN_QUERY_PARAMETER.fullmatch(raw) and not _MALFORMED_ESCAPE.search(raw):
        # the same bytes as parse_qsl, 10× faster: binascii decodes =XX escapes in C, and no "=" is
        # left in the value that it could misread (the pattern admits none)
        try:
            return binascii.a2b_qp(raw[6:].replace(b"%", b"=").replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            raise _FallbackError from None
    try:
        params = parse_qsl(_utf8(raw), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise _FallbackError from None
    if len(params) != 1 or params[0][0] != "query":
        raise _FallbackError
    return params[0][1]


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands out ``messages`` again, then reads on."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
