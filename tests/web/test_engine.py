"""Job evaluation and the worker-process engine (synthetic stores)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import pyoxigraph as ox
import pytest

from bassin_kg.errors import StoreError
from bassin_kg.web.engine import (
    GraphWriteJob,
    InProcessEngine,
    JobError,
    JobTimeoutError,
    ProcessEngine,
    QueryJob,
    StatsJob,
    execute,
    open_store,
)

from .conftest import ALPHA, BETA, EX, synthetic_quads


@pytest.fixture
def memory_store() -> ox.Store:
    store = ox.Store()
    store.extend(synthetic_quads())
    return store


def test_select_is_serialised_in_the_solutions_format(memory_store: ox.Store) -> None:
    outcome = execute(memory_store, QueryJob("SELECT * { ?s ?p ?o }", "json", "ttl"))
    assert outcome.format == "json"
    assert len(json.loads(outcome.body)["results"]["bindings"]) == 5


def test_construct_without_graph_format_is_not_acceptable(memory_store: ox.Store) -> None:
    with pytest.raises(JobError) as caught:
        execute(memory_store, QueryJob("CONSTRUCT WHERE { ?s ?p ?o }", "json", None))
    assert caught.value.kind == "not_acceptable"


def test_syntax_error(memory_store: ox.Store) -> None:
    with pytest.raises(JobError) as caught:
        execute(memory_store, QueryJob("SELECT", "json", None))
    assert caught.value.kind == "syntax"


def test_without_union_the_default_graph_is_the_stores_own(memory_store: ox.Store) -> None:
    outcome = execute(
        memory_store, QueryJob("SELECT * { ?s ?p ?o }", "json", None, union_default_graph=False)
    )
    assert json.loads(outcome.body)["results"]["bindings"] == []


def test_stats(memory_store: ox.Store) -> None:
    stats = execute(memory_store, StatsJob()).stats
    assert stats is not None
    assert stats.named == ((ALPHA, 3), (BETA, 2))
    assert (stats.default_graph_triples, stats.union_triples) == (0, 5)


def test_bad_graph_body_changes_nothing(memory_store: ox.Store) -> None:
    with pytest.raises(JobError) as caught:
        execute(memory_store, GraphWriteJob(ALPHA, b"<x> <y> .", "text/turtle", replace=True))
    assert caught.value.kind == "bad_data"
    assert len(list(memory_store.quads_for_pattern(None, None, None, ox.NamedNode(ALPHA)))) == 3


def test_open_missing_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="bassin-kg build"):
        open_store(tmp_path / "nowhere", writable=False)


def test_open_corrupt_store(tmp_path: Path) -> None:
    corrupt = tmp_path / "store"
    corrupt.mkdir()
    (corrupt / "CURRENT").write_text("MANIFEST-999999\n")
    with pytest.raises(StoreError, match="corrupt"):
        open_store(corrupt, writable=False)


def test_a_dead_worker_is_replaced(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1)
    try:
        engine.start()
        (worker,) = engine._workers.values()
        worker.process.kill()
        worker.process.wait()
        job = QueryJob("ASK { ?s ?p ?o }", "json", None)
        with pytest.raises(JobError, match="stopped unexpectedly"):
            anyio.run(engine.run, job, 5.0)
        deadline = time.monotonic() + 10
        while not engine._workers and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(anyio.run(engine.run, job, 5.0).body)["boolean"] is True
    finally:
        engine.close()
    assert not engine._workers


def test_worker_reports_a_store_it_cannot_open(tmp_path: Path) -> None:
    engine = ProcessEngine(tmp_path / "gone", writable=False, size=1)
    try:
        with pytest.raises(StoreError, match="no store"):
            anyio.run(engine.run, QueryJob("ASK {}", "json", None), 5.0)
    finally:
        engine.close()


def test_in_process_engine_answers_the_timeout(memory_store: ox.Store) -> None:
    for i in range(400):
        memory_store.add(ox.Quad(ox.NamedNode(f"{EX}n{i}"), ox.NamedNode(EX + "p"), ox.Literal(str(i))))
    engine = InProcessEngine(memory_store, writable=False, size=1)
    heavy = QueryJob("SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", "json", None)
    try:
        with pytest.raises(JobTimeoutError):
            anyio.run(engine.run, heavy, 0.2)
    finally:
        engine.close()
