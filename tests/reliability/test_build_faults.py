"""A build interrupted at any step leaves the published release intact and servable; the next one succeeds.

Faults are injected in-process at each of the five steps (convert, load, validate, dump, publish), as an
exception and as Ctrl-C; and once for real: ``bassin-kg build`` in a subprocess, SIGKILLed while it
validates, with a server answering from the published release all along.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

import bassin_kg.release as release_module
import bassin_kg.release.build as build_module
import bassin_kg.validate
from bassin_kg.errors import UsageError
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release import LOCK_FILE, RELEASE_FILE
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources import ontology
from bassin_kg.store import open_read_only
from bassin_kg.web.app import create_app
from serving import clean_env, cli

from .conftest import (
    COUNTS_QUERY,
    Server,
    counts_of,
    fast_build,
    graph_counts,
    make_project,
    snapshot,
    start_server,
    synthetic_fap2009,
)


class InjectedFaultError(Exception):
    """The fault a test injects (not an error of the code under test)."""


def _raise(kind: type[BaseException]) -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise kind("injected fault")

    return fail


def _inject(monkeypatch: pytest.MonkeyPatch, step: str, kind: type[BaseException]) -> None:
    """Make ``step`` of the next build fail with ``kind``."""
    targets = {
        "convert": (build_module, "convert_all"),
        "load": (build_module, "load_parts"),
        "validate": (bassin_kg.validate, "validate_ntriples"),
        "dump": (build_module, "write_dumps"),
        "publish": (release_module, "switch_current"),
    }
    owner, name = targets[step]
    monkeypatch.setattr(owner, name, _raise(kind))


def _store_counts(store_path: Path) -> dict[str, int]:
    store = open_read_only(store_path)
    counts = {
        row["g"].value: int(row["n"].value)
        for row in store.query(COUNTS_QUERY)  # type: ignore[union-attr]
    }
    del store
    return counts


STEPS = ["convert", "load", "validate", "dump", "publish"]
CASES = [(step, InjectedFaultError) for step in STEPS] + [
    ("validate", KeyboardInterrupt),  # Ctrl-C
    ("dump", KeyboardInterrupt),
    ("dump", OSError),  # disk full
]


@pytest.fixture(scope="module")
def published_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A synthetic project with one published release, built once and copied by each test."""
    folder = tmp_path_factory.mktemp("published")
    root = make_project(folder / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
        )
        result = fast_build(Settings(root=root, build_dir=folder / "build"))
    return folder, result.release_id


@pytest.mark.parametrize(("step", "kind"), CASES, ids=[f"{s}-{k.__name__}" for s, k in CASES])
def test_a_fault_at_any_step_keeps_the_published_release(
    published_template: tuple[Path, str],
    tmp_path: Path,
    fast_converters: None,
    monkeypatch: pytest.MonkeyPatch,
    step: str,
    kind: type[BaseException],
) -> None:
    template, first = published_template
    shutil.copytree(template, tmp_path, symlinks=True, dirs_exist_ok=True)
    project = Settings(root=tmp_path / "project", build_dir=tmp_path / "build", keep_releases=2)
    current = project.current_release
    expected = _store_counts(current / "store")
    target = os.readlink(current)
    before = snapshot(current)
    app = create_app(Settings(root=project.root, build_dir=project.build_root, max_concurrent_queries=1))
    with TestClient(app) as client:
        with monkeypatch.context() as patch:
            _inject(patch, step, kind)
            with pytest.raises(kind, match="injected fault"):
                fast_build(project)
        # the link, every file of the release, and what the server answers are unchanged
        assert os.readlink(current) == target
        assert snapshot(current) == before
        assert _store_counts(current / "store") == expected
        answer = client.get("/sparql", params={"query": COUNTS_QUERY}, headers={"accept": "application/json"})
        assert answer.status_code == 200
        assert counts_of(answer.json()) == expected
    # the half-written release is gone (even its store's late writes), and the lock is free
    assert sorted(p.name for p in (project.build_root / "releases").iterdir()) == [first]
    assert not (project.build_root / LOCK_FILE).read_text().strip(), "the lock file was not released"
    if kind is InjectedFaultError:
        second = fast_build(project)
        assert os.readlink(current).endswith(second.release_id)
        assert not second.notes or not any("interrupted" in note for note in second.notes)


def test_a_build_running_elsewhere_is_refused_naming_its_pid(project: Settings) -> None:
    project.build_root.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            "python3",
            "-c",
            "import fcntl, os, sys, time\n"
            f"f = open({str(project.build_root / LOCK_FILE)!r}, 'a+')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\n"
            "f.write(f'{os.getpid()}\\n'); f.flush()\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"locked\n"
        with pytest.raises(UsageError, match=rf"another build \(pid {holder.pid}\) is running"):
            fast_build(project)
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout:
            holder.stdout.close()
    # the holder died without cleaning up: its pid is still in the file, yet the build goes on
    result = fast_build(project)
    assert any(f"pid {holder.pid}" in note and "interrupted" in note for note in result.notes)


# --- a real kill --------------------------------------------------------------------------------------------
def _hammer(server: Server, stop: threading.Event, seen: list[tuple[int, dict[str, int] | str]]) -> None:
    with httpx.Client(timeout=20) as client:
        while not stop.is_set():
            try:
                response = client.get(
                    server.endpoint, params={"query": COUNTS_QUERY}, headers={"accept": "application/json"}
                )
            except httpx.TransportError as exc:
                seen.append((0, repr(exc)))
                continue
            body = counts_of(response.json()) if response.status_code == 200 else response.text
            seen.append((response.status_code, body))
            time.sleep(0.05)


