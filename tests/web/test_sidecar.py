"""The optional sidecar engine: queries answered by an ``oxigraph serve-read-only`` beside the server.

The stores are the synthetic ones of conftest.py and test_sparql_protocol.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg.errors import UsageError
from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.engine import Job, Outcome, ProcessEngine
from bassin_kg.web.sidecar import SidecarEngine, SidecarReleaseEngine

from .conftest import ALPHA, EX, ClientFactory, write_store
from .test_sparql_protocol import HEAVY

SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
CONSTRUCT_ALL = "CONSTRUCT WHERE { ?s ?p ?o }"


def _engine(client: TestClient) -> SidecarEngine:
    engine = client.app.state.sparql.engine  # type: ignore[attr-defined]
    assert isinstance(engine, SidecarReleaseEngine)
    current = engine.current()
    assert isinstance(current, SidecarEngine)
    return current


@pytest.fixture
def worker_jobs(monkeypatch: pytest.MonkeyPatch) -> list[Job]:
    """Jobs that reached the worker processes rather than the sidecar."""
    jobs: list[Job] = []
    original = ProcessEngine.run

    async def recording(self: ProcessEngine, job: Job, timeout: float) -> Outcome:
        jobs.append(job)
        return await original(self, job, timeout)

    monkeypatch.setattr(ProcessEngine, "run", recording)
    return jobs


def test_answers_are_the_workers_answers(make_client: ClientFactory, worker_jobs: list[Job]) -> None:
    workers = make_client()
    sidecar = make_client(query_engine="sidecar")
    cases = [
        (SELECT_ALL, "application/sparql-results+json"),
        (SELECT_ALL, "text/csv"),
        ("ASK { ?s ?p 3 }", "application/sparql-results+xml"),
        (CONSTRUCT_ALL, "text/turtle"),
        (CONSTRUCT_ALL, "application/n-triples"),
    ]
    for query, accept in cases:
        expected = workers.get("/sparql", params={"query": query}, headers={"accept": accept})
        worker_count = len(worker_jobs)
        answer = sidecar.get("/sparql", params={"query": query}, headers={"accept": accept})
        assert answer.status_code == expected.status_code == 200
        assert answer.headers["content-type"] == expected.headers["content-type"]
        assert len(worker_jobs) == worker_count, f"{query} / {accept} went to the workers"
        if accept == "text/turtle":
            # the project's prefixes are declared, as the workers declare them
            assert answer.text.startswith("@prefix")
            assert "rdfs:label" in answer.text
        assert answer.content == expected.content, (query, accept)


def test_a_form_without_an_acceptable_format_is_406(make_client: ClientFactory) -> None:
    workers = make_client()
    sidecar = make_client(query_engine="sidecar")
    for query, accept in ((SELECT_ALL, "text/turtle"), (CONSTRUCT_ALL, "text/csv")):
        expected = workers.get("/sparql", params={"query": query}, headers={"accept": accept})
        answer = sidecar.get("/sparql", params={"query": query}, headers={"accept": accept})
        assert answer.status_code == expected.status_code == 406
        assert answer.text == expected.text


def test_a_protocol_dataset_goes_to_the_workers(make_client: ClientFactory, worker_jobs: list[Job]) -> None:
    client = make_client(query_engine="sidecar")
    response = client.get("/sparql", params={"query": SELECT_ALL, "default-graph-uri": ALPHA})
    assert response.status_code == 200
    assert len(response.json()["results"]["bindings"]) == 3
    assert len(worker_jobs) == 1


def test_a_malformed_query_is_400(make_client: ClientFactory) -> None:
    response = make_client(query_engine="sidecar").get("/sparql", params={"query": "SELEKT nothing"})
    assert response.status_code == 400
    assert response.text.startswith("malformed query: ")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_a_heavy_query_is_stopped_by_the_sidecar(tmp_path: Path) -> None:
    # SYNTHETIC: 3000 generated triples, so HEAVY (a triple cross join) has 2.7e10 solutions
    graph = ox.NamedNode(EX + "graph/heavy")
    quads = [
        ox.Quad(ox.NamedNode(f"{EX}n{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i)), graph)
        for i in range(3000)
    ]
    store = write_store(tmp_path / "heavy", quads)
    settings = Settings(store=store, query_timeout=0.5, max_concurrent_queries=2, query_engine="sidecar")
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        response = client.get("/sparql", params={"query": HEAVY})
        assert response.status_code == 503
        assert "stopped after 0.5 s" in response.text
        assert time.monotonic() - started < 2
        sidecar = _engine(client)._sidecar
        assert sidecar is not None
        # Oxigraph cancels the evaluation at its --timeout-s (1 s, whole seconds): then it stays idle
        time.sleep(2.5)
        before = _cpu_ticks(sidecar.process.pid)
        time.sleep(1.0)
        assert _cpu_ticks(sidecar.process.pid) - before <= 5  # 50 ms of CPU in 1 s: not evaluating
        light = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
        assert light.status_code == 200


def test_a_dead_sidecar_is_started_again(make_client: ClientFactory) -> None:
    client = make_client(query_engine="sidecar")
    engine = _engine(client)
    first = engine._sidecar
    assert first is not None
    first.process.kill()
    first.process.wait()
    response = client.get("/sparql", params={"query": SELECT_ALL})
    assert response.status_code == 200
    assert engine._sidecar is not None
    assert engine._sidecar is not first
    assert engine._sidecar.process.poll() is None


def test_closing_stops_the_sidecar(store_path: Path) -> None:
    with TestClient(create_app(Settings(store=store_path, query_engine="sidecar"))) as client:
        sidecar = _engine(client)._sidecar
        assert sidecar is not None
        assert sidecar.process.poll() is None
    assert sidecar.process.poll() is not None


def test_an_unknown_engine_is_a_usage_error(store_path: Path) -> None:
    with pytest.raises(UsageError, match="query engine 'fast'"):
        create_app(Settings(store=store_path, query_engine="fast"))
