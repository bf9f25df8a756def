"""Optional engine: SPARQL queries answered by an ``oxigraph serve-read-only`` beside the server.

Oxigraph's own server evaluates queries faster than pyoxigraph called from Python, and answers them with
no pickling or process handoff. With ``query_engine = "sidecar"`` (``serve --engine sidecar``) each
release gets one such server (the *sidecar*) over its store, bound to a free port on 127.0.0.1, and plain
queries — the union default graph, no protocol dataset, a result format for either form — are forwarded
to it over kept-alive HTTP/1.1 connections; its bytes are returned as they are. Turtle and RDF/XML
answers are asked as N-Triples and rewritten here with the project's prefixes, as the workers write them.
Everything else (other jobs, a protocol dataset, a query with FROM) runs in the release's worker
processes, as with the default engine.

Timeouts really stop the work: the sidecar runs with ``--timeout-s`` (whole seconds: the query timeout
rounded up), past which Oxigraph cancels the evaluation; the client gets its 503 at the query timeout.
A sidecar that died is started again by the next query.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import math
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from bassin_kg.errors import StoreError
from bassin_kg.web.engine import (
    _PREFIXED,
    _RDF_FORMATS,
    Job,
    JobError,
    JobTimeoutError,
    Outcome,
    ProcessEngine,
    QueryJob,
)
from bassin_kg.web.negotiation import find
from bassin_kg.web.releases import ReleaseEngine, _Pool

_LOG = logging.getLogger(__name__)

#: answers larger than this (bytes) are rewritten with prefixes in a thread
_LARGE = 1 << 18


#: sidecars running now: killed when this process exits, whatever path it takes (they would outlive it)
_RUNNING: set[subprocess.Popen[bytes]] = set()
_RUNNING_LOCK = threading.Lock()


@atexit.register
def _kill_running() -> None:
    with _RUNNING_LOCK:
        processes = list(_RUNNING)
    for process in processes:
        if process.poll() is None:
            process.kill()


def oxigraph_binary() -> str:
    """The ``oxigraph`` command of the ``oxigraph`` package (beside this interpreter, else on PATH)."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise StoreError(
            "the sidecar engine needs the `oxigraph` command (pip package `oxigraph`); install it or "
            "serve with the default engine (--engine workers)"
        )
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class _Sidecar:
    """One ``oxigraph serve-read-only`` process and the port it listens on."""

    process: subprocess.Popen[bytes]
    port: int
    drain: threading.Thread

    @classmethod
    def start(cls, store: Path, timeout_s: float, start_timeout: float) -> _Sidecar:
        port = _free_port()
        command = [
            oxigraph_binary(),
            "serve-read-only",
            "--location",
            str(store),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
            "--timeout-s",
            str(max(1, math.ceil(timeout_s))),
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        with _RUNNING_LOCK:
            _RUNNING.add(process)
        # its log is drained all along (a full pipe would block it), the last lines kept for errors
        log: deque[bytes] = deque(maxlen=20)
        assert process.stderr is not None
        drain = threading.Thread(target=log.extend, args=(process.stderr,), daemon=True)
        drain.start()
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                with _RUNNING_LOCK:
                    _RUNNING.discard(process)
                drain.join(1.0)  # let the drain read its last words
                process.stderr.close()
                error = b"".join(log).decode(errors="replace").strip()
                raise StoreError(f"the oxigraph sidecar over {store} stopped at start: {error}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return cls(process, port, drain)
            time.sleep(0.02)
        process.kill()
        process.wait()
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
        drain.join(1.0)
        process.stderr.close()
        raise StoreError(f"the oxigraph sidecar over {store} did not listen on port {port} in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        with _RUNNING_LOCK:
            _RUNNING.discard(self.process)
        self.drain.join(1.0)  # it reads to the end of the pipe, which the exit closed
        if self.process.stderr is not None:
            self.process.stderr.close()


class _StaleError(Exception):
    """The connection was closed before any byte of the answer (a read-only query may be sent again)."""


class _Connection:
    """A kept-alive HTTP/1.1 connection to the sidecar."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def request(self, head: bytes, body: bytes) -> tuple[int, str, bytes, bool]:
        """Send one request; (status, content type, body, whether the connection may be reused)."""
        try:
            self.writer.write(head + body)
            status_line = await self.reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial:
                raise
            raise _StaleError() from None
        except ConnectionError:
            raise _StaleError() from None
        status = int(status_line.split(b" ", 2)[1])
        length = -1
        chunked = False
        keep = True
        media = ""
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"content-type":
                media = value.decode("latin-1").split(";")[0].strip().lower()
            elif name == b"connection":
                keep = b"close" not in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")  # no trailers are expected
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            payload = b"".join(parts)
        elif length >= 0:
            payload = await self.reader.readexactly(length)
        else:
            payload = await self.reader.read()
            keep = False
        return status, media, payload, keep

    def close(self) -> None:
        self.writer.close()


@dataclass
class SidecarEngine(ProcessEngine):
    """A release's worker pool plus its oxigraph sidecar: plain queries go to the sidecar."""

    #: seconds a query may run (the sidecar's ``--timeout-s``)
    query_timeout: float = 10.0
    _sidecar: _Sidecar | None = None
    _sidecar_lock: threading.Lock = field(default_factory=threading.Lock)
    #: the event loop whose connections are kept alive (the server's: the first one to send a query);
    #: a query from any other loop (a short-lived one) uses a connection of its own, closed after it
    _home: asyncio.AbstractEventLoop | None = None
    #: the server's loop, when known beforehand (a release's first query may come from another one)
    home_hint: Callable[[], asyncio.AbstractEventLoop | None] | None = None
    _idle_connections: list[_Connection] = field(default_factory=list)

    def _ensure_sidecar(self) -> _Sidecar:
        with self._sidecar_lock:
            if self._closed:
                raise StoreError("the server is shutting down")
            if self._sidecar is None or self._sidecar.process.poll() is not None:
                if self._sidecar is not None:
                    self._sidecar.stop()
                self._sidecar = _Sidecar.start(self.path, self.query_timeout, self.start_timeout)
                self._drop_idle()
            return self._sidecar

    def _drop_idle(self) -> None:
        """Close the kept-alive connections, on their loop (this may run in another thread)."""
        connections, self._idle_connections = self._idle_connections, []
        home = self._home
        if home is None or home.is_closed():
            return
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for connection in connections:
            if running is home:
                connection.close()
            else:
                home.call_soon_threadsafe(connection.close)

    def start(self) -> None:
        super().start()
        self._ensure_sidecar()

    def close(self) -> None:
        super().close()
        with self._sidecar_lock:
            sidecar, self._sidecar = self._sidecar, None
            self._drop_idle()
        if sidecar is not None:
            sidecar.stop()

    @staticmethod
    def forwardable(job: Job) -> bool:
        """Whether the sidecar answers ``job`` exactly as a worker would."""
        return (
            isinstance(job, QueryJob)
            and job.union_default_graph
            and job.default_graphs is None
            and job.named_graphs is None
            and job.base_iri is None
            and (job.solutions_format is not None or job.graph_format is not None)
        )

    async def run(self, job: Job, timeout: float) -> Outcome:
        if not self.forwardable(job):
            return await super().run(job, timeout)
        assert isinstance(job, QueryJob)
        sidecar = self._sidecar
        if sidecar is None or sidecar.process.poll() is not None:
            try:
                sidecar = await asyncio.to_thread(self._ensure_sidecar)
            except StoreError as exc:
                raise JobError("evaluation", str(exc)) from None
        # Turtle and RDF/XML are asked as N-Triples and rewritten with the project's prefixes below
        wanted = [job.solutions_format, "nt" if job.graph_format in _PREFIXED else job.graph_format]
        accept = ", ".join(find(name).media_type for name in wanted if name is not None)
        query = job.query.encode()
        head = (
            f"POST /query HTTP/1.1\r\nHost: 127.0.0.1:{sidecar.port}\r\n"
            f"Content-Type: application/sparql-query\r\nAccept: {accept}\r\n"
            f"Content-Length: {len(query)}\r\n\r\n"
        ).encode()
        loop = asyncio.get_running_loop()
        if self._home is None:
            self._home = (self.home_hint() if self.home_hint else None) or loop
        pooled = self._home is loop
        idle = self._idle_connections if pooled else []
        deadline = loop.time() + timeout
        connection = idle.pop() if idle else None
        while True:
            reused = connection is not None
            try:
                if connection is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", sidecar.port)
                    connection = _Connection(reader, writer)
                request = connection.request(head, query)
                status, media, body, keep = await asyncio.wait_for(request, deadline - loop.time())
                break
            except _StaleError:
                if connection is not None:
                    connection.close()
                connection = None
                if reused:
                    continue  # the sidecar closed this idle connection: once more on a new one
                _LOG.warning("oxigraph sidecar on port %d closed a new connection", sidecar.port)
                raise JobError("evaluation", "the query engine closed the connection; try again") from None
            except TimeoutError:
                # answered now; the sidecar cancels the evaluation itself at its --timeout-s (at most
                # 1 s later, it counts whole seconds); a cancelled answer would be cut short, so the
                # connection goes
                if connection is not None:
                    connection.close()
                raise JobTimeoutError() from None
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                # a refused connection, or an answer cut short (Oxigraph cancelled it while streaming)
                _LOG.warning(
                    "oxigraph sidecar on port %d: %r (reused connection: %s)", sidecar.port, exc, reused
                )
                if connection is not None:
                    connection.close()
                if sidecar.process.poll() is not None:
                    raise JobError("evaluation", "the query engine stopped unexpectedly; try again") from None
                raise JobError("evaluation", "the query engine stopped answering; try again") from None
            except BaseException:
                # cancelled mid-answer: the connection's state is unknown
                if connection is not None:
                    connection.close()
                raise
        if keep and pooled and self._sidecar is sidecar:
            idle.append(connection)
        else:
            connection.close()
        if len(body) > _LARGE and job.graph_format in _PREFIXED:
            # rewriting a large graph takes a while: not on the event loop
            return await asyncio.to_thread(self._outcome, job, status, media, body)
        return self._outcome(job, status, media, body)

    def _outcome(self, job: QueryJob, status: int, media: str, body: bytes) -> Outcome:
        if status == 200:
            if job.solutions_format and media == find(job.solutions_format).media_type:
                return Outcome(body, job.solutions_format)
            if job.graph_format in _PREFIXED and media == find("nt").media_type:
                triples = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
                rewritten = ox.serialize(
                    triples, format=_RDF_FORMATS[job.graph_format], prefixes=self.prefixes
                )
                assert rewritten is not None
                return Outcome(rewritten, job.graph_format)
            if job.graph_format and media == find(job.graph_format).media_type:
                return Outcome(body, job.graph_format)
            raise JobError("evaluation", f"the query engine answered in an unexpected format ({media})")
        message = body.decode("utf-8", errors="replace").strip()
        if status == 406:
            # only one form was acceptable, and the query is of the other one (as engine.py reports it)
            raise JobError("not_acceptable", "solutions" if job.solutions_format is None else "graph")
        if status == 400:
            raise JobError("syntax", message)
        _LOG.warning("oxigraph sidecar answered %d: %s", status, message[:500])
        raise JobError("evaluation", message)


class SidecarReleaseEngine(ReleaseEngine):
    """:class:`ReleaseEngine` whose pool for each release is a :class:`SidecarEngine`."""

    def __init__(
        self, path: Path, *, size: int, query_timeout: float, prefixes: dict[str, str] | None = None
    ) -> None:
        self.query_timeout = query_timeout
        #: the loop of the first query: the server's (whose connections each release's pool keeps)
        self._home: asyncio.AbstractEventLoop | None = None
        super().__init__(path, size=size, prefixes=prefixes)

    async def run(self, job: Job, timeout: float) -> Outcome:
        if self._home is None:
            self._home = asyncio.get_running_loop()
        return await super().run(job, timeout)

    def _pool(self, path: Path) -> _Pool:
        # called with the lock held
        pool = self._pools.get(path)
        if pool is None:
            engine = SidecarEngine(
                path,
                writable=False,
                size=self.size,
                prefixes=self.prefixes,
                query_timeout=self.query_timeout,
                home_hint=lambda: self._home,
            )
            pool = _Pool(engine)
            self._pools[path] = pool
        return pool
