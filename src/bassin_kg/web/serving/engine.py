"""Where queries run: a small pool of worker processes that can be killed, so a timeout really stops.

pyoxigraph cannot cancel a running query (``Store.query`` has no timeout or cancellation token; see
oxigraph issue #1926), and a thread cannot be killed. So each worker process opens the store itself,
evaluates *and serialises* a job, and sends back bytes; when a job outlives its timeout the worker is
killed and replaced. The event loop never runs a query: it hands the job to an idle worker and waits for
the reply on the worker's pipe (``loop.add_reader``), so a query costs no thread hop; only starting a
worker or waiting for one runs in a thread.

Read-only serving gives each of up to ``size`` workers its own copy of the store in memory when it holds
at most ``memory_max_quads`` quads: Oxigraph's in-memory store answers the benchmark's aggregate 4× and
its lookup 2.7× faster than the RocksDB store it was copied from (bench/README.md). The copy is loaded
from one N-Quads snapshot the engine writes once to an unnamed temporary file, so a worker replaced after
a timeout is ready in ~0.2 s for this graph. The engine keeps one more copy in the HTTP process for
the queries whose cost is bounded before they run — one triple pattern about one written subject
(:mod:`bassin_kg.web.serving.query_shape`) — and answers them at once (:meth:`ProcessEngine.run_now`), without
the hand-off to a worker: they read at most as many triples as the subject has, and the copy is only
used when no subject has more than ``local_max_rows``. Bigger stores are opened read-only.

With updates enabled a single worker holds the store read-write (two processes may not write one
RocksDB, and reading while another process writes is undefined), so queries and updates are serialised
through it — fine for local editing.

:class:`InProcessEngine` serves a :class:`pyoxigraph.Store` object handed to ``create_app`` (in-memory
stores for tests or embedding). It cannot stop a query that overruns: it answers the timeout and lets
the thread finish.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import multiprocessing.connection
import os
import pickle
import queue
import struct
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, Protocol

import anyio.to_thread
import pyoxigraph as ox

import bassin_kg.store as store_module
from bassin_kg.errors import StoreError

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

_RDF_FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
_RESULT_FORMATS: dict[str, ox.QueryResultsFormat] = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
# Turtle, RDF/XML and JSON-LD read better with the project's prefixes; the line formats ignore them
_PREFIXED = {"ttl", "rdfxml"}

ErrorKind = Literal[
    "syntax",
    "not_acceptable",
    "not_found",
    "bad_data",
    "evaluation",
    "remote",
    "too_large",
    "internal",
    "busy",
]


# jobs ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueryJob:
    """Evaluate a query and serialise it in whichever format matches its form (None: not acceptable)."""

    query: str
    solutions_format: str | None
    graph_format: str | None
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    union_default_graph: bool = True
    base_iri: str | None = None
    #: a subject lookup (:func:`~bassin_kg.web.serving.query_shape.is_subject_lookup`): its cost is bounded
    bounded: bool = False
    #: the query calls SERVICE: a failure may come from (and quote) a remote server
    remote: bool = False
    #: the serialised answer may not be longer than this (0: no limit)
    max_bytes: int = 0


@dataclass(frozen=True)
class UpdateJob:
    update: str
    base_iri: str | None = None
    #: the update LOADs a document or calls SERVICE (see :attr:`QueryJob.remote`)
    remote: bool = False


@dataclass(frozen=True)
class GraphReadJob:
    """Serialise one graph of the store (``graph=None``: the store's own default graph)."""

    graph: str | None
    format: str


@dataclass(frozen=True)
class GraphWriteJob:
    graph: str | None
    data: bytes
    media_type: str
    replace: bool
    base_iri: str | None = None


@dataclass(frozen=True)
class GraphDropJob:
    graph: str | None


@dataclass(frozen=True)
class StatsJob:
    """Triple counts: of each named graph, of the store's default graph and of their union."""


Job = QueryJob | UpdateJob | GraphReadJob | GraphWriteJob | GraphDropJob | StatsJob


@dataclass(frozen=True)
class GraphStats:
    named: tuple[tuple[str, int], ...]
    default_graph_triples: int
    union_triples: int


@dataclass(frozen=True)
class Outcome:
    body: bytes = b""
    #: short name of the format of ``body`` (see :mod:`bassin_kg.web.negotiation`)
    format: str | None = None
    #: a Graph Store write created the graph (201) rather than changing it (204)
    created: bool = False
    stats: GraphStats | None = None


class JobError(Exception):
    """The job was refused or failed; ``kind`` tells the HTTP layer which status to answer."""

    def __init__(self, kind: ErrorKind, message: str) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message


class ResultTooLargeError(Exception):
    """The serialised answer grew past its job's ``max_bytes``."""


class _CappedBuffer(io.BytesIO):
    """A buffer that refuses to grow past ``limit`` bytes (0: no limit), so a huge answer stops early."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def write(self, data: ReadableBuffer, /) -> int:
        size = memoryview(data).nbytes
        if self.limit and self.tell() + size > self.limit:
            raise ResultTooLargeError()
        return super().write(data)


class JobTimeoutError(Exception):
    """The job outlived its timeout (and, in the process engine, its worker was killed)."""


# evaluation: the same function runs in a worker process or in-process -------------------------------
def _graph_name(graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)


def execute(store: ox.Store, job: Job, prefixes: dict[str, str] | None = None) -> Outcome:
    """Run ``job`` on ``store``; raise :class:`JobError` for anything the client should hear about.

    ``prefixes`` are declared in Turtle and RDF/XML output.
    """
    try:
        if isinstance(job, QueryJob):
            return _execute_query(store, job, prefixes)
        if isinstance(job, UpdateJob):
            store.update(job.update, base_iri=job.base_iri)
            return Outcome()
        if isinstance(job, GraphReadJob):
            name = _graph_name(job.graph)
            if isinstance(name, ox.NamedNode) and not store.contains_named_graph(name):
                raise JobError("not_found", f"no graph <{job.graph}> in this store")
            triples = (q.triple for q in store.quads_for_pattern(None, None, None, name))
            return Outcome(_serialise_triples(triples, job.format, prefixes), job.format)
        if isinstance(job, GraphWriteJob):
            return _write_graph(store, job)
        if isinstance(job, GraphDropJob):
            name = _graph_name(job.graph)
            if isinstance(name, ox.NamedNode):
                if not store.contains_named_graph(name):
                    raise JobError("not_found", f"no graph <{job.graph}> in this store")
                store.remove_graph(name)
            else:
                store.clear_graph(name)
            return Outcome()
        return Outcome(stats=_stats(store))
    except SyntaxError as exc:
        raise JobError("syntax", str(exc)) from None
    except MemoryError:
        # a client's query may ask for more than the worker has (nested REPLACE…): answer, don't die
        raise JobError("internal", "the query needed more memory than this worker has") from None
    except ResultTooLargeError:
        limit = job.max_bytes if isinstance(job, QueryJob) else 0
        raise JobError("too_large", str(limit)) from None
    except (OSError, RuntimeError, ValueError) as exc:
        if isinstance(job, QueryJob | UpdateJob) and job.remote:
            # a SERVICE or LOAD target failed, or answered what the engine cannot read (text/html…)
            raise JobError("remote", remote_reason(exc)) from None
        if isinstance(exc, OSError):
            raise JobError("evaluation", str(exc)) from None  # the store could not be read
        # the engine refused to evaluate what it parsed (a type error in an IRI…)
        raise JobError("bad_data", str(exc)) from None


def remote_reason(exc: BaseException) -> str:
    """What the engine said about a remote failure, without the remote body it may quote.

    Oxigraph writes "Error 500 … returned by <url> with payload:" and the body after it: whatever a
    host behind the allow-list answered must not be relayed to the client.
    """
    first = str(exc).split("\n", 1)[0]
    first = first.split(" with payload", 1)[0].rstrip(":")
    return first[:300]


def _execute_query(store: ox.Store, job: QueryJob, prefixes: dict[str, str] | None) -> Outcome:
    kwargs: dict[str, object] = {}
    if job.default_graphs is not None or job.named_graphs is not None:
        # protocol dataset: what is not given is empty (SPARQL 1.1 Protocol §2.1.4)
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs or ()]
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or ()]
    elif job.union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    result = store.query(job.query, base_iri=job.base_iri, **kwargs)  # type: ignore[arg-type]
    # pyoxigraph results may only be dropped on the thread that made them: delete them before raising,
    # or the traceback carries them to the thread that reads the error (InProcessEngine's pool)
    if isinstance(result, ox.QueryTriples):
        if job.graph_format is None:
            del result
            raise JobError("not_acceptable", "graph")
        try:
            body = _serialise_triples(result, job.graph_format, prefixes, job.max_bytes)
        finally:
            del result
        return Outcome(body, job.graph_format)
    if job.solutions_format is None:
        del result
        raise JobError("not_acceptable", "solutions")
    output = _CappedBuffer(job.max_bytes)
    try:
        result.serialize(output=output, format=_RESULT_FORMATS[job.solutions_format])
    finally:
        del result
    return Outcome(output.getvalue(), job.solutions_format)


def _serialise_triples(triples: object, fmt: str, prefixes: dict[str, str] | None, limit: int = 0) -> bytes:
    used = prefixes if fmt in _PREFIXED else None
    output = _CappedBuffer(limit)
    ox.serialize(triples, output=output, format=_RDF_FORMATS[fmt], prefixes=used)  # type: ignore[arg-type]
    return output.getvalue()


def _write_graph(store: ox.Store, job: GraphWriteJob) -> Outcome:
    rdf_format = ox.RdfFormat.from_media_type(job.media_type)
    if rdf_format is None or rdf_format.supports_datasets:
        raise JobError("bad_data", f"cannot read a graph from {job.media_type!r}")
    name = _graph_name(job.graph)
    try:
        # parse fully before touching the store: a syntax error must leave the graph unchanged
        quads = [
            ox.Quad(q.subject, q.predicate, q.object, name)
            for q in ox.parse(job.data, format=rdf_format, base_iri=job.base_iri)
        ]
    except SyntaxError as exc:
        raise JobError("bad_data", f"the {job.media_type} body is not valid: {exc}") from None
    created = isinstance(name, ox.NamedNode) and not store.contains_named_graph(name)
    if job.replace:
        store.clear_graph(name)
    if isinstance(name, ox.NamedNode):
        store.add_graph(name)  # an empty PUT still creates the graph
    store.extend(quads)
    return Outcome(created=created)


def _stats(store: ox.Store) -> GraphStats:
    named = []
    for graph in sorted(store.named_graphs(), key=lambda g: g.value):
        count = sum(1 for _ in store.quads_for_pattern(None, None, None, graph))
        named.append((graph.value, count))
    default = sum(1 for _ in store.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    union_rows = store.query(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
        use_default_graph_as_union=True,
    )
    assert isinstance(union_rows, ox.QuerySolutions)
    union = next(iter(union_rows))["n"]
    return GraphStats(tuple(named), default, int(union.value) if union is not None else 0)


# engines --------------------------------------------------------------------------------------------
class Engine(Protocol):
    """Runs jobs off the event loop and enforces their timeout."""

    writable: bool
    #: jobs it runs at once (its workers)
    size: int

    async def run(self, job: Job, timeout: float) -> Outcome: ...

    def run_now(self, job: Job) -> Outcome | None:
        """The outcome of a job bounded enough to run on the event loop, or None: use :meth:`run`."""
        ...

    def start(self) -> None: ...

    def close(self) -> None: ...


def open_store(path: Path, *, writable: bool) -> ox.Store:
    """Open the store at ``path`` through :mod:`bassin_kg.store` (the one place that opens stores)."""
    return store_module.open_store(path) if writable else store_module.open_read_only(path)


def load_snapshot(descriptor: int) -> ox.Store:
    """An in-memory store holding the N-Quads snapshot open on ``descriptor`` (see :class:`ProcessEngine`)."""
    store = ox.Store()
    try:
        # /proc/self/fd reopens the unnamed file from its start, whatever the shared offset is
        store.bulk_load(path=f"/proc/self/fd/{descriptor}", format=ox.RdfFormat.N_QUADS)
    except (OSError, SyntaxError) as exc:
        raise StoreError(f"cannot load the in-memory copy of the store ({exc})") from None
    finally:
        os.close(descriptor)
    return store


def worker_main() -> None:
    """Body of a worker process: open the store (or load its snapshot), then answer jobs until told to stop.

    Started as ``python -c "from bassin_kg.web.serving.engine import worker_main; worker_main()" IN OUT
    LIFE`` with the two pipe descriptors it talks on and the read end of a pipe nobody writes to: a plain
    interpreter, so nothing of the server (its threads, its ``__main__``) is inherited or re-imported.
    """
    receive = multiprocessing.connection.Connection(int(sys.argv[1]), writable=False)
    send = multiprocessing.connection.Connection(int(sys.argv[2]), readable=False)
    if len(sys.argv) > 3:
        _watch_parent(int(sys.argv[3]))
    path, writable, prefixes, snapshot = receive.recv()
    try:
        store = load_snapshot(snapshot) if snapshot is not None else open_store(Path(path), writable=writable)
    except StoreError as exc:
        send.send(("fail", str(exc)))
        return
    send.send(("ready", None))
    while True:
        try:
            job = receive.recv()
        except EOFError:
            return  # the server went away
        if job is None:
            return
        try:
            reply: tuple[str, object] = ("ok", execute(store, job, prefixes))
        except JobError as exc:
            reply = ("error", (exc.kind, exc.message))
        send.send(reply)


def _watch_parent(life: int) -> None:
    """Exit this worker as soon as the server is gone, even in the middle of a query.

    The server holds the only write end of the ``life`` pipe and never writes: the read returns (end of
    file) when the server process ends, however it ends (kill -9 included). A thread blocked on it needs
    no CPU, and runs while a query does (pyoxigraph releases the GIL while it evaluates and serialises).
    PR_SET_PDEATHSIG would not do: it fires when the *thread* that started the worker ends, and workers
    are started from short-lived threads.
    """

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(life, 1):
                pass
        os._exit(3)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


_WORKER_CODE = "from bassin_kg.web.serving.engine import worker_main; worker_main()"


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    receive: multiprocessing.connection.Connection
    send: multiprocessing.connection.Connection
    #: write end of the pipe whose end of file tells the worker this process is gone
    life: int = -1

    @classmethod
    def spawn(cls, inherit: tuple[int, ...] = ()) -> _Worker:
        """Start a worker; ``inherit``: further descriptors it receives under the same numbers."""
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        # the worker's watchdog (see _watch_parent) reads life_r; life_w stays open in this process only
        # (descriptors are not inherited unless passed), so it closes exactly when this process ends
        life_r, life_w = os.pipe()
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", _WORKER_CODE, str(to_child_r), str(from_child_w), str(life_r)],
                pass_fds=(to_child_r, from_child_w, life_r, *inherit),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            os.close(life_w)
            raise
        finally:
            os.close(to_child_r)
            os.close(from_child_w)
            os.close(life_r)
        return cls(
            process,
            multiprocessing.connection.Connection(from_child_r, writable=False),
            multiprocessing.connection.Connection(to_child_w, readable=False),
            life_w,
        )

    async def exchange(self, timeout: float) -> object:
        """Wait (on the event loop, without a thread) for the worker's reply to the job sent to it.

        Raises TimeoutError after ``timeout`` s and EOFError / OSError when the worker died. The reply
        is read as :class:`multiprocessing.connection.Connection` frames it: a 4-byte big-endian size
        (-1 then 8 bytes for huge ones) and the pickled object.
        """
        loop = asyncio.get_running_loop()
        fd = self.receive.fileno()
        reply: asyncio.Future[bytes] = loop.create_future()
        buffer = bytearray()

        def readable() -> None:
            if reply.done():
                return
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                return
            except OSError as exc:
                reply.set_exception(exc)
                return
            if not chunk:
                reply.set_exception(EOFError("the query worker closed its pipe"))
                return
            buffer.extend(chunk)
            payload = _complete_frame(buffer)
            if payload is not None:
                reply.set_result(payload)

        def overrun() -> None:
            if not reply.done():
                reply.set_exception(TimeoutError())

        loop.add_reader(fd, readable)
        # a timer rather than asyncio.wait_for: the same effect with one object less per query
        timer = loop.call_later(timeout, overrun)
        try:
            payload = await reply
        finally:
            timer.cancel()
            loop.remove_reader(fd)
        return pickle.loads(payload)

    def stop(self, *, kill: bool) -> None:
        if not kill:
            with contextlib.suppress(OSError):
                self.send.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(2)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.receive.close()
        self.send.close()
        if self.life >= 0:
            os.close(self.life)
            self.life = -1

    def alive(self) -> bool:
        """False once the worker process has ended (killed, out of memory) while idle."""
        return self.process.poll() is None


def _complete_frame(buffer: bytearray) -> bytes | None:
    """The payload of the frame in ``buffer`` once it has fully arrived (see ``_Worker.exchange``)."""
    if len(buffer) < 4:
        return None
    (size,) = struct.unpack("!i", buffer[:4])
    start = 4
    if size == -1:
        if len(buffer) < 12:
            return None
        (size,) = struct.unpack("!Q", buffer[4:12])
        start = 12
    if len(buffer) < start + size:
        return None
    return bytes(buffer[start : start + size])


def run_in_fresh_worker(
    path: Path, job: Job, timeout: float, prefixes: dict[str, str] | None = None
) -> Outcome:
    """Run one job in a new worker that opens the store at ``path`` for writing, then stop it.

    Blocking (for a thread): a writer that holds the store only while it writes, so the store can be
    switched to or removed right after (see :mod:`bassin_kg.web.updates`). Killed after ``timeout`` s.
    """
    worker = _Worker.spawn()
    answered = False
    try:
        worker.send.send((str(path), True, prefixes, None))
        if not worker.receive.poll(timeout):
            raise JobTimeoutError()
        status, message = worker.receive.recv()
        if status != "ready":
            raise StoreError(str(message))
        worker.send.send(job)
        if not worker.receive.poll(timeout):
            raise JobTimeoutError()
        reply = worker.receive.recv()
        answered = True
    except (EOFError, OSError):
        raise JobError("evaluation", "the update worker stopped unexpectedly; nothing was changed") from None
    finally:
        # a clean stop (the worker closes its store) once it answered; SIGKILL when it overran
        worker.stop(kill=not answered)
    status, payload = reply
    if status == "ok":
        assert isinstance(payload, Outcome)
        return payload
    kind, text = payload
    raise JobError(kind, text)


@dataclass
class ProcessEngine:
    """Up to ``size`` worker processes over the store at ``path`` (or over in-memory copies of it).

    With ``memory_max_quads`` > 0 a read-only engine writes one N-Quads snapshot of a store that small,
    each worker loads it, and so does this process, for :meth:`run_now` (see the module's doc).
    """

    path: Path
    writable: bool
    size: int
    #: prefixes declared in Turtle / RDF/XML answers
    prefixes: dict[str, str] | None = None
    #: read-only workers copy the store into memory when it holds at most this many quads (0: never)
    memory_max_quads: int = 0
    #: subject lookups are answered in this process when no subject has more triples than this
    local_max_rows: int = 10_000
    #: seconds a new worker may take to open the store
    start_timeout: float = 60.0
    #: the N-Quads snapshot workers load (unnamed file: nothing is left behind, even after SIGKILL)
    _snapshot: IO[bytes] | None = None
    _snapshot_decided: bool = False
    _snapshot_lock: threading.Lock = field(default_factory=threading.Lock)
    #: this process's copy for :meth:`run_now` (None: every job goes to the workers)
    _local: ox.Store | None = None
    #: last in, first out: the most recently used worker has its data in the CPU caches
    _idle: queue.LifoQueue[_Worker] = field(default_factory=queue.LifoQueue)
    _workers: dict[int, _Worker] = field(default_factory=dict)
    _count: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def __post_init__(self) -> None:
        if self.writable:
            self.size = 1  # one read-write opener at a time

    def _start_worker(self) -> tuple[_Worker, int | None]:
        """A new worker, and the descriptor of the snapshot it should load (None: open the store)."""
        # under the lock: close() must not close the snapshot between choosing it and starting the worker
        with self._snapshot_lock:
            if not self._snapshot_decided:
                self._snapshot_decided = True
                if not self.writable and self.memory_max_quads > 0 and Path("/proc/self/fd").is_dir():
                    # a store that cannot be read is reported by the worker that opens it
                    with contextlib.suppress(StoreError):
                        self._snapshot = self._write_snapshot()
                    if self._snapshot is not None:
                        self._local = self._local_copy(self._snapshot.fileno())
            snapshot = None if self._snapshot is None else self._snapshot.fileno()
            return _Worker.spawn(() if snapshot is None else (snapshot,)), snapshot

    def _write_snapshot(self) -> IO[bytes] | None:
        store = open_store(self.path, writable=False)
        try:
            if len(store) > self.memory_max_quads:
                return None
            try:
                # an unnamed file: the open descriptor keeps it alive for this engine and its workers
                snapshot = tempfile.TemporaryFile(prefix="bassin-kg-snapshot-")  # noqa: SIM115 (kept open)
            except OSError as exc:  # no writable temporary folder: the workers read the store on disk
                raise StoreError(f"cannot create the in-memory snapshot of {self.path} ({exc})") from None
            try:
                store.dump(output=f"/proc/self/fd/{snapshot.fileno()}", format=ox.RdfFormat.N_QUADS)
            except OSError as exc:  # a full temporary folder, say
                snapshot.close()
                raise StoreError(f"cannot write the in-memory snapshot of {self.path} ({exc})") from None
            return snapshot
        finally:
            del store

    def _local_copy(self, snapshot: int) -> ox.Store | None:
        try:
            store = load_snapshot(os.dup(snapshot))
        except StoreError:
            return None
        # the row bound of a subject lookup is its subject's triples (counted as the union reads them)
        rows = store.query(
            "SELECT (MAX(?n) AS ?most) WHERE { SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?s }",
            use_default_graph_as_union=True,
        )
        assert isinstance(rows, ox.QuerySolutions)
        most = next(iter(rows))["most"]
        del rows
        return store if most is None or int(most.value) <= self.local_max_rows else None

    def run_now(self, job: Job) -> Outcome | None:
        local = self._local
        if (
            local is None
            or not isinstance(job, QueryJob)
            or not job.union_default_graph
            or job.default_graphs is not None
            or job.named_graphs is not None
            or not job.bounded
        ):
            return None
        return execute(local, job, self.prefixes)

    def _spawn(self) -> _Worker:
        worker, snapshot = self._start_worker()
        with self._lock:
            self._workers[id(worker)] = worker
        try:
            worker.send.send((str(self.path), self.writable, self.prefixes, snapshot))
            if not worker.receive.poll(self.start_timeout):
                raise StoreError(f"the query worker did not open the store at {self.path} in time")
            status, message = worker.receive.recv()
        except (EOFError, OSError):
            self._discard(worker)
            raise StoreError(f"the query worker died while opening the store at {self.path}") from None
        except StoreError:
            self._discard(worker)
            raise
        if status != "ready":
            self._discard(worker)
            raise StoreError(str(message))
        # from now on replies are read by the event loop (``_Worker.exchange``), which must never block
        os.set_blocking(worker.receive.fileno(), False)
        return worker

    def _discard(self, worker: _Worker, *, kill: bool = True) -> None:
        with self._lock:
            # close() and a background refill may both reach a worker: only the first one stops it
            owned = self._workers.pop(id(worker), None) is not None
        if owned:
            worker.stop(kill=kill)

    def _reserve_slot(self) -> bool:
        with self._lock:
            if not self._closed and self._count < self.size:
                self._count += 1
                return True
            return False

    def _release_slot(self) -> None:
        with self._lock:
            self._count -= 1

    def _add_worker(self) -> None:
        try:
            worker = self._spawn()
        except StoreError:
            self._release_slot()
            raise
        if self._closed:
            self._discard(worker)
            return
        self._idle.put(worker)

    def _refill(self) -> None:
        # a background refill that fails leaves the slot free: the next query retries and reports it
        with contextlib.suppress(StoreError):
            self._add_worker()

    def start(self) -> None:
        """Start every worker now, so the first queries do not pay for it."""
        threads = []
        while self._reserve_slot():
            thread = threading.Thread(target=self._refill, daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()

    def _acquire(self, timeout: float) -> _Worker:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        if self._reserve_slot():
            self._add_worker()
        try:
            return self._idle.get(timeout=timeout)
        except queue.Empty:
            raise JobTimeoutError() from None

    def _replace(self, worker: _Worker) -> None:
        """Kill ``worker`` (this is what really stops its query) and start another in the background."""
        # SIGKILL and reaping take a few milliseconds: done here, so the answer follows the stop
        self._discard(worker)
        self._release_slot()
        # the next query should not wait for a new process
        if self._reserve_slot():
            threading.Thread(target=self._refill, daemon=True).start()

    async def _idle_worker(self, timeout: float) -> _Worker:
        """An idle worker that is still alive: one that died while idle is replaced, not handed out."""
        for _ in range(self.size + 1):
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                # no idle worker: start one or wait for one, in a thread (both block)
                worker = await anyio.to_thread.run_sync(self._acquire, timeout)
            if worker.alive():
                return worker
            self._replace(worker)
        raise JobError("evaluation", "the query workers keep stopping; the server needs attention")

    async def _dispatch(self, job: Job, timeout: float) -> _Worker:
        """A live worker that has been sent ``job``."""
        for _ in range(2):
            worker = await self._idle_worker(timeout)
            try:
                # the worker is idle, blocked reading its pipe: this write returns at once
                worker.send.send(job)
                return worker
            except (BrokenPipeError, ConnectionResetError):
                # it died after the check: nothing ran, so the job goes to another worker
                self._replace(worker)
        raise JobError("evaluation", "the query workers keep stopping; the server needs attention")

    async def run(self, job: Job, timeout: float) -> Outcome:
        worker = await self._dispatch(job, timeout)
        replied = False
        try:
            reply = await worker.exchange(timeout)
            replied = True
        except TimeoutError:
            raise JobTimeoutError() from None
        except (EOFError, OSError):
            # the worker died while running the job (out of memory, killed)
            raise JobError("evaluation", "the query worker stopped unexpectedly; try again") from None
        finally:
            # no reply (timeout, dead worker, or cancelled while it runs the job, whose reply would be
            # stale): the worker goes and another starts
            if not replied:
                self._replace(worker)
        self._idle.put(worker)
        assert isinstance(reply, tuple)
        status, payload = reply
        if status == "ok":
            assert isinstance(payload, Outcome)
            return payload
        kind, message = payload
        raise JobError(kind, message)

    def close(self) -> None:
        """Stop every worker (idle ones cleanly, busy ones by force)."""
        with self._lock:
            self._closed = True
        idle = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for worker in idle:
            self._discard(worker, kill=False)
        with self._lock:
            busy = list(self._workers.values())
        for worker in busy:
            self._discard(worker)
        with self._snapshot_lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None
            self._local = None


@dataclass
class InProcessEngine:
    """Jobs on a store object in this process, in a thread pool; an overrun is answered, not stopped."""

    store: ox.Store
    writable: bool
    size: int
    prefixes: dict[str, str] | None = None
    _pool: concurrent.futures.ThreadPoolExecutor | None = None

    def start(self) -> None:
        if self._pool is None:
            self._pool = concurrent.futures.ThreadPoolExecutor(self.size, thread_name_prefix="sparql")

    def _run_sync(self, job: Job, timeout: float) -> Outcome:
        self.start()
        assert self._pool is not None
        future = self._pool.submit(execute, self.store, job, self.prefixes)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise JobTimeoutError() from None

    async def run(self, job: Job, timeout: float) -> Outcome:
        return await anyio.to_thread.run_sync(self._run_sync, job, timeout)

    def run_now(self, job: Job) -> Outcome | None:
        return None  # every job goes through the pool, whose timeout is answered

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
