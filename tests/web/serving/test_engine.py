"""Job evaluation and the worker-process engine (synthetic stores)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import anyio
import pyoxigraph as ox
import pytest

from bassin_kg.errors import StoreError
from bassin_kg.web.serving.engine import (
    GraphWriteJob,
    InProcessEngine,
    JobError,
    JobTimeoutError,
    ProcessEngine,
    QueryJob,
    StatsJob,
    _Worker,
    execute,
    open_store,
)

from ..conftest import ALPHA, BETA, EX, synthetic_quads


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


class _OutOfMemoryStore:
    """A store whose evaluation runs out of memory, as a query building huge strings can make it."""

    def query(self, *args: object, **kwargs: object) -> object:
        raise MemoryError


def test_a_query_out_of_memory_is_an_error_for_the_client_not_a_dead_worker() -> None:
    with pytest.raises(JobError) as caught:
        execute(_OutOfMemoryStore(), QueryJob("SELECT * { ?s ?p ?o }", "json", None))  # type: ignore[arg-type]
    assert caught.value.kind == "internal"
    assert "memory" in caught.value.message


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


def test_a_worker_dead_while_idle_is_replaced_and_the_job_runs(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1)
    try:
        engine.start()
        (worker,) = engine._workers.values()
        worker.process.kill()
        worker.process.wait()
        job = QueryJob("ASK { ?s ?p ?o }", "json", None)
        # issue 16: not a 500 for a worker that died before it got the job
        assert json.loads(anyio.run(engine.run, job, 5.0).body)["boolean"] is True
        assert worker not in engine._workers.values()
    finally:
        engine.close()
    assert not engine._workers


def test_a_worker_dead_while_running_is_reported_and_replaced(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1)
    # 10^9 rows to count, whatever the store holds: still running when the worker is killed
    numbers = " ".join(str(i) for i in range(1000))
    heavy = QueryJob(
        f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {numbers} }} VALUES ?b {{ {numbers} }} "
        f"VALUES ?c {{ {numbers} }} }}",
        "json",
        None,
    )

    async def kill_while_running() -> None:
        async def kill_soon() -> None:
            await anyio.sleep(0.3)
            for running in list(engine._workers.values()):
                running.process.kill()

        async with anyio.create_task_group() as group:
            group.start_soon(kill_soon)
            with pytest.raises(JobError, match="stopped unexpectedly"):
                await engine.run(heavy, 30.0)

    try:
        engine.start()
        anyio.run(kill_while_running)
        job = QueryJob("ASK { ?s ?p ?o }", "json", None)
        assert json.loads(anyio.run(engine.run, job, 5.0).body)["boolean"] is True
    finally:
        engine.close()


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
    # 10^9 rows to count, whatever the store holds: still running when the worker is killed
    numbers = " ".join(str(i) for i in range(1000))
    heavy = QueryJob(
        f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {{ {numbers} }} VALUES ?b {{ {numbers} }} "
        f"VALUES ?c {{ {numbers} }} }}",
        "json",
        None,
    )
    try:
        with pytest.raises(JobTimeoutError):
            anyio.run(engine.run, heavy, 0.2)
    finally:
        engine.close()


# --- in-memory copies (read-only serving) -----------------------------------------------------------------
def _files_open_under(pid: int, folder: Path) -> list[str]:
    """Paths under ``folder`` that process ``pid`` holds open (Linux /proc)."""
    opened = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(folder.resolve())):
            opened.append(target)
    return opened


LOOKUP = f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}"


def _answers(engine: ProcessEngine, queries: list[str]) -> list[object]:
    """Each answer, its rows sorted: without ORDER BY the two stores may give them in another order."""
    answers: list[object] = []
    for query in queries:
        answer = json.loads(anyio.run(engine.run, QueryJob(query, "json", "nt"), 10.0).body)
        if "results" in answer:
            answer["results"]["bindings"].sort(key=lambda row: json.dumps(row, sort_keys=True))
        answers.append(answer)
    return answers


def test_workers_read_an_in_memory_copy_of_a_small_store(store_path: Path) -> None:
    queries = [LOOKUP, "SELECT * { ?s ?p ?o } ORDER BY ?s ?p ?o", f"ASK {{ <{EX}c> ?p 3 }}"]
    on_disk = ProcessEngine(store_path, writable=False, size=1)
    in_memory = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=5)
    try:
        on_disk.start()
        in_memory.start()
        ((disk_worker,),) = [list(on_disk._workers.values())]
        ((memory_worker,),) = [list(in_memory._workers.values())]
        # the copy holds nothing of RocksDB open; the other worker reads the store's files
        assert _files_open_under(disk_worker.process.pid, store_path)
        assert not _files_open_under(memory_worker.process.pid, store_path)
        assert _answers(in_memory, queries) == _answers(on_disk, queries)
    finally:
        on_disk.close()
        in_memory.close()


def test_a_store_above_the_limit_is_read_from_disk(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=4)  # it holds 5
    try:
        engine.start()
        (worker,) = engine._workers.values()
        assert _files_open_under(worker.process.pid, store_path)
        assert engine._local is None
    finally:
        engine.close()


def test_the_snapshot_leaves_no_file_behind(
    store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    engine = ProcessEngine(store_path, writable=False, size=2, memory_max_quads=100)
    try:
        engine.start()
        assert engine._snapshot is not None
        assert list(scratch.iterdir()) == []  # an unnamed file, even while it is in use
    finally:
        engine.close()
    assert engine._snapshot is None


def test_a_worker_killed_on_timeout_comes_back_with_the_copy(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=100)
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(12))
    heavy = QueryJob(f"SELECT (COUNT(*) AS ?n) {{ {patterns} }}", "json", None)
    try:
        engine.start()
        (first,) = engine._workers.values()
        for _ in range(3):  # 5^12 rows: far more than 0.2 s
            with pytest.raises(JobTimeoutError):
                anyio.run(engine.run, heavy, 0.2)
        assert first.process.poll() is not None
        (answer,) = _answers(engine, [LOOKUP])
        assert answer["results"]["bindings"]  # type: ignore[index]
        (worker,) = engine._workers.values()
        assert not _files_open_under(worker.process.pid, store_path)
    finally:
        engine.close()


# --- subject lookups answered in this process ------------------------------------------------------------
def test_a_subject_lookup_is_answered_without_a_worker(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=100)
    try:
        engine.start()
        assert engine._local is not None
        bounded = QueryJob(LOOKUP, "json", None, bounded=True)
        outcome = engine.run_now(bounded)
        assert outcome is not None
        # the same bytes a worker gives
        assert outcome.body == anyio.run(engine.run, bounded, 10.0).body
        assert engine.run_now(QueryJob(LOOKUP, "json", None)) is None  # not marked bounded
        # a dataset of its own, or not the union: the workers
        assert engine.run_now(QueryJob(LOOKUP, "json", None, default_graphs=(ALPHA,), bounded=True)) is None
        assert engine.run_now(QueryJob(LOOKUP, "json", None, union_default_graph=False, bounded=True)) is None
        with pytest.raises(JobError) as caught:
            engine.run_now(QueryJob(LOOKUP, None, "nt", bounded=True))
        assert caught.value.kind == "not_acceptable"
    finally:
        engine.close()
    assert engine._local is None


def test_no_lookup_in_process_when_a_subject_has_too_many_triples(store_path: Path) -> None:
    # <a> has 3 triples in the union: above a bound of 2, lookups go to the workers
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=100, local_max_rows=2)
    try:
        engine.start()
        assert engine._local is None
        assert engine.run_now(QueryJob(LOOKUP, "json", None, bounded=True)) is None
        assert json.loads(anyio.run(engine.run, QueryJob(LOOKUP, "json", None), 10.0).body)
    finally:
        engine.close()


def test_without_a_copy_nothing_runs_in_process(store_path: Path) -> None:
    engine = ProcessEngine(store_path, writable=False, size=1)
    try:
        engine.start()
        assert engine.run_now(QueryJob(LOOKUP, "json", None, bounded=True)) is None
    finally:
        engine.close()


def test_without_a_temporary_folder_the_workers_read_the_store(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", refused)
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=100)
    try:
        engine.start()
        assert engine._snapshot is None
        assert engine._local is None
        (worker,) = engine._workers.values()
        assert _files_open_under(worker.process.pid, store_path)  # the store on disk, as before
        (answer,) = _answers(engine, [LOOKUP])
        assert answer["results"]["bindings"]  # type: ignore[index]
    finally:
        engine.close()


def test_the_worker_that_answered_last_takes_the_next_job(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last in, first out: one client's queries keep going to one worker, whose copy is in the caches."""
    used: list[int] = []
    original = _Worker.exchange

    async def recording(self: _Worker, timeout: float) -> object:
        used.append(self.process.pid)
        return await original(self, timeout)

    monkeypatch.setattr(_Worker, "exchange", recording)
    engine = ProcessEngine(store_path, writable=False, size=3, memory_max_quads=100)
    try:
        engine.start()
        assert len(engine._workers) == 3
        for _ in range(4):
            anyio.run(engine.run, QueryJob("SELECT * { ?s ?p ?o }", "json", None), 10.0)
    finally:
        engine.close()
    assert len(used) == 4
    assert len(set(used)) == 1, used


def test_a_job_cancelled_while_it_runs_takes_its_worker_with_it(store_path: Path) -> None:
    """Its reply would come later, as the answer to the next job: the worker is killed and replaced."""
    engine = ProcessEngine(store_path, writable=False, size=1, memory_max_quads=100)
    patterns = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(12))
    heavy = QueryJob(f"SELECT (COUNT(*) AS ?n) {{ {patterns} }}", "json", None)

    async def cancelled() -> None:
        with anyio.move_on_after(0.2):  # the client went away
            await engine.run(heavy, 30.0)

    try:
        engine.start()
        (first,) = engine._workers.values()
        anyio.run(cancelled)
        assert first.process.poll() is not None
        (answer,) = _answers(engine, [LOOKUP])
        assert answer["results"]["bindings"]  # type: ignore[index]
    finally:
        engine.close()
