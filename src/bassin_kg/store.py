"""Opening the on-disk Oxigraph store, with errors that say what went wrong and what to do.

Also the conversion of its terms to rdflib's and back.
"""

from __future__ import annotations

import http.client
import socket
import time
import urllib.request
from collections.abc import Callable, Sequence
from email.message import Message
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from bassin_kg.errors import BassinKgError, StoreError, UsageError
from bassin_kg.settings import Settings

_XSD_STRING = XSD.string.toPython()

_MISSING = "run `bassin-kg build` first, or pass --store PATH to an Oxigraph store"


def open_read_only(path: Path) -> ox.Store:
    """Open the store at ``path`` for reading (several processes may read one store at once)."""
    _check_exists(path)
    return _open(path, read_only=True)


def open_store(path: Path, *, create: bool = False) -> ox.Store:
    """Open the store at ``path`` for writing; ``create`` makes a new one where nothing exists yet.

    Only one process may write a store: a second writer gets a "locked" error.
    """
    if create:
        if path.exists() and (not path.is_dir() or any(path.iterdir())):
            raise StoreError(f"cannot create a store at {path}: something is already there; remove it first")
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        _check_exists(path)
    return _open(path, read_only=False)


def published_release(settings: Settings, *, then: str) -> Path:
    """The folder ``current`` points at; a UsageError saying to build first when there is none."""
    current = settings.current_release
    if not current.is_symlink() or not (current / "store").is_dir():
        raise UsageError(f"no published build at {current}: run `bassin-kg build` first, then {then}")
    return current.resolve()


def _check_exists(path: Path) -> None:
    if not path.is_dir():
        raise StoreError(f"no store at {path}; {_MISSING}")
    if not (path / "CURRENT").is_file():
        raise StoreError(f"{path} is not an Oxigraph store (no CURRENT file); {_MISSING}")


def _open(path: Path, *, read_only: bool) -> ox.Store:
    try:
        return ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
    except (OSError, RuntimeError) as exc:  # RocksDB reports damaged files as a RuntimeError
        # RocksDB reports a held lock as an IO error mentioning the LOCK file.
        if isinstance(exc, OSError) and "lock" in str(exc).lower():
            raise StoreError(
                f"the store at {path} is locked by another process (a build, a server or an ingest): "
                "stop it or wait for it to finish"
            ) from None
        raise StoreError(
            f"cannot open the store at {path} ({exc}); it is corrupt, incomplete or locked by another "
            "process — rebuild it with `bassin-kg build` or point --store at a good one"
        ) from None


def count_triples(store: ox.Store, graphs: Sequence[str] | None = None) -> int:
    """Distinct triples in the named graphs ``graphs`` (IRIs), or in the union of all of them (None)."""
    values = "" if graphs is None else "VALUES ?g { " + " ".join(f"<{g}>" for g in graphs) + " } "
    inner = f"SELECT DISTINCT ?s ?p ?o WHERE {{ {values}GRAPH ?g {{ ?s ?p ?o }} }}"
    solutions = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {inner} }}")
    assert isinstance(solutions, ox.QuerySolutions)
    for solution in solutions:
        term = solution["n"]
        if isinstance(term, ox.Literal):
            return int(term.value)
    return 0


# --- HTTP -------------------------------------------------------------------------------------------------
def retry_server_errors(status: int | None) -> bool:
    """The default retry rule: no answer, a 5xx or a 429."""
    return status is None or status >= 500 or status == 429


