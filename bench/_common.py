"""Shared pieces of the HTTP benchmarks: a lean load generator, server processes, memory sampling.

The load generator speaks HTTP/1.1 over raw asyncio streams with keep-alive. A general client (httpx)
spends more CPU per request than a fast server does, so on a small machine it would measure itself;
this one only writes a request line and reads a status line, headers and a body (Content-Length or
chunked), which is all the servers compared here send.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STORE = ROOT / "build" / "current" / "store"
BASE = "https://w3id.org/bassin-minier/"


# requests and results ---------------------------------------------------------------------------
@dataclass(frozen=True)
class HttpRequest:
    """One GET (``body`` None) or POST to send; ``kind`` names it in the report."""

    kind: str
    target: str  # path and query string
    accept: str = "*/*"
    body: bytes | None = None
    content_type: str | None = None
    #: further header lines, such as the X-Forwarded-For that tells the server which client sends it
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self, host: str) -> bytes:
        method = "GET" if self.body is None else "POST"
        lines = [f"{method} {self.target} HTTP/1.1", f"Host: {host}", f"Accept: {self.accept}"]
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body is not None:
            lines.append(f"Content-Type: {self.content_type or 'application/octet-stream'}")
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (self.body or b"")


def sparql_get(kind: str, path: str, query: str, accept: str) -> HttpRequest:
    """A SPARQL Protocol query by GET (the same form for every server compared)."""
    return HttpRequest(kind, f"{path}?query={quote(query, safe='')}", accept)


@dataclass
class KindStats:
    """Latencies (seconds) and outcomes of the requests of one kind."""

    latencies: list[float] = field(default_factory=list)
    #: latencies of the successful (2xx/3xx) answers only
    ok_latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    #: X-Cache header values seen (our endpoint says hit / miss)
    cache: Counter[str] = field(default_factory=Counter)
    #: 503 answers that carried Retry-After (refused because busy, not timed out)
    busy: int = 0
    #: connection failures (no HTTP answer at all)
    failures: int = 0
    body_bytes: int = 0

    def add(self, other: KindStats) -> None:
        self.latencies.extend(other.latencies)
        self.ok_latencies.extend(other.ok_latencies)
        self.statuses.update(other.statuses)
        self.cache.update(other.cache)
        self.busy += other.busy
        self.failures += other.failures
        self.body_bytes += other.body_bytes

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 400)

    def percentile(self, q: float, *, ok_only: bool = False) -> float:
        """Nearest-rank percentile in milliseconds (nan when nothing was measured)."""
        measured = self.ok_latencies if ok_only else self.latencies
        if not measured:
            return float("nan")
        ordered = sorted(measured)
        rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
        return ordered[rank] * 1000


@dataclass
class LoadResult:
    """What one load run measured, by request kind."""

    duration: float
    concurrency: int
    kinds: dict[str, KindStats]

    @property
    def total(self) -> KindStats:
        total = KindStats()
        for stats in self.kinds.values():
            total.add(stats)
        return total

    def throughput(self, kind: str | None = None, *, ok_only: bool = True) -> float:
        stats = self.total if kind is None else self.kinds.get(kind, KindStats())
        done = stats.ok if ok_only else stats.count
        return done / self.duration if self.duration > 0 else 0.0


# the client -------------------------------------------------------------------------------------
class ConnectionLostError(Exception):
    """The server closed the connection or sent something that is not HTTP/1.1."""


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], int]:
    """Status, headers (lower-case names) and body size of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise ConnectionLostError(f"not an HTTP/1.1 status line: {lines[0]!r}")
    status = int(parts[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    size = 0
    if "content-length" in headers:
        size = int(headers["content-length"])
        await reader.readexactly(size)
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            chunk_head = await reader.readuntil(b"\r\n")
            chunk = int(chunk_head.split(b";")[0].strip(), 16)
            await reader.readexactly(chunk + 2)  # data and its CRLF
            size += chunk
            if chunk == 0:
                # no trailers are sent by these servers: the last chunk's CRLF ends the message
                break
    elif status not in (204, 304) and not 100 <= status < 200:
        raise ConnectionLostError("a response without Content-Length or chunked encoding")
    return status, headers, size


async def _client(
    host: str,
    port: int,
    next_request: Callable[[], HttpRequest | None],
    deadline: float,
    kinds: dict[str, KindStats],
) -> None:
    writer: asyncio.StreamWriter | None = None
    reader: asyncio.StreamReader | None = None
    authority = f"{host}:{port}"
    try:
        while time.perf_counter() < deadline:
            request = next_request()
            if request is None:
                return
            stats = kinds.setdefault(request.kind, KindStats())
            start = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(request.encode(authority))
                await writer.drain()
                status, headers, size = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionLostError):
                stats.failures += 1
                if writer is not None:
                    writer.close()
                writer = reader = None
                await asyncio.sleep(0.01)
                continue
            elapsed = time.perf_counter() - start
            stats.latencies.append(elapsed)
            if 200 <= status < 400:
                stats.ok_latencies.append(elapsed)
            stats.statuses[status] += 1
            stats.body_bytes += size
            if "x-cache" in headers:
                stats.cache[headers["x-cache"]] += 1
            if status == 503 and "retry-after" in headers:
                stats.busy += 1
            if headers.get("connection", "").lower() == "close" and writer is not None:
                writer.close()
                writer = reader = None
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def run_load(
    host: str,
    port: int,
    make_request: Callable[[int, random.Random], HttpRequest],
    *,
    concurrency: int,
    duration: float,
    max_requests: int,
    seed: int = 1,
) -> LoadResult:
    """``concurrency`` keep-alive clients send requests for ``duration`` s or ``max_requests`` in all.

    ``make_request(n, rng)`` builds the n-th request (n counts from 0 across all clients), so cache
    busting can number its queries and a mixed workload can draw its kind from ``rng``.
    """
    counter = iter(range(max_requests))
    rng = random.Random(seed)

    def next_request() -> HttpRequest | None:
        n = next(counter, None)
        return None if n is None else make_request(n, rng)

    async def main() -> LoadResult:
        deadline = time.perf_counter() + duration
        per_client: list[dict[str, KindStats]] = [{} for _ in range(concurrency)]
        start = time.perf_counter()
        await asyncio.gather(*(_client(host, port, next_request, deadline, k) for k in per_client))
        elapsed = time.perf_counter() - start
        kinds: dict[str, KindStats] = {}
        for client_kinds in per_client:
            for name, stats in client_kinds.items():
                kinds.setdefault(name, KindStats()).add(stats)
        return LoadResult(elapsed, concurrency, kinds)

    return asyncio.run(main())


# servers ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def venv_tool(name: str) -> Path:
    """A console script installed beside this interpreter (the project venv)."""
    return Path(sys.executable).parent / name


class Server:
    """A server process started for a benchmark and stopped (with everything it started) afterwards.

    It runs in its own session, so stopping it can signal its process group: the server and the
    worker processes it spawned, nothing else.
    """

    def __init__(
        self,
        name: str,
        command: Sequence[str],
        port: int,
        probe: str,
        log: Path,
        env: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.command = list(command)
        self.env = env
        self.port = port
        self.probe = probe
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 180.0) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, **(self.env or {})},
            )
        url = f"http://127.0.0.1:{self.port}{self.probe}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status < 500:
                        return
            except urllib.error.HTTPError as exc:
                if exc.code < 500:
                    return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:g} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        # workers of a server killed hard may linger in the group: stop them too
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)


