"""``publish --to`` against a real ``oxigraph serve`` behind a fault-injecting proxy on 127.0.0.1.

The server goes away mid-push (killed), answers 500, or is slow: bounded retries, a report that names
what was pushed and what was not, and every target graph on the server is its old or its new version in
full — checked by counting it, after a restart when the server was killed.

The pushed store and the server's previous content are SYNTHETIC: three graphs a, b, c of 5, 7 and 9
made-up triples locally, 2 made-up "old" triples each on the server.
"""

from __future__ import annotations

import http.client
import http.server
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest

from bassin_kg.cli import main
from bassin_kg.publish.remote import PushReport, Remote, State, derive, push
from serving import Running, oxigraph_graphs, oxigraph_put, oxigraph_server

GRAPH = "http://example.org/graph/"
NEW = {GRAPH + "a": 5, GRAPH + "b": 7, GRAPH + "c": 9}
OLD = 2
B = GRAPH + "b"


# --- the real server ----------------------------------------------------------------------------------------
class Oxigraph:
    """``oxigraph serve`` on its own on-disk store; can be killed (SIGKILL) and started again on it."""

    def __init__(self, location: Path) -> None:
        self.location = location
        self.running: Running | None = None
        self._stack = ExitStack()

    @property
    def base(self) -> str:
        assert self.running is not None, "the server was not started"
        return self.running.url

    def start(self) -> None:
        self.stop()
        self.running = self._stack.enter_context(oxigraph_server(self.location))

    def kill(self) -> None:
        """The server goes away at once: no clean shutdown."""
        if self.running is not None and self.running.process.poll() is None:
            self.running.process.kill()
            self.running.process.wait(10)

    def stop(self) -> None:
        self._stack.close()

    def put(self, graph: str, triples: int, value: str) -> None:
        body = "".join(f'<{graph}/s{i}> <http://example.org/p> "{value}" .\n' for i in range(triples))
        oxigraph_put(self.base, graph, body.encode())

    def graphs(self) -> dict[str, int]:
        return oxigraph_graphs(self.base)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Oxigraph]:
    """A real server holding the SYNTHETIC old version of a, b and c (2 triples each)."""
    oxigraph = Oxigraph(tmp_path / "remote")
    oxigraph.start()
    try:
        for graph in NEW:
            oxigraph.put(graph, OLD, "old")
        yield oxigraph
    finally:
        oxigraph.stop()


@pytest.fixture(scope="module")
def local_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store to push: SYNTHETIC graphs a, b, c with 5, 7 and 9 triples."""
    path = tmp_path_factory.mktemp("local") / "store"
    store = ox.Store(str(path))
    predicate = ox.NamedNode("http://example.org/p")
    for graph, triples in NEW.items():
        store.extend(
            ox.Quad(ox.NamedNode(f"{graph}/s{i}"), predicate, ox.Literal("new"), ox.NamedNode(graph))
            for i in range(triples)
        )
    store.flush()
    del store  # closes it: push opens it read-only
    return path


# --- the proxy that injects the faults ----------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """What the proxy saw: ``kind`` is put, count, move, drop or other; ``graph`` the graph concerned."""

    kind: str
    graph: str

    def about(self, target: str) -> bool:
        return self.graph == target or self.graph.startswith(target + "-staging-")


@dataclass(frozen=True)
class Action:
    """What the proxy does with a request, in this order: forward it to the server (or not), kill the
    server, wait, then answer ``status`` instead of the server's answer, or close without any answer."""

    forward: bool = True
    kill: bool = False
    delay: float = 0.0
    status: int | None = None
    drop: bool = False


FORWARD = Action()


def classify(method: str, path: str, body: bytes) -> Request:
    parts = urlsplit(path)
    if method in ("PUT", "DELETE"):
        return Request(method.lower(), parse_qs(parts.query)["graph"][0])
    form = parse_qs(body.decode())
    if "query" in form:
        found = re.search(r"GRAPH <([^>]+)>", form["query"][0])
        return Request("count", found.group(1) if found else "")
    if "update" in form:
        text = form["update"][0]
        if (move := re.match(r"CLEAR SILENT GRAPH <([^>]+)>", text)) is not None:
            return Request("move", move.group(1))
        if (drop := re.match(r"DROP SILENT GRAPH <([^>]+)>", text)) is not None:
            return Request("drop", drop.group(1))
    return Request("other", "")


