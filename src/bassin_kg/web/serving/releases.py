"""Serving ``build/current`` while builds replace it: every request reads one release, never a mix.

``build/current`` is a link that a build switches to a new ``releases/<id>`` in one rename. A server that
opened ``build/current/store`` once would never see the new release; worse, RocksDB opens some files
lazily, by name, so a worker could read files of two releases. Here the link is resolved once per request
(:class:`PinRelease`), and each release gets its own pool of worker processes (a
:class:`~bassin_kg.web.serving.engine.ProcessEngine` on the *resolved* path). A pool whose release is no
longer the current one is closed when its last request is answered; the build keeps ``keep_releases`` old
releases, so the pinned one still exists while its requests finish.
"""

from __future__ import annotations

import contextlib
import os
import threading
from contextvars import ContextVar, Token
from dataclasses import dataclass
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from bassin_kg.errors import StoreError
from bassin_kg.release import release_id
from bassin_kg.web.serving.engine import Job, JobError, Outcome, ProcessEngine

#: (id of the ReleaseEngine, release path) of the request being answered. A context variable is a slot
#: per request (per asyncio task), not shared state: two apps in one process each pin their own.
_PINNED: ContextVar[tuple[int, Path] | None] = ContextVar("bassin_kg_pinned_release", default=None)


@dataclass
class _Pool:
    engine: ProcessEngine
    #: jobs running or waiting on this pool
    users: int = 0