# memory -----------------------------------------------------------------------------------------
def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (read from /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                with contextlib.suppress(OSError):
                    text = Path(f"/proc/{current}/task/{task}/children").read_text()
                    todo.extend(int(child) for child in text.split())
    return found


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class MemorySampler:
    """Samples the summed VmRSS of a process tree every ``interval`` s; ``peak_mib`` is the maximum."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.peak_processes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> int:
        pids = process_tree(self.pid)
        total = sum(rss_kib(p) for p in pids)
        self.peak_kib = max(self.peak_kib, total)
        self.peak_processes = max(self.peak_processes, len(pids))
        return total

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024

    @contextlib.contextmanager
    def running(self) -> Iterator[MemorySampler]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()
            self.sample()


# output -----------------------------------------------------------------------------------------
def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""

    def text(value: object) -> str:
        if isinstance(value, float):
            return "-" if value != value else f"{value:.1f}"
        return str(value)

    cells = [[text(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    numeric = [
        all(isinstance(row[i], int | float) for row in rows) if rows else False for i in range(len(header))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if numeric[i] else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        )

    return "\n".join(
        text.rstrip() for text in [line(header), line(["-" * w for w in widths]), *(line(r) for r in cells)]
    )


def stop_on_signals() -> None:
    """Ctrl-C or SIGTERM raise KeyboardInterrupt even inside a load run, so the servers get stopped.

    ``asyncio.run`` turns a first Ctrl-C into a cancellation of the running load only, and the
    benchmark would go on with the next measurement; with a handler of our own it leaves SIGINT alone.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def check_store(store: Path) -> None:
    if not store.is_dir():
        sys.exit(f"no store at {store}: run `make build` (or `bassin-kg build`) first, or give --store PATH")
