"""Opening the on-disk Oxigraph store, with errors that say what went wrong and what to do.

Also the conversion of its terms to rdflib's and back.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path

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


class HttpClient:
    """HTTP with a timeout, bounded retries with exponential backoff, and optional authentication.

    The one HTTP client of the project (standard library only): the Graph Store push and the INSEE
    lookup both send through it.
    """

    def __init__(
        self,
        *,
        timeout: float,
        retries: int,
        backoff: float,
        sleep: Callable[[float], None] = time.sleep,
        headers: dict[str, str] | None = None,
        handlers: Sequence[urllib.request.BaseHandler] = (),
        retry_on: Callable[[int | None], bool] = retry_server_errors,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self.headers = dict(headers or {})
        self.opener = urllib.request.build_opener(*handlers)
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
            request = urllib.request.Request(
                url, data=body, method=method, headers={**self.headers, **headers}
            )
            self.requests += 1
            try:
                with self.opener.open(request, timeout=self.timeout) as response:
                    return int(response.status), bytes(response.read())
            except urllib.error.HTTPError as exc:
                text = exc.read()[:300].decode("utf-8", "replace").strip()
                last = f"HTTP {exc.code} {exc.reason}" + (f": {text}" if text else "")
                error = HttpError(f"{method} {url}: {last}", status=exc.code)
                error.reason = f"{exc.reason}" + (f": {text}" if text else "")
                if not self.retry_on(exc.code):
                    raise error from None
            except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as exc:
                error = self._no_answer(method, url, exc)
            reached = reached or error.reached
        suffix = f" (after {attempts} attempt(s))" if attempts > 1 else ""
        final = HttpError(f"{error}{suffix}", status=error.status, reached=reached, timed_out=error.timed_out)
        final.reason = error.reason
        raise final

    def _no_answer(self, method: str, url: str, exc: OSError | HTTPException) -> HttpError:
        reason = getattr(exc, "reason", exc) if isinstance(exc, urllib.error.URLError) else exc
        if isinstance(reason, ConnectionRefusedError):
            error = HttpError(f"{method} {url}: no answer (connection refused)", reached=False)
            error.reason = f"connection refused ({reason})"
        elif isinstance(reason, TimeoutError):
            error = HttpError(
                f"{method} {url}: no answer within the {self.timeout:g} s timeout", timed_out=True
            )
            error.reason = f"no answer within {self.timeout:g} s"
        elif isinstance(reason, ConnectionError):  # RemoteDisconnected among them
            error = HttpError(f"{method} {url}: no answer (the server closed the connection: {reason})")
            error.reason = f"the server closed the connection ({reason})"
        else:
            error = HttpError(f"{method} {url}: no answer ({reason})")
            error.reason = f"{reason}"
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