class HttpError(BassinKgError):
    """A request that failed for good (after its retries).

    ``status`` is the HTTP status of the last answer, None when the server did not answer (refused,
    closed or timed out; ``timed_out`` says which); ``reached`` is False when every attempt was refused
    (the server never saw it).
    """

    def __init__(
        self, message: str, *, status: int | None = None, reached: bool = True, timed_out: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reached = reached
        self.timed_out = timed_out
        #: the reason phrase of the answer, or what happened instead of one
        self.reason = ""

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def retryable(self) -> bool:
        return retry_server_errors(self.status)


class _AnyUri(urllib.request.HTTPPasswordMgr):
    """The one user and password of a client, for every URL it sends to (store, query, update…)."""

    def __init__(self, user: str, password: str) -> None:
        super().__init__()
        self.credentials = (user, password)

    def find_user_password(self, realm: str | None, authuri: str) -> tuple[str, str]:
        return self.credentials


class HttpClient:
    """HTTP with a timeout, bounded retries with exponential backoff, and optional authentication.

    The one HTTP client of the project (standard library only): the Graph Store push and the INSEE
    lookup both send through it. Requests go through :mod:`http.client`, not urllib, because a server
    may answer (401, 413…) and close the connection while a large body is still being sent (Virtuoso
    does): the answer is read after a failed send, so the client hears the refusal, not a broken pipe.
    With ``digest`` (user, password) every request answers the server's Digest challenge; the last
    challenge's nonce is reused (the nonce count goes up), so a large body is not sent twice.
    """

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None] = time.sleep,
        headers: dict[str, str] | None = None,
        digest: tuple[str, str] | None = None,
        retry_on: Callable[[int | None], bool] = retry_server_errors,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.headers = dict(headers or {})
        self.digest = urllib.request.HTTPDigestAuthHandler(_AnyUri(*digest)) if digest else None
        #: the server's last Digest challenge (realm, nonce…), reused for the next requests
        self.challenge: dict[str, str] | None = None
        self.retry_on = retry_on
        #: requests sent so far, retries included
        self.requests = 0

    def pause(self, attempt: int) -> None:
        """Exponential backoff before retry number ``attempt`` (1, 2, …)."""
        self.sleep(self.backoff * 2 ** (attempt - 1))

    def send(
        self,
        method: str,
        url: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        attempts: int | None = None,
    ) -> tuple[int, bytes]:
        """The status and body of the first answer that is not worth retrying; raises HttpError.

        ``attempts`` defaults to one try plus ``retries``; give 1 for a request that must not be resent
        blindly.
        """
        attempts = self.retries + 1 if attempts is None else attempts
        error = HttpError(f"{method} {url}: not sent")
        reached = False  # did any attempt get through? then the server may have acted on it
        for attempt in range(attempts):
            if attempt:
                self.pause(attempt)
            self.requests += 1
            try:
                status, reason, answer = self._authenticated(method, url, body, {**self.headers, **headers})
            except (OSError, HTTPException) as exc:
                error = self._no_answer(method, url, exc)
            else:
                if status < 400:
                    return status, answer
                text = answer[:300].decode("utf-8", "replace").strip()
                last = f"HTTP {status} {reason}" + (f": {text}" if text else "")
                error = HttpError(f"{method} {url}: {last}", status=status)
                error.reason = f"{reason}" + (f": {text}" if text else "")
                if not self.retry_on(status):
                    raise error from None
            reached = reached or error.reached
        suffix = f" (after {attempts} attempt(s))" if attempts > 1 else ""
        final = HttpError(f"{error}{suffix}", status=error.status, reached=reached, timed_out=error.timed_out)
        final.reason = error.reason
        raise final

    def _authenticated(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        """One exchange; with Digest, signed with the last challenge's nonce, and once more on a new one."""
        signed = self._signed(method, url, body, headers)
        status, reason, answer_headers, answer = self._exchange(method, url, body, signed)
        challenge = answer_headers.get("WWW-Authenticate", "")
        if status == 401 and self.digest is not None and challenge.lower().startswith("digest "):
            self.challenge = urllib.request.parse_keqv_list(
                [part for part in urllib.request.parse_http_list(challenge.split(" ", 1)[1]) if part]
            )
            resigned = self._signed(method, url, body, headers)
            if resigned is not headers:
                status, reason, answer_headers, answer = self._exchange(method, url, body, resigned)
        return status, reason, answer

    def _signed(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> dict[str, str]:
        """``headers`` with a Digest ``Authorization`` for the known challenge (the same dict without)."""
        if self.digest is None or self.challenge is None:
            return headers
        request = urllib.request.Request(url, data=body, method=method)
        authorization = self.digest.get_authorization(request, self.challenge)
        if not authorization:
            return headers
        # get_authorization gives the parameters only; urllib's own retry adds the scheme
        return {**headers, "Authorization": f"Digest {authorization}"}

    def _exchange(
        self, method: str, url: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, Message, bytes]:
        """Send one request and read its answer, even when the server closed while the body was sent."""
        parts = urlsplit(url)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "", parts.port, timeout=self.timeout)
        try:
            connection.putrequest(method, urlunsplit(("", "", parts.path or "/", parts.query, "")))
            for name, value in headers.items():
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders()
            send_error: OSError | None = None
            if body:
                try:
                    connection.send(body)
                except (BrokenPipeError, ConnectionResetError) as exc:
                    # a server refusing the request may answer and close before reading it all
                    send_error = exc
            try:
                response = connection.getresponse()
            except (OSError, HTTPException):
                if send_error is not None:
                    raise send_error from None
                raise
            return response.status, response.reason, response.headers, response.read()
        finally:
            connection.close()

    def _no_answer(self, method: str, url: str, exc: OSError | HTTPException) -> HttpError:
        if isinstance(exc, ConnectionRefusedError):
            error = HttpError(f"{method} {url}: no answer (connection refused)", reached=False)
            error.reason = f"connection refused ({exc})"
        elif isinstance(exc, socket.gaierror):  # the name does not resolve: nothing was sent
            error = HttpError(f"{method} {url}: no answer (unknown host: {exc})", reached=False)
            error.reason = f"unknown host ({exc})"
        elif isinstance(exc, TimeoutError):
            error = HttpError(
                f"{method} {url}: no answer within the {self.timeout:g} s timeout", timed_out=True
            )
            error.reason = f"no answer within {self.timeout:g} s"
        elif isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
            error = HttpError(f"{method} {url}: no answer (the server closed the connection: {exc})")
            error.reason = f"the server closed the connection ({exc})"
        else:
            error = HttpError(f"{method} {url}: no answer ({exc})")
            error.reason = f"{exc}"
        return error


def to_rdflib(term: object) -> Node:
    """An Oxigraph term as rdflib's parsers give it (xsd:string literals are plain literals there)."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return (
            Literal(term.value) if datatype == _XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
        )
    raise StoreError(f"unsupported RDF term in the store: {term!r} (RDF-star triples are not used here)")


def to_oxigraph(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """An rdflib term as an Oxigraph term."""
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise StoreError(f"unsupported RDF term: {node!r}")
