"""One real build for all the publication tests (session scope: a build takes ~20 s), a published copy
of it, and servers on 127.0.0.1: a real ``oxigraph serve`` and a tiny HTTP server that fails on purpose.

Each test that changes a build copies it first (``fresh_build``); the shared ones are only read.
"""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bassin_kg.progress import Progress
from bassin_kg.publish import PublishResult, publish
from bassin_kg.release.build import build
from bassin_kg.settings import Settings
from serving import free_port
from serving import oxigraph_server as oxigraph

MAIN = Path(__file__).resolve().parents[2]


def copy_project(target: Path) -> Path:
    """The checkout's data/, ontology/, shapes/ and queries/ under ``target`` (a project root)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(MAIN / name, target / name, symlinks=True)
    return target


def settings_for(root: Path) -> Settings:
    return Settings(root=root, build_dir=root / "build")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A real build of the checkout's data (read-only for the tests: copy it to change it)."""
    root = copy_project(tmp_path_factory.mktemp("built") / "project")
    settings = settings_for(root)
    build(settings, progress=Progress(quiet=True))
    return settings


@pytest.fixture(scope="session")
def published(built: Settings, tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, PublishResult]:
    """A copy of the build, published once (dumps, VoID, catalogue and a small static site)."""
    root = tmp_path_factory.mktemp("published") / "project"
    shutil.copytree(built.root, root, symlinks=True)
    settings = settings_for(root)
    result = publish(
        settings, progress=Progress(quiet=True), static_site=True, site_only=("territoire", "acteur", "swot")
    )
    return settings, result


@pytest.fixture
def fresh_build(built: Settings, tmp_path: Path) -> Settings:
    """A private copy of the shared build, for tests that publish or break things."""
    root = tmp_path / "project"
    shutil.copytree(built.root, root, symlinks=True)
    return settings_for(root)


# --- servers ----------------------------------------------------------------------------------------
@pytest.fixture
def oxigraph_server(tmp_path: Path) -> Iterator[str]:
    """The base URL of a real, empty, read-write ``oxigraph serve`` (own store, stopped after the test)."""
    with oxigraph(tmp_path / "remote") as running:
        yield running.url


@dataclass
class FlakyStore:
    """State of the failing Graph Store: graphs it accepted and every request it saw (SYNTHETIC server)."""

    url: str
    #: graph IRIs whose PUT always answers 500
    failing: set[str] = field(default_factory=set)
    graphs: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)


@pytest.fixture
def flaky_store() -> Iterator[FlakyStore]:
    """A tiny Graph Store on 127.0.0.1 laid out like Fuseki (``/ds/data``, ``/ds/query``): PUT counts the
    N-Triples lines it gets, except for the graphs in ``failing`` (HTTP 500 every time)."""
    port = free_port()
    state = FlakyStore(f"http://127.0.0.1:{port}/ds/data")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: bytes = b"", ctype: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:
            parts = urlsplit(self.path)
            graph = parse_qs(parts.query)["graph"][0]
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(("PUT", graph))
            state.authorizations.append(self.headers.get("Authorization", ""))
            if graph in state.failing:
                self._reply(500, b"synthetic failure")
                return
            state.graphs[graph] = sum(1 for line in body.decode().splitlines() if line.strip())
            self._reply(204)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            query = unquote(parse_qs(body)["query"][0])
            graph = re.search(r"GRAPH <([^>]+)>", query)
            assert graph is not None
            state.requests.append(("COUNT", graph.group(1)))
            count = state.graphs.get(graph.group(1), 0)
            answer = '{"head":{"vars":["n"]},"results":{"bindings":[{"n":{"type":"literal","value":"%d"}}]}}'
            self._reply(200, (answer % count).encode(), "application/sparql-results+json")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
