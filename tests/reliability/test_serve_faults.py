"""Serving through faults: a missing or corrupt store at start, and new builds while requests run.

The server is a real ``bassin-kg serve`` process on 127.0.0.1 serving ``build/current``; the builds run
in this process (fast synthetic converters, see conftest.py) and switch ``current`` under it.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from bassin_kg.settings import Settings
from bassin_kg.web.app import create_app
from bassin_kg.web.serving.engine import QueryJob
from bassin_kg.web.serving.releases import _PINNED, ReleaseEngine
from serving import clean_env, cli

from .conftest import (
    COUNTS_QUERY,
    counts_of,
    fast_build,
    graph_counts,
    set_extra_labels,
    start_server,
)


# --- start-up errors ----------------------------------------------------------------------------------------
def _serve_fails(tmp_path: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        cli(*args, "--port", "9"), env=clean_env(), capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("bassin-kg serve: error: ")
    assert len(done.stderr.strip().splitlines()) == 1, "one line, not a dump"
    return done.stderr


def test_serve_on_a_missing_store_is_one_clear_error(tmp_path: Path) -> None:
    message = _serve_fails(tmp_path, "serve", "--store", str(tmp_path / "missing"))
    assert f"no store at {tmp_path / 'missing'}" in message
    assert "bassin-kg build" in message


def test_serve_without_any_build_says_to_build(tmp_path: Path) -> None:
    message = _serve_fails(tmp_path, "--root", str(tmp_path), "serve")
    assert str(tmp_path / "build" / "current" / "store") in message
    assert "run `bassin-kg build` first" in message


@pytest.mark.parametrize("workers", ["1", "3"])
def test_serve_on_a_corrupt_store_is_one_clear_error(tmp_path: Path, workers: str) -> None:
    corrupt = tmp_path / "store"
    corrupt.mkdir()
    # garbage where RocksDB expects its CURRENT, MANIFEST and table files
    (corrupt / "CURRENT").write_bytes(b"\x00\xffnot a manifest name")
    (corrupt / "MANIFEST-000001").write_bytes(bytes(range(256)) * 8)
    (corrupt / "000001.sst").write_bytes(b"garbage" * 100)
    message = _serve_fails(tmp_path, "serve", "--store", str(corrupt), "--workers", workers)
    assert f"cannot open the store at {corrupt}" in message
    assert "corrupt" in message
    assert "bassin-kg build" in message


def test_serve_on_a_store_with_damaged_tables_is_one_clear_error(tmp_path: Path) -> None:
    import pyoxigraph as ox

    store_path = tmp_path / "store"
    store = ox.Store(str(store_path))
    store.extend(
        ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"), ox.Literal(i))
        for i in range(2000)
    )
    store.flush()
    store.optimize()
    del store
    tables = sorted(store_path.glob("*.sst"))
    assert tables
    for table in tables:  # flip bytes: the files exist and are listed, their content is wrong
        data = bytearray(table.read_bytes())
        for i in range(0, len(data), 7):
            data[i] ^= 0x5A
        table.write_bytes(bytes(data))
    message = _serve_fails(tmp_path, "serve", "--store", str(store_path))
    assert "corrupt" in message


# --- new builds while requests run --------------------------------------------------------------------------
def _hammer(
    url: str, stop: threading.Event, seen: list[tuple[float, int, str, dict[str, int] | str]]
) -> None:
    with httpx.Client(timeout=30) as client:
        while not stop.is_set():
            response = client.get(
                url, params={"query": COUNTS_QUERY}, headers={"accept": "application/sparql-results+json"}
            )
            body = counts_of(response.json()) if response.status_code == 200 else response.text
            seen.append((time.monotonic(), response.status_code, response.headers.get("etag", ""), body))


def test_requests_see_the_old_or_the_new_release_never_a_mix(project: Settings) -> None:
    set_extra_labels(project.root, 0)
    versions = [graph_counts(fast_build(project), project)]
    server_cm = start_server(
        cli("-q", "--root", str(project.root), "--build-dir", str(project.build_root), "serve"),
        env=clean_env(BASSIN_KG_MAX_CONCURRENT_QUERIES="2"),
    )
    server = next(server_cm)
    stop = threading.Event()
    seen: list[tuple[float, int, str, dict[str, int] | str]] = []
    threads = [threading.Thread(target=_hammer, args=(server.endpoint, stop, seen)) for _ in range(4)]
    for thread in threads:
        thread.start()
    switched: list[float] = []
    try:
        for extra in (5, 11):  # two new builds, each with a different input
            time.sleep(0.5)
            set_extra_labels(project.root, extra)
            versions.append(graph_counts(fast_build(project), project))
            switched.append(time.monotonic())
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    try:
        assert len({tuple(sorted(v.items())) for v in versions}) == 3, "the inputs must change the counts"
        assert len(seen) > 30, "too few requests to say anything"
        errors = [s for s in seen if s[1] != 200]
        assert not errors, errors[:3]
        # every answer is exactly one release's counts, and one ETag always comes with the same counts
        by_etag: dict[str, dict[str, int]] = {}
        for _, _, etag, body in seen:
            assert body in versions, f"an answer mixes releases: {body}"
            assert by_etag.setdefault(etag, body) == body
        assert len(by_etag) == 3, "each release has its own ETag"
        # after each switch, the new release is seen (a request started before it may still see the old)
        for index, moment in enumerate(switched, start=1):
            later = [body for at, _, _, body in seen if at > moment + 0.3]
            assert later
            assert all(versions.index(body) >= index for body in later)  # type: ignore[arg-type]
        # and a fresh request sees the last one, with its own ETag
        etag, counts = server.counts()
        assert counts == versions[-1]
        assert by_etag[etag] == versions[-1]
    finally:
        server_cm.close()


async def _counts_pinned_to(engine: ReleaseEngine, release: Path) -> dict[str, int]:
    token = _PINNED.set((id(engine), release))
    try:
        outcome = await engine.run(QueryJob(COUNTS_QUERY, "json", None), 10.0)
    finally:
        _PINNED.reset(token)
    return counts_of(json.loads(outcome.body))


def test_an_app_follows_current_and_pins_one_release_per_request(project: Settings) -> None:
    """In-process: the page-level view. A request pinned before a switch reads its release to the end."""
    set_extra_labels(project.root, 0)
    first = graph_counts(fast_build(project), project)
    app = create_app(Settings(root=project.root, build_dir=project.build_root, max_concurrent_queries=1))
    with TestClient(app) as client:
        engine = app.state.sparql.engine
        assert isinstance(engine, ReleaseEngine)
        old = client.get("/sparql", params={"query": COUNTS_QUERY}, headers={"accept": "application/json"})
        assert counts_of(old.json()) == first
        old_release = engine.pin()
        set_extra_labels(project.root, 3)
        second = graph_counts(fast_build(project), project)
        # a request that pinned the old release before the switch keeps reading it
        assert anyio.run(_counts_pinned_to, engine, old_release) == first
        assert anyio.run(_counts_pinned_to, engine, engine.pin()) == second
        new = client.get("/sparql", params={"query": COUNTS_QUERY}, headers={"accept": "application/json"})
        assert counts_of(new.json()) == second
        assert new.headers["etag"] != old.headers["etag"]
        assert new.headers["x-cache"] == "miss", "an answer of the old release was served from the cache"
        # the old release's workers are stopped once no request uses them
        deadline = time.monotonic() + 10
        while len(engine.pools) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(engine.pools) == [project.current_release.resolve() / "store"]
        # a conditional request with the old ETag gets the new data, not a 304
        again = client.get(
            "/sparql",
            params={"query": COUNTS_QUERY},
            headers={"accept": "application/json", "if-none-match": old.headers["etag"]},
        )
        assert again.status_code == 200


def test_several_worker_processes_serve_one_store_and_follow_a_new_build(project: Settings) -> None:
    """``bassin-kg serve --workers 3``: uvicorn processes over one read-only store, each following
    ``build/current``; the answers are the same whichever process takes the request."""
    set_extra_labels(project.root, 0)
    first = graph_counts(fast_build(project), project)
    args = cli("-q", "--root", str(project.root), "--build-dir", str(project.build_root), "serve")
    server_cm = start_server(
        [*args, "--workers", "3"],
        env=clean_env(BASSIN_KG_MAX_CONCURRENT_QUERIES="1", BASSIN_KG_ACCESS_LOG="false"),
    )
    server = next(server_cm)
    try:
        # httpx.get opens a new connection each time, so the requests spread over the processes
        answers = {tuple(sorted(server.counts()[1].items())) for _ in range(12)}
        assert answers == {tuple(sorted(first.items()))}
        set_extra_labels(project.root, 4)
        second = graph_counts(fast_build(project), project)
        etags = set()
        for _ in range(12):
            etag, counts = server.counts()
            etags.add(etag)
            assert counts == second
        assert len(etags) == 1, "every process names the new release the same way"
    finally:
        server_cm.close()
