"""One real build for all the publication tests (session scope: a build takes ~20 s), a published copy
of it, and servers on 127.0.0.1: a real ``oxigraph serve`` and a tiny HTTP server that fails on purpose.

Each test that changes a build copies it first (``fresh_build``); the shared ones are only read.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from rdflib import Graph

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


@pytest.fixture(scope="session")
def catalog(published: tuple[Settings, PublishResult]) -> Graph:
    """The published catalogue of the real build, parsed once (read it; break ``catalog_copy``)."""
    settings, _result = published
    return Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle")


@pytest.fixture
def catalog_copy(catalog: Graph) -> Graph:
    """A private copy of the published catalogue, for a test that breaks it."""
    copy = Graph()
    copy += catalog
    return copy


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
    #: (user, password) that every request must prove with HTTP Digest, as Fuseki with auth does
    digest: tuple[str, str] | None = None
    #: answer 401 and close before reading a PUT's body, as Virtuoso does
    refuse_early: bool = False


REALM = "synthetic"


def digest_ok(header: str, method: str, user: str, password: str) -> bool:
    """Whether ``header`` is a valid RFC 2617 Digest (qop=auth, MD5) answer for ``user``."""
    if not header.startswith("Digest "):
        return False
    fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(header[len("Digest ") :]))

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1, ha2 = md5(f"{user}:{REALM}:{password}"), md5(f"{method}:{fields.get('uri', '')}")
    expected = md5(f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    return fields.get("username") == user and fields.get("response") == expected


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

        def _refused(self, method: str) -> bool:
            """Answer 401 with a Digest challenge unless the request proves the password."""
            header = self.headers.get("Authorization", "")
            state.authorizations.append(header)
            if state.digest is None or digest_ok(header, method, *state.digest):
                return False
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Digest realm="{REALM}", nonce="n0nce", qop="auth"')
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return True

        def do_PUT(self) -> None:
            if state.refuse_early and self._refused("PUT"):
                return  # the body is never read: the client is still sending it when the socket closes
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if not state.refuse_early and self._refused("PUT"):
                return
            parts = urlsplit(self.path)
            graph = parse_qs(parts.query)["graph"][0]
            state.requests.append(("PUT", graph))
            if graph in state.failing:
                self._reply(500, b"synthetic failure")
                return
            state.graphs[graph] = sum(1 for line in body.decode().splitlines() if line.strip())
            self._reply(204)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"])).decode()
            if state.digest is not None and self._refused("POST"):
                return
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