def test_a_killed_build_process_leaves_the_publication_servable(
    tmp_path: Path, fast_converters: None
) -> None:
    """SIGKILL of ``bassin-kg build`` (real data, real converters) while it validates."""
    root = make_project(tmp_path / "project", real_data=True)
    settings = Settings(root=root, keep_releases=2)
    first = fast_build(settings)  # the published release, by the quick synthetic build
    expected = graph_counts(first, settings)
    current = settings.current_release
    target = os.readlink(current)
    before = snapshot(current)

    server_cm = start_server(cli("-q", "--root", str(root), "serve"), env=clean_env())
    server = next(server_cm)
    stop = threading.Event()
    seen: list[tuple[int, dict[str, int] | str]] = []
    hammer = threading.Thread(target=_hammer, args=(server, stop, seen))
    hammer.start()
    try:
        build = subprocess.Popen(
            cli("--root", str(root), "build"),
            env=clean_env(),
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
        )
        watchdog = threading.Timer(120, build.kill)
        watchdog.start()
        progress: list[str] = []
        try:
            assert build.stderr is not None
            for raw in build.stderr:
                progress.append(raw.decode())
                if "validate" in progress[-1]:
                    build.send_signal(signal.SIGKILL)
                    break
        finally:
            watchdog.cancel()
            build.wait()
            if build.stderr:
                build.stderr.close()
        assert build.returncode == -signal.SIGKILL, "".join(progress)
        assert any("[3/5] validate" in line for line in progress), "".join(progress)
        # the killed build left its half-written release and its pid in the lock file
        unfinished = [
            p
            for p in (settings.build_root / "releases").iterdir()
            if p.name != first.release_id and not (p / RELEASE_FILE).exists()
        ]
        assert len(unfinished) == 1
        assert (settings.build_root / LOCK_FILE).read_text().strip() == str(build.pid)

        # the publication is untouched: same link, same bytes, the store opens and answers
        assert os.readlink(current) == target
        assert snapshot(current) == before
        assert _store_counts(current / "store") == expected
        time.sleep(0.3)
        assert server.counts()[1] == expected

        # the next build takes the stale lock over, says so, removes the unfinished release
        second = fast_build(settings)
        assert any(f"pid {build.pid}" in note for note in second.notes)
        assert not unfinished[0].exists()
        assert os.readlink(current).endswith(second.release_id)
    finally:
        stop.set()
        hammer.join()
        server_cm.close()
    assert seen, "the server was not queried during the build"
    assert all(status == 200 and body == expected for status, body in seen), seen[:5]


# --- the other commands that publish a release: ingest (publish_graph) and publish -------------------------
@pytest.fixture
def published(published_template: tuple[Path, str], tmp_path: Path) -> Settings:
    template, _ = published_template
    shutil.copytree(template, tmp_path, symlinks=True, dirs_exist_ok=True)
    return Settings(root=tmp_path / "project", build_dir=tmp_path / "build", keep_releases=2)


SYNTHETIC_NT = b"<http://example.org/s> <http://example.org/p> <http://example.org/o> .\n"


def _ingest(settings: Settings) -> tuple[str, Path, int, list[str]]:
    from bassin_kg.release import replace as load

    iris = Iris(settings.base_iri)
    return load.publish_graph(
        settings, iris, "synthetic", SYNTHETIC_NT, sources=[], validation="", rendered=""
    )


def test_an_ingest_failing_after_its_store_was_written_keeps_the_published_release(
    published: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bassin_kg.release import replace as load

    current = published.current_release
    target, before = os.readlink(current), snapshot(current)
    monkeypatch.setattr(load, "_write_dumps", _raise(InjectedFaultError))
    with pytest.raises(InjectedFaultError):
        load.publish_graph(
            published,
            Iris(published.base_iri),
            "synthetic",
            SYNTHETIC_NT,
            sources=[],
            validation="",
            rendered="",
        )
    assert (os.readlink(current), snapshot(current)) == (target, before)
    # the new store was closed before its folder was removed: nothing of it is left
    assert len(list((published.build_root / "releases").iterdir())) == 1
    monkeypatch.undo()
    release_id, _, triples, _ = _ingest(published)
    assert triples == 1
    assert os.readlink(current).endswith(release_id)


@pytest.mark.parametrize("step", ["backup", "dumps", "void"])
def test_a_failed_publish_keeps_the_published_release(
    published: Settings, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    import bassin_kg.publish as publish_module
    from bassin_kg.publish import void
    from bassin_kg.release import dumps

    targets = {
        "backup": (release_module, "open_read_only"),
        "dumps": (dumps, "write_dumps"),
        "void": (void, "void_graph"),
    }
    owner, name = targets[step]
    monkeypatch.setattr(owner, name, _raise(InjectedFaultError))
    current = published.current_release
    target, before = os.readlink(current), snapshot(current)
    with pytest.raises(InjectedFaultError):
        publish_module.publish(published, progress=Progress(quiet=True))
    assert (os.readlink(current), snapshot(current)) == (target, before)
    assert len(list((published.build_root / "releases").iterdir())) == 1
    assert not (published.build_root / LOCK_FILE).read_text().strip()
