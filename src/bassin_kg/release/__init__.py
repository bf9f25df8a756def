"""Releases under the build root: one writer at a time, a new folder each, ``current`` switched atomically.

Layout::

    <build root>/releases/<release id>/   store/, dist/, release.json, validation.txt
    <build root>/current -> releases/<release id>   (a symlink, replaced in one rename)
    <build root>/.build.lock                        the pid of the command writing a release

``build``, ``ingest``, ``link`` and ``publish`` all write through :func:`new_release`: nothing under
``current`` changes until the command calls :meth:`ReleaseDraft.publish`; any failure before (an
exception, Ctrl-C) removes the half-written release and leaves ``current`` as it was.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import re
import secrets
import shutil
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bassin_kg.errors import DataError, UsageError
from bassin_kg.release.dumps import DumpFile
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only

LOCK_FILE = ".build.lock"
RELEASE_FILE = "release.json"
VALIDATION_FILE = "validation.txt"
#: 20250126T074512.123456Z-3fa2c1: sorts by creation time; the suffix keeps two builds apart
RELEASE_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")


def now_stamp() -> str:
    """The time written into a manifest: UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_release_id(now: datetime | None = None) -> str:
    """UTC time to the microsecond plus a random suffix: unique, and sorted like creation times."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"


@dataclass
class ReleaseDraft:
    """A release being written: its folder is removed unless :meth:`publish` is called."""

    settings: Settings
    id: str
    dir: Path
    #: the release ``current`` pointed at when the draft was made (None before the first build)
    previous: Path | None
    #: a message when the lock of a killed command was taken over
    taken_over: str | None = None
    published: bool = False
    #: old releases removed after the switch
    pruned: list[str] = field(default_factory=list)

    @property
    def store_path(self) -> Path:
        return self.dir / "store"

    def copy_previous_store(self) -> None:
        """The published release's store, copied into the draft (``Store.backup``: hard links, cheap)."""
        if self.previous is None:
            raise UsageError("no published release to copy the store from: run `bassin-kg build` first")
        store = open_read_only(self.previous / "store")
        store.backup(str(self.store_path))
        del store  # closed at once: the copy is opened for writing next

    def previous_manifest(self, *, then: str) -> dict[str, Any]:
        """``release.json`` of the published release; ``then`` names the command to run again."""
        if self.previous is None:
            raise UsageError(f"no published build: run `bassin-kg build` first, then {then}")
        return read_manifest(self.previous, then=then)

    def write_manifest(
        self, manifest: dict[str, Any], *, files: Sequence[DumpFile] = (), created: str | None = None
    ) -> dict[str, Any]:
        """Write ``release.json``: ``manifest`` stamped with this release's id, its time and its dump files.

        The one writer of the manifest (build, ingest, link and publish); returns what it wrote.
        """
        created = created or now_stamp()
        # the id and time first, as a reader of the file expects them
        written = {"release": self.id, "created": created, **manifest}
        written["release"], written["created"] = self.id, created
        written["files"] = {f.name: {"bytes": f.bytes, "sha256": f.sha256} for f in files}
        (self.dir / RELEASE_FILE).write_text(json.dumps(written, indent=2, ensure_ascii=False) + "\n")
        return written

    def publish(self) -> None:
        """Point ``current`` at this release (readers see the old or the new one, never neither)."""
        switch_current(self.settings.current_release, self.dir)
        self.published = True


@contextmanager
def new_release(settings: Settings) -> Iterator[ReleaseDraft]:
    """Take the lock and make a new, empty release folder; the body writes it and calls ``publish()``.

    On leaving the block the release is removed unless it was published; once published, releases
    older than the ``keep_releases`` latest are pruned (still under the lock).
    """
    current = settings.current_release
    if current.exists() and not current.is_symlink():
        raise UsageError(
            f"{current} is a real directory, not a link to a release: move it away and build again"
        )
    releases = settings.build_root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    with exclusive(settings.build_root) as taken_over:
        previous = current.resolve() if current.is_symlink() else None
        release_id = new_release_id()
        draft = ReleaseDraft(settings, release_id, releases / release_id, previous, taken_over)
        draft.dir.mkdir()
        try:
            yield draft
        except BaseException as exc:
            drop_frames(exc)
            raise
        finally:
            # Reached on any exception and on KeyboardInterrupt: the half-written release goes away.
            if not draft.published:
                shutil.rmtree(draft.dir, ignore_errors=True)
        if draft.published:
            draft.pruned = prune_releases(releases, keep=settings.keep_releases, current=release_id)