@dataclass
class Proxy:
    """An HTTP proxy on 127.0.0.1 in front of the real server; ``rule`` decides each request's fate."""

    server: Oxigraph
    rule: Callable[[Request], Action] = lambda request: FORWARD
    seen: list[Request] = field(default_factory=list)
    url: str = ""
    closing: threading.Event = field(default_factory=threading.Event)
    httpd: http.server.ThreadingHTTPServer | None = None

    def count(self, kind: str, graph: str | None = None) -> int:
        return sum(1 for r in self.seen if r.kind == kind and (graph is None or r.about(graph)))

    def go_away(self) -> None:
        """The server is gone: kill it and stop listening (further connections are refused)."""
        self.server.kill()
        if self.httpd is not None:  # called from a handler thread, never the one serving: no deadlock
            self.httpd.shutdown()
            self.httpd.server_close()

    def forward(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
        upstream = urlsplit(self.server.base)
        connection = http.client.HTTPConnection(upstream.hostname or "", upstream.port, timeout=10)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Content-Type", "text/plain"), response.read()
        finally:
            connection.close()


@pytest.fixture
def proxy(server: Oxigraph) -> Iterator[Proxy]:
    state = Proxy(server)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = classify(self.command, self.path, body)
            state.seen.append(request)
            action = state.rule(request)
            answer: tuple[int, str, bytes] | None = None
            if action.forward:
                keep = ("Content-Type", "Accept")
                headers = {k: v for k, v in self.headers.items() if k in keep}
                try:
                    answer = state.forward(self.command, self.path, body, headers)
                except OSError:
                    answer = None  # the server is gone: the client gets no answer either
            if action.kill:
                state.go_away()
            if action.delay:
                state.closing.wait(action.delay)
            if action.status is not None:
                answer = (action.status, "text/plain", b"synthetic failure injected by the test proxy")
            if action.drop or answer is None:
                return  # the connection closes without a status line
            status, ctype, data = answer
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up waiting (the slow server case)

        def do_PUT(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that timed out closed its socket before the delayed answer: expected

    httpd = Server(("127.0.0.1", 0), Handler)
    state.httpd = httpd
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/store"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.closing.set()  # wake the delayed answers
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def remote_for(url: str, *, timeout: float = 5.0, retries: int = 2) -> Remote:
    query_url, update_url = derive(url, None, None)
    return Remote(url, query_url, update_url, timeout=timeout, retries=retries, backoff=0.02)


def by_graph(report: PushReport) -> dict[str, State]:
    return {g.iri: g.state for g in report.graphs}


def assert_whole(graphs: dict[str, int]) -> None:
    """Every target graph on the server holds its old or its new version in full, never a mix."""
    for graph, new in NEW.items():
        assert graphs.get(graph) in (OLD, new), f"<{graph}> holds {graphs.get(graph)} triples"


def staging_graphs(graphs: dict[str, int]) -> set[str]:
    return {g for g in graphs if "-staging-" in g}


# --- (1) the server goes away mid-push ----------------------------------------------------------------------
KILL = Action(forward=False, kill=True, drop=True)  # the server dies before it gets the request
KILL_AFTER = Action(kill=True, drop=True)  # it runs the request, then dies before answering
KILL_AFTER_ANSWER = Action(kill=True)  # it runs the request, its answer gets out, then it is gone


@pytest.mark.parametrize(
    ("kill_at", "action", "b_state", "b_on_restart", "b_staging_stays"),
    [
        # b's staging graph is stored, then the server dies: b's target untouched, for sure
        ("put", KILL_AFTER, State.NOT_PUSHED, OLD, True),
        ("put", KILL_AFTER_ANSWER, State.NOT_PUSHED, OLD, True),
        # the server dies before running b's MOVE: the client cannot tell which way it went
        ("move", KILL, State.UNKNOWN, OLD, True),
        # the server runs b's MOVE and dies before answering: b is new, in full
        ("move", KILL_AFTER, State.UNKNOWN, NEW[B], False),
    ],
    ids=["staging-put-unanswered", "staging-put-answered", "before-move", "move-unanswered"],
)
def test_server_killed_mid_push(
    proxy: Proxy,
    server: Oxigraph,
    local_store: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kill_at: str,
    action: Action,
    b_state: State,
    b_on_restart: int,
    b_staging_stays: bool,
) -> None:
    monkeypatch.delenv("BASSIN_KG_PUBLISH_TOKEN", raising=False)

    def rule(request: Request) -> Action:
        if request.kind == kill_at and request.about(B):
            return action
        return FORWARD

    proxy.rule = rule
    argv = [
        "-q",
        "publish",
        "--to",
        proxy.url,
        "--store",
        str(local_store),
        "--retries",
        "2",
        "--timeout",
        "5",
    ]
    started = time.monotonic()
    code = main(argv)
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out

    assert code == 1
    assert elapsed < 8  # refused connections fail fast: only the backoff (0.5 + 1 s) is spent
    assert f"pushed a <{GRAPH}a>: 5 triples, verified on the server" in out
    assert f"{b_state.value} b <{B}>" in out
    assert f"not tried c <{GRAPH}c>: the server stopped answering at graph b" in out
    assert proxy.count("put", GRAPH + "c") == 0  # nothing was sent for c
    if b_state is State.UNKNOWN:
        assert "hold either their previous or their new content, in full" in out
    else:
        assert "the graphs not pushed keep their previous content on the server" in out
    assert "run the push again" in out

    server.start()  # the same on-disk store, after the crash
    graphs = server.graphs()
    assert_whole(graphs)
    assert (graphs[GRAPH + "a"], graphs[B], graphs[GRAPH + "c"]) == (NEW[GRAPH + "a"], b_on_restart, OLD)
    left = staging_graphs(graphs)
    assert len(left) == (1 if b_staging_stays else 0)
    for graph in left:  # a staging graph that stays behind is named in the report, to be dropped
        assert graphs[graph] == NEW[B]
        assert f"<{graph}>" in out, out
        assert "DROP SILENT GRAPH" in out


# --- (2) the server answers 500 -----------------------------------------------------------------------------
def test_500_on_one_graph_put_is_retried_then_reported(
    proxy: Proxy, server: Oxigraph, local_store: Path
) -> None:
    proxy.rule = lambda r: Action(forward=False, status=500) if r.kind == "put" and r.about(B) else FORWARD
    report = push(local_store, remote_for(proxy.url, retries=2))

    assert by_graph(report) == {GRAPH + "a": State.PUSHED, B: State.NOT_PUSHED, GRAPH + "c": State.PUSHED}
    assert proxy.count("put", B) == 3  # one try and two retries, then it gives up
    assert proxy.count("move", B) == 0
    summary = report.summary()
    assert "2 graph(s) pushed, 1 not pushed" in summary
    assert f"NOT pushed b <{B}>: PUT " in summary
    assert "HTTP 500" in summary
    assert "after 3 attempt(s)" in summary
    graphs = server.graphs()
    assert graphs == {GRAPH + "a": 5, B: OLD, GRAPH + "c": 9}  # b whole and old; no staging graph left


def test_500_on_the_move_is_retried_then_the_staging_graph_dropped(
    proxy: Proxy, server: Oxigraph, local_store: Path
) -> None:
    proxy.rule = lambda r: Action(forward=False, status=500) if r.kind == "move" and r.about(B) else FORWARD
    report = push(local_store, remote_for(proxy.url, retries=2))

    assert by_graph(report) == {GRAPH + "a": State.PUSHED, B: State.NOT_PUSHED, GRAPH + "c": State.PUSHED}
    assert proxy.count("move", B) == 3  # bounded: retried only while the staging graph is still full
    assert proxy.count("put", B) == 1
    detail = report.graphs[1].detail
    assert "HTTP 500" in detail
    assert "after 3 attempt(s); the staging graph was intact" in detail
    assert report.graphs[1].staging_left is None
    assert server.graphs() == {GRAPH + "a": 5, B: OLD, GRAPH + "c": 9}  # the staging graph is dropped


@pytest.mark.parametrize(
    "lost_answer",
    [Action(status=500), Action(drop=True)],
    ids=["500-after-running-it", "connection-closed-after-running-it"],
)
def test_a_move_run_by_the_server_is_not_resent_and_counts_as_pushed(
    proxy: Proxy, server: Oxigraph, local_store: Path, lost_answer: Action
) -> None:
    # the server runs b's MOVE but its answer is lost: resending it would fail (the staging graph is gone)
    # and would report b as not pushed while the server holds its new version
    proxy.rule = lambda r: lost_answer if r.kind == "move" and r.about(B) else FORWARD
    report = push(local_store, remote_for(proxy.url, retries=2))

    assert report.ok, report.summary()
    assert proxy.count("move", B) == 1
    assert report.graphs[1].server_triples == NEW[B]
    assert server.graphs() == NEW


# --- (3) the server is slow ---------------------------------------------------------------------------------
def test_slow_server_gives_up_in_bounded_time(proxy: Proxy, server: Oxigraph, local_store: Path) -> None:
    timeout, retries = 0.5, 2
    slow = threading.Event()

    def rule(request: Request) -> Action:
        # from b on, the server does the work but answers after 3 s, beyond the client's timeout
        if request.about(B):
            slow.set()
        return Action(delay=3.0) if slow.is_set() else FORWARD

    proxy.rule = rule
    remote = remote_for(proxy.url, timeout=timeout, retries=retries)
    started = time.monotonic()
    report = push(local_store, remote)
    elapsed = time.monotonic() - started

    # b's PUT: (retries + 1) timeouts and the backoff; one timed-out try to drop its staging graph; then
    # c is not tried. Without that stop, c would cost as much again.
    backoff = sum(remote.backoff * 2**i for i in range(retries))
    assert elapsed < (retries + 1) * timeout + backoff + timeout + 1.5
    assert proxy.count("put", B) == retries + 1
    assert proxy.count("put", GRAPH + "c") == 0
    assert by_graph(report) == {GRAPH + "a": State.PUSHED, B: State.NOT_PUSHED, GRAPH + "c": State.NOT_TRIED}
    summary = report.summary()
    assert f"no answer within the {timeout:g} s timeout (after {retries + 1} attempt(s))" in summary
    assert "the server stopped answering at graph b" in summary
    staging = report.graphs[1].staging_left
    assert staging is not None
    assert staging.startswith(B + "-staging-")
    assert f"<{staging}>" in summary

    graphs = server.graphs()
    assert_whole(graphs)
    assert (graphs[GRAPH + "a"], graphs[B], graphs[GRAPH + "c"]) == (5, OLD, OLD)
    assert staging_graphs(graphs) <= {staging}  # only the one the report names, if any