class ReleaseEngine:
    """Read-only engine over a store path that may be a link: one worker pool per resolved release."""

    def __init__(
        self, path: Path, *, size: int, prefixes: dict[str, str] | None = None, memory_max_quads: int = 0
    ) -> None:
        self.path = path
        self.size = size
        self.prefixes = prefixes
        self.memory_max_quads = memory_max_quads
        self.writable = False
        #: the links on the way to the store (``build/current``), their targets and where they led
        self._resolved: tuple[tuple[str, ...], tuple[str, ...], Path] | None = None
        #: the release the server started on (its ETag is the service's ``release``)
        self.initial = self.resolve()
        self._latest = self.initial
        self._pools: dict[Path, _Pool] = {}
        self._releases: dict[Path, str] = {}
        self._lock = threading.Lock()
        self._closed = False

    def resolve(self) -> Path:
        """Where the store path leads now.

        Called for every request: rather than ``realpath`` (one ``lstat`` per component), read the
        links found on the way last time (one ``readlink`` each, usually just ``build/current``) and
        resolve again only when one of them changed.
        """
        known = self._resolved
        if known is not None:
            links, targets, path = known
            try:
                if tuple(os.readlink(link) for link in links) == targets:
                    return path
            except OSError:
                pass  # a link was removed or replaced: resolve from scratch
        self._resolved = None
        try:
            links = _links_on_the_way(Path(os.path.abspath(self.path)))
            before = tuple(os.readlink(link) for link in links)
            path = Path(os.path.realpath(self.path))
            # remembered only if no link changed meanwhile (else the next request resolves again)
            if tuple(os.readlink(link) for link in links) == before:
                self._resolved = (links, before, path)
        except OSError:
            path = Path(os.path.realpath(self.path))
        return path

    # which release ---------------------------------------------------------------------------------
    def pin(self) -> Path:
        """Resolve the link now: the release a new request reads. A new one retires the older pools."""
        path = self.resolve()
        if path != self._latest:
            with self._lock:
                self._latest = path
                idle = [p for key, p in self._pools.items() if key != path and p.users == 0]
                self._pools = {key: p for key, p in self._pools.items() if p not in idle}
                fresh = self._pool(path)
            # start the new release's workers now, so its first requests do not wait for them
            threading.Thread(target=self._warm, args=(fresh,), daemon=True).start()
            for pool in idle:
                threading.Thread(target=pool.engine.close, daemon=True).start()
        return path

    def pinned(self) -> Path:
        """The release of the request being answered (pinned by :class:`PinRelease`), else the current."""
        pinned = _PINNED.get()
        if pinned is not None and pinned[0] == id(self):
            return pinned[1]
        return self.pin()

    def release_now(self) -> str | None:
        """The id of the pinned release, or None while it is still the one the server started on."""
        path = self.pinned()
        if path is self.initial or path == self.initial:
            return None
        release = self._releases.get(path)
        if release is None:
            release = release_id(path)
            with self._lock:
                if len(self._releases) > 16:
                    self._releases.clear()
                self._releases[path] = release
        return release

    # running -----------------------------------------------------------------------------------------
    def _pool(self, path: Path) -> _Pool:
        # called with the lock held
        pool = self._pools.get(path)
        if pool is None:
            pool = _Pool(
                ProcessEngine(
                    path,
                    writable=False,
                    size=self.size,
                    prefixes=self.prefixes,
                    memory_max_quads=self.memory_max_quads,
                )
            )
            self._pools[path] = pool
        return pool

    @staticmethod
    def _warm(pool: _Pool) -> None:
        # a failure is reported by the first query on that release
        with contextlib.suppress(StoreError):
            pool.engine.start()

    async def run(self, job: Job, timeout: float) -> Outcome:
        path = self.pinned()
        with self._lock:
            if self._closed:
                raise JobError("evaluation", "the server is shutting down; retry in a moment")
            pool = self._pool(path)
            pool.users += 1
        try:
            return await pool.engine.run(job, timeout)
        except StoreError as exc:
            raise JobError("evaluation", f"{exc}; retry in a moment") from None
        finally:
            with self._lock:
                pool.users -= 1
                retire = pool.users == 0 and path != self._latest and self._pools.get(path) is pool
                if retire:
                    del self._pools[path]
            if retire:
                threading.Thread(target=pool.engine.close, daemon=True).start()

    def run_now(self, job: Job) -> Outcome | None:
        path = self.pinned()
        with self._lock:
            if self._closed:
                return None
            pool = self._pool(path)
        # no ``users`` count: the job runs to its end before any other request can retire the pool
        return pool.engine.run_now(job)

    def start(self) -> None:
        with self._lock:
            pool = self._pool(self.pin())
        pool.engine.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
            self._pools.clear()
        for pool in pools:
            pool.engine.close()

    def current(self) -> ProcessEngine:
        """The worker pool of the current release."""
        path = self.pin()
        with self._lock:
            return self._pool(path).engine

    @property
    def pools(self) -> dict[Path, int]:
        """Release path -> jobs on its pool (for tests and diagnostics)."""
        with self._lock:
            return {path: pool.users for path, pool in self._pools.items()}


def _links_on_the_way(path: Path) -> tuple[str, ...]:
    """The symbolic links among ``path`` and its parents (resolving each one's target in turn)."""
    links: list[str] = []
    seen: set[str] = set()
    pending = [path]
    while pending:
        current = pending.pop()
        for candidate in (current, *current.parents):
            text = str(candidate)
            if text in seen or not candidate.is_symlink():
                continue
            seen.add(text)
            links.append(text)
            # the target may itself go through links (relative targets are read from the link's folder)
            pending.append(Path(os.path.abspath(candidate.parent / os.readlink(candidate))))
    return tuple(links)


class PinRelease:
    """ASGI middleware: resolve ``build/current`` once per request, so all its queries read one release."""

    def __init__(self, app: ASGIApp, engine: ReleaseEngine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = pin_request(self.engine)
        try:
            await self.app(scope, receive, send)
        finally:
            _PINNED.reset(token)


def pin_request(engine: ReleaseEngine) -> Token[tuple[int, Path] | None]:
    """Pin the current release of ``engine`` for this request; ``_PINNED.reset(token)`` when done."""
    return _PINNED.set((id(engine), engine.pin()))


def unpin(token: Token[tuple[int, Path] | None]) -> None:
    _PINNED.reset(token)