def read_manifest(release_dir: Path, *, then: str) -> dict[str, Any]:
    """A release's ``release.json``, which must hold a ``graphs`` object."""
    path = release_dir / RELEASE_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"cannot read the current release's manifest ({exc})",
            file=path,
            hint=f"rebuild with `bassin-kg build`, then {then} again",
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("graphs"), dict):
        raise DataError(
            "the current release's manifest has no 'graphs' object",
            file=path,
            hint="rebuild with `bassin-kg build`",
        )
    return manifest


def release_id(store_path: Path) -> str:
    """The release a store belongs to: ``release.json``'s id, the ``releases/<id>`` folder, or a hash.

    The one reader of the release id; a store outside a release (``--store PATH``) is known by its path
    and the last change of its files.
    """
    resolved = store_path.resolve()
    manifest = resolved.parent / RELEASE_FILE
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if isinstance(data, dict) and isinstance(data.get("release"), str) and data["release"]:
            return str(data["release"])
    if resolved.parent.parent.name == "releases":
        return resolved.parent.name
    stamp = max((p.stat().st_mtime_ns for p in resolved.iterdir()), default=0) if resolved.is_dir() else 0
    return hashlib.sha256(f"{resolved}\0{stamp}".encode()).hexdigest()[:16]


def drop_frames(exc: BaseException) -> None:
    """Free the locals of a failed command's frames, and so close the release's store at once.

    The traceback keeps every frame alive, and with them the open Oxigraph store: RocksDB would go on
    writing (flushes, compactions) into the folder the cleanup removes, and leave a half-written
    release behind (seen with Ctrl-C during validation).
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        traceback.clear_frames(current.__traceback__)
        current = current.__context__
    gc.collect()  # a store caught in a reference cycle (rdflib graphs make some) closes now too


def switch_current(current: Path, release_dir: Path) -> None:
    """Point ``current`` at the release in one rename, so readers see the old or the new, never neither."""
    temp = current.with_name(f".{current.name}-{release_dir.name}.tmp")
    temp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(release_dir, current.parent), temp)
    os.replace(temp, current)


def link_dist(settings: Settings) -> list[str]:
    """Make ``<root>/dist`` a link to the current release's dumps, once; never write into a real dist/."""
    dist = settings.dist_dir
    target = settings.current_release / "dist"
    if dist.is_symlink():
        return []
    if dist.exists():
        return [f"{dist} is a real directory: left untouched; the dumps are in {target}"]
    dist.symlink_to(os.path.relpath(target, dist.parent))
    return [f"{dist} now links to {target}"]


def prune_releases(releases: Path, *, keep: int, current: str) -> list[str]:
    """Remove releases older than the ``keep`` latest beside ``current``, and unfinished ones.

    A release without ``release.json`` was left by a command killed before its cleanup could run.
    """
    names = sorted(p.name for p in releases.iterdir() if p.is_dir() and RELEASE_ID.match(p.name))
    finished = [n for n in names if n != current and (releases / n / RELEASE_FILE).is_file()]
    unfinished = [n for n in names if n != current and n not in finished and n < current]
    doomed = unfinished + finished[: max(0, len(finished) - keep)]
    for name in doomed:
        shutil.rmtree(releases / name, ignore_errors=True)
    return sorted(doomed)


@contextmanager
def exclusive(build_root: Path) -> Iterator[str | None]:
    """One writer at a time per build root (an advisory lock, released by the kernel when the process ends).

    The holder writes its pid into the lock file and empties it when it finishes. A pid still there
    when the lock is free was left by a command that was killed: the lock is taken over, and the value
    yielded is a message saying so (its unfinished release is removed by :func:`prune_releases`).
    """
    build_root.mkdir(parents=True, exist_ok=True)
    with (build_root / LOCK_FILE).open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(handle)
            running = f" (pid {holder})" if holder else ""
            raise UsageError(
                f"another build{running} is running in {build_root}; wait for it to finish"
            ) from None
        try:
            stale = _lock_holder(handle)
            taken_over = None
            if stale:
                taken_over = (
                    f"a previous build (pid {stale}) was interrupted before it finished: its lock is "
                    "taken over and its unfinished release removed; the published release was not changed"
                )
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            yield taken_over
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_holder(handle: IO[str]) -> str:
    handle.seek(0)
    return handle.read(64).strip()
