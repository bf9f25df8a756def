"""Issue 16: each attack of the adversarial probe, over the wire, against a real ``bassin-kg serve``.

Each test checks the answer's status and that the server stays healthy: a light request sent while the
bad one runs is answered within a generous multiple of its own latency measured just before (never an
absolute tight timing), and the query workers that were there before are still there after (a client's
query never kills one). The project is the SYNTHETIC one of conftest.py; the remote host for SERVICE is
a throw-away HTTP server on 127.0.0.1 answering HTML.
"""

from __future__ import annotations

import contextlib
import http.server
import os
import shutil
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from serving import bassin_kg_server, clean_env, cli, free_port

from .conftest import Server, fast_build, make_project

JSON = "application/sparql-results+json"
LIGHT = (
    "SELECT ?o WHERE { ?s <http://www.w3.org/2004/02/skos/core#notation>|<http://example.org/x> ?o } LIMIT 1"
)
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SECRET = "SECRET-REMOTE-BODY"


class _Remote(http.server.BaseHTTPRequestHandler):
    """A remote 'endpoint' that answers HTML (200, or 500 under /fail), with a body never to be echoed."""

    def _answer(self) -> None:
        body = f"<html><body>{SECRET}</body></html>".encode()
        self.send_response(500 if self.path.startswith("/fail") else 200)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Remote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC build; returns its build root."""
    import bassin_kg.release.build as build_module
    from bassin_kg.settings import Settings
    from bassin_kg.sources import deck as deck_converter
    from bassin_kg.sources import ontology

    from .conftest import synthetic_fap2009

    folder = tmp_path_factory.mktemp("hardening")
    root = make_project(folder / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
        )
        fast_build(Settings(root=root, build_dir=folder / "build"))
    return folder


def _serve(folder: Path, remote: str, **env: str) -> Iterator[Server]:
    args = cli("-q", "--root", str(folder / "project"), "--build-dir", str(folder / "build"), "serve")
    settings = {
        "BASSIN_KG_MAX_CONCURRENT_QUERIES": "4",
        "BASSIN_KG_QUERY_TIMEOUT": "3",
        "BASSIN_KG_SERVICE_ALLOWLIST": remote,
        "BASSIN_KG_MAX_RESULT_BYTES": "100000",
        "BASSIN_KG_ACCESS_LOG": "false",
        **env,
    }
    with bassin_kg_server(args, env=clean_env(**settings)) as running:
        yield Server(running.process, running.url)


@pytest.fixture(scope="module")
def server(built: Path, remote: str) -> Iterator[Server]:
    yield from _serve(built, remote)


def workers_of(pid: int) -> set[int]:
    """The query worker processes of the server ``pid`` (its children)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in children.read_text().split()} if children.exists() else set()


def light_latency(server: Server, headers: dict[str, str] | None = None) -> tuple[int, float]:
    start = time.perf_counter()
    response = httpx.get(
        server.endpoint, params={"query": LIGHT}, headers={"accept": JSON, **(headers or {})}, timeout=60
    )
    return response.status_code, time.perf_counter() - start


def baseline(server: Server) -> float:
    """The median latency of the light query on the idle server (after a warm-up)."""
    light_latency(server)
    return statistics.median(light_latency(server)[1] for _ in range(5))


def while_running(
    server: Server, bad: Callable[[], httpx.Response], *, light_headers: dict[str, str] | None = None
) -> tuple[httpx.Response, list[tuple[int, float]]]:
    """Send ``bad`` in a thread and light queries (at least three) until it is answered."""
    answer: list[httpx.Response] = []
    thread = threading.Thread(target=lambda: answer.append(bad()))
    thread.start()
    time.sleep(0.2)
    lights: list[tuple[int, float]] = []
    while thread.is_alive() or len(lights) < 3:
        lights.append(light_latency(server, light_headers))
    thread.join()
    return answer[0], lights


def assert_healthy(lights: list[tuple[int, float]], usual: float) -> None:
    bound = max(2.0, 20 * usual)
    assert all(status == 200 for status, _ in lights), lights
    assert max(seconds for _, seconds in lights) < bound, (lights, usual)


