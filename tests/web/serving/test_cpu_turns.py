"""CPU turns: at most one evaluating query per CPU, unless a query runs longer than its turn."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass

import anyio
import pytest

from bassin_kg.settings import Settings
from bassin_kg.web.serving.engine import Job, Outcome, QueryJob
from bassin_kg.web.sparql import ProtocolError, SparqlService


@dataclass
class SleepingEngine:
    """Each job 'evaluates' for as many seconds as its query text says; records how many ran at once."""

    writable: bool = False
    size: int = 4
    running: int = 0
    most: int = 0

    async def run(self, job: Job, timeout: float) -> Outcome:
        assert isinstance(job, QueryJob)
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            await asyncio.sleep(float(job.query))
        finally:
            self.running -= 1
        return Outcome(b"{}", "json")

    def run_now(self, job: Job) -> Outcome | None:
        return None

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass


def _service(engine: SleepingEngine, **settings: float) -> SparqlService:
    return SparqlService(Settings(**settings), engine, "test-release")  # type: ignore[arg-type]


def _run_together(service: SparqlService, seconds: list[float]) -> float:
    """Run one job per entry of ``seconds`` at once; the time they all took."""

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for duration in seconds:
                group.start_soon(service.run, QueryJob(str(duration), "json", None))

    started = time.monotonic()
    anyio.run(main)
    return time.monotonic() - started


def test_short_queries_evaluate_one_per_cpu() -> None:
    engine = SleepingEngine()
    service = _service(engine, query_cpus=2, query_turn=5.0)
    elapsed = _run_together(service, [0.1] * 4)
    assert engine.most == 2  # four workers, but only two turns
    assert elapsed >= 0.2


def test_a_query_longer_than_its_turn_lets_the_next_start() -> None:
    engine = SleepingEngine()
    service = _service(engine, query_cpus=1, query_turn=0.02)
    elapsed = _run_together(service, [0.5] * 3)
    assert engine.most == 3
    assert elapsed < 1.0  # one after the other would take 1.5 s


def test_without_a_limit_set_there_is_one_turn_per_usable_cpu() -> None:
    engine = SleepingEngine(size=64)
    service = _service(engine, query_turn=5.0)
    _run_together(service, [0.05] * 8)
    assert engine.most == min(8, len(os.sched_getaffinity(0)))


def test_waiting_for_a_turn_counts_towards_the_queue_timeout() -> None:
    engine = SleepingEngine()
    service = _service(engine, query_cpus=1, query_turn=5.0, query_timeout=0.1)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(service.run, QueryJob("0.5", "json", None))
            await anyio.sleep(0.02)
            with pytest.raises(ProtocolError) as refused:
                await service.run(QueryJob("0.01", "json", None))
            assert refused.value.status == 503

    anyio.run(main)
    assert engine.most == 1


def test_a_job_cancelled_while_waiting_gives_back_what_it_took() -> None:
    engine = SleepingEngine()  # 4 workers: 3 for public jobs
    service = _service(engine, query_cpus=1, query_turn=0.05)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(service.run, QueryJob("0.3", "json", None))
            await anyio.sleep(0.01)
            # holds a public slot and a worker, waits for the turn; then its client goes away
            with anyio.move_on_after(0.02):
                await service.run(QueryJob("0.01", "json", None), public=True)
        engine.most = 0
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(lambda: service.run(QueryJob("0.3", "json", None), public=True))

    anyio.run(main)
    assert engine.most == 3  # a leaked public slot would leave room for 2