def post_query(server: Server, query: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(
        server.endpoint,
        content=query.encode(),
        headers={"content-type": "application/sparql-query", "accept": JSON},
        timeout=timeout,
    )


# --- 1. one cheap request froze the event loop ------------------------------------------------------------
def test_quadratic_service_check_repro_is_answered_at_once(server: Server) -> None:
    usual = baseline(server)
    query = "SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } } " + "PREFIX a: <" * 30000
    response, lights = while_running(server, lambda: post_query(server, query))
    assert response.status_code == 400
    assert_healthy(lights, usual)
    home_start = time.perf_counter()
    assert httpx.get(server.url + "/", timeout=30).status_code == 200
    assert time.perf_counter() - home_start < max(2.0, 20 * usual)


# --- 3. queries that crashed a worker -----------------------------------------------------------------------
DEEP = {
    "not": "ASK { FILTER(" + "!" * 20000 + "true) }",
    "plus-one": "SELECT (1" + " +1" * 20000 + " AS ?x) {}",
    "union": "SELECT * {" + " UNION ".join(["{}"] * 40000) + "}",
    "path": "SELECT * { ?s " + "/".join(["<http://p>"] * 50000) + " ?o }",
}


@pytest.mark.parametrize("kind", sorted(DEEP))
def test_deep_expressions_without_brackets_are_a_400_and_kill_no_worker(server: Server, kind: str) -> None:
    usual = baseline(server)
    before = workers_of(server.process.pid)
    response, lights = while_running(server, lambda: post_query(server, DEEP[kind]))
    assert response.status_code == 400
    assert "operators, groups and clauses" in response.text
    assert_healthy(lights, usual)
    assert workers_of(server.process.pid) == before


@pytest.mark.parametrize(("path", "status"), [("/sparql", 502), ("/fail", 502)])
def test_a_remote_service_that_fails_is_a_502_without_its_body(
    server: Server, remote: str, path: str, status: int
) -> None:
    usual = baseline(server)
    before = workers_of(server.process.pid)
    query = f"SELECT * WHERE {{ SERVICE <http://{remote}{path}> {{ ?s ?p ?o }} }}"
    response, lights = while_running(server, lambda: post_query(server, query))
    assert response.status_code == status, response.text
    assert SECRET not in response.text
    assert "service distant" in response.text  # said in French too
    assert_healthy(lights, usual)
    assert workers_of(server.process.pid) == before


# --- 5. response size ---------------------------------------------------------------------------------------
def test_a_huge_answer_is_refused_past_the_cap(server: Server) -> None:
    usual = baseline(server)
    grow = '"' + "a" * 100 + '"'
    for _ in range(4):  # 100 characters × 10⁴: a 1 MB answer from a 300-byte query
        grow = f'REPLACE({grow}, "a", "aaaaaaaaaa")'
    query = f"SELECT (({grow}) AS ?x) WHERE {{}}"
    response, lights = while_running(server, lambda: post_query(server, query))
    assert response.status_code == 400
    assert "larger than 100000 bytes" in response.text
    assert_healthy(lights, usual)


# --- 4. light ad-hoc queries beside one client's heavy ones ------------------------------------------------
def test_one_clients_heavy_queries_do_not_starve_another_clients_light_ones(server: Server) -> None:
    usual = baseline(server)
    heavy_client = {"x-forwarded-for": "203.0.113.8"}  # uvicorn trusts it from 127.0.0.1

    def eight_heavy() -> httpx.Response:
        with httpx.Client(timeout=60) as client:
            threads = [
                threading.Thread(
                    target=client.get,
                    args=(server.endpoint,),
                    kwargs={"params": {"query": f"{HEAVY} # {i}"}, "headers": heavy_client},
                )
                for i in range(8)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return httpx.Response(200)

    _, lights = while_running(server, eight_heavy, light_headers={"x-forwarded-for": "203.0.113.1"})
    assert_healthy(lights, usual)


# --- 8. minor ---------------------------------------------------------------------------------------
def test_a_huge_header_is_a_431_before_anything_reads_it(server: Server) -> None:
    usual = baseline(server)
    accept = "application/sparql-results+json;q=0.5," * 50_000  # 2 MB

    def bad() -> httpx.Response:
        return httpx.get(server.endpoint, params={"query": LIGHT}, headers={"accept": accept}, timeout=60)

    response, lights = while_running(server, bad)
    assert response.status_code == 431
    assert_healthy(lights, usual)


# --- 7. worker lifecycle -----------------------------------------------------------------------------
def test_dead_idle_workers_are_replaced_and_the_request_answered(server: Server) -> None:
    light_latency(server)
    workers = workers_of(server.process.pid)
    assert workers
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    status, _ = light_latency(server)
    assert status == 200


def test_workers_die_with_the_server(built: Path, remote: str) -> None:
    port = free_port()
    args = cli("-q", "--root", str(built / "project"), "--build-dir", str(built / "build"), "serve")
    env = clean_env(BASSIN_KG_QUERY_TIMEOUT="60", BASSIN_KG_ACCESS_LOG="false")
    process = subprocess.Popen([*args, "--port", str(port)], env=env)
    try:
        url = f"http://127.0.0.1:{port}/sparql"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        busy = threading.Thread(
            target=lambda: _quietly(lambda: httpx.get(url, params={"query": HEAVY}, timeout=30)), daemon=True
        )
        busy.start()
        time.sleep(0.5)
        workers = workers_of(process.pid)
        assert workers
    finally:
        process.kill()  # kill -9: no cleanup of its own runs
        process.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.1)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # do not leave them behind if the test fails
        os.kill(pid, signal.SIGKILL)
    assert not alive, "query workers outlived the server"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _quietly(call: Callable[[], object]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        call()


# --- 3 and 6. LOAD of a non-RDF document, LOAD outside the allow-list -----------------------------------
def test_load_of_html_is_a_502_without_the_body_and_load_obeys_the_allow_list(
    built: Path, remote: str, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from bassin_kg.settings import Settings
    from bassin_kg.web.app import create_app

    # a store of the user's own (outside build/releases/), written in place
    store = Path(shutil.copytree((built / "build" / "current" / "store").resolve(), tmp_path / "store"))
    settings = Settings(
        store=store,
        enable_update=True,
        update_token="t0ken",
        service_allowlist=(remote,),
        max_concurrent_queries=1,
    )
    auth = {"authorization": "Bearer t0ken"}
    with TestClient(create_app(settings)) as client:
        for path in ("/page.html", "/fail"):
            response = client.post("/sparql", data={"update": f"LOAD <http://{remote}{path}>"}, headers=auth)
            assert response.status_code == 502, response.text
            assert SECRET not in response.text
        refused = client.post(
            "/sparql", data={"update": f"LOAD <http://127.0.0.1:{free_port()}/x>"}, headers=auth
        )
        assert refused.status_code == 400
        assert "allow-list" in refused.text
        assert client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
