"""``bassin-kg build``: convert, load, validate and dump into a new release, then switch to it atomically.

Layout under the build root (``build/`` by default)::

    releases/<release id>/store      Oxigraph store, one named graph per converter part
    releases/<release id>/dist/      bassin-minier.ttl (union), bassin-minier.nq (named graphs)
    releases/<release id>/release.json, validation.txt
    current -> releases/<release id>  (a symlink, replaced in one rename)

Nothing under ``current`` changes until every step succeeded; any failure (an exception, a SHACL
violation, Ctrl-C) removes the half-written release and leaves ``current`` as it was.
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pyoxigraph as ox
from rdflib import Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from bassin_kg.convert import ConvertContext, GraphPart, converters
from bassin_kg.errors import DataError, UsageError, ValidationFailed
from bassin_kg.namespaces import PREFIXES, Iris
from bassin_kg.progress import Progress
from bassin_kg.settings import Settings
from bassin_kg.store import open_store

ONTOLOGY_FILE = "ontology/bassin.ttl"
TURTLE_DUMP = "bassin-minier.ttl"
NQUADS_DUMP = "bassin-minier.nq"
RELEASE_FILE = "release.json"
VALIDATION_FILE = "validation.txt"
#: 20250126T074512.123456Z-3fa2c1: sorts by creation time; the suffix keeps two builds apart
RELEASE_ID = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}$")
STEPS = 5


@dataclass(frozen=True)
class DumpFile:
    name: str
    bytes: int
    sha256: str


@dataclass
class BuildResult:
    """What a successful build published."""

    release_id: str
    release_dir: Path
    current: Path
    #: triples per named graph (graph name -> count)
    graphs: dict[str, int]
    dumps: list[DumpFile]
    validation: str
    notes: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(self.graphs.values())
        lines = [
            f"published release {self.release_id}: {self.current} -> {self.release_dir}",
            f"graphs ({total} triples): "
            + ", ".join(f"{name} {count}" for name, count in sorted(self.graphs.items())),
            f"validation: {self.validation} (report in {self.current / VALIDATION_FILE})",
            "dumps: " + ", ".join(f"{d.name} ({_size(d.bytes)})" for d in self.dumps),
        ]
        lines += [f"note: {note}" for note in self.notes]
        if self.pruned:
            lines.append("removed old releases: " + ", ".join(self.pruned))
        return "\n".join(lines)


def build(settings: Settings, *, progress: Progress, all_france: bool = False) -> BuildResult:
    """Build a new release and publish it as ``<build root>/current``; see the module docstring."""
    build_root = settings.build_root
    current = settings.current_release
    if current.exists() and not current.is_symlink():
        raise UsageError(
            f"{current} is a real directory, not a link to a release: move it away and build again"
        )
    releases = build_root / "releases"
    releases.mkdir(parents=True, exist_ok=True)
    if progress.total is None:
        progress.total = STEPS
    with _exclusive(build_root) as taken_over:
        if taken_over:
            progress.info(taken_over)
        release_id = new_release_id()
        release_dir = releases / release_id
        release_dir.mkdir()
        published = False
        try:
            result = _write_release(settings, release_dir, release_id, progress, all_france)
            with progress.step("publish"):
                _switch(current, release_dir)
                published = True
        except BaseException as exc:
            _drop_frames(exc)
            raise
        finally:
            # Reached on any exception and on KeyboardInterrupt: the half-written release goes away.
            if not published:
                shutil.rmtree(release_dir, ignore_errors=True)
        result.notes += _link_dist(settings)
        if taken_over:
            result.notes.append(taken_over)
        result.pruned = prune_releases(releases, keep=settings.keep_releases, current=release_id)
    return result


def _drop_frames(exc: BaseException) -> None:
    """Free the locals of a failed build's frames, and so close the release's store at once.

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


def new_release_id(now: datetime | None = None) -> str:
    """UTC time to the microsecond plus a random suffix: unique, and sorted like creation times."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S.%f}Z-{secrets.token_hex(3)}"


# --- the steps -----------------------------------------------------------------------------------------
def _write_release(
    settings: Settings, release_dir: Path, release_id: str, progress: Progress, all_france: bool
) -> BuildResult:
    iris = Iris(settings.base_iri)
    with progress.step("convert"):
        parts = convert_all(ConvertContext(settings, iris, all_france))
    store = open_store(release_dir / "store", create=True)
    with progress.step("load"):
        graphs = load_parts(store, parts, iris)
    with progress.step("validate"):
        from bassin_kg.validate import validate_graph

        union = Graph()
        for part in parts:
            union.addN((s, p, o, union) for s, p, o in part.graph)
        report = validate_graph(union, settings.root / "shapes")
        rendered = report.render()
        if not report.conforms:
            raise ValidationFailed(rendered)
        (release_dir / VALIDATION_FILE).write_text(rendered, encoding="utf-8")
        validation = "conforms" + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    with progress.step("dump"):
        dumps = write_dumps(store, release_dir / "dist")
        store.flush()
        del store  # closes the store (releases its lock) before readers open it through `current`
        manifest = {
            "release": release_id,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "base_iri": settings.base_iri,
            "all_france": all_france,
            "graphs": {
                part.name: {
                    "iri": str(iris.graph(part.name)),
                    "triples": graphs[part.name],
                    "sources": part.sources,
                }
                for part in parts
            },
            "validation": validation,
            "files": {d.name: {"bytes": d.bytes, "sha256": d.sha256} for d in dumps},
        }
        (release_dir / RELEASE_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    notes = [note for part in parts for note in part.notes]
    return BuildResult(release_id, release_dir, settings.current_release, graphs, dumps, validation, notes)


def convert_all(ctx: ConvertContext) -> list[GraphPart]:
    """The ontology as graph ``ontology``, then every converter's parts; each name used once."""
    path = ctx.settings.root / ONTOLOGY_FILE
    if not path.is_file():
        raise DataError("ontology file not found", file=ONTOLOGY_FILE, hint="restore it from git")
    ontology = Graph()
    try:
        ontology.parse(path, format="turtle")
    except BadSyntax as exc:
        raise DataError(f"not valid Turtle: {exc.message}", file=ONTOLOGY_FILE, line=exc.lines + 1) from None
    parts = [GraphPart("ontology", ontology, [ONTOLOGY_FILE])]
    for convert in converters():
        parts.extend(convert(ctx))
    seen: set[str] = set()
    for part in parts:
        if part.name in seen:
            raise DataError(
                f"two converters produce the named graph {part.name!r}",
                hint="give each part its own name in its converter",
            )
        seen.add(part.name)
    return parts


def load_parts(store: ox.Store, parts: list[GraphPart], iris: Iris) -> dict[str, int]:
    """Load each part into its named graph; returns the triple count of each graph.

    Measured on 1 M triples (bench of 2025-11): rdflib N-Triples serialisation 5.1 s + Store.bulk_load
    8.1 s = 13 s; converting terms for Store.bulk_extend 15 s; the transactional Store.load 43 s. The
    release store is new and thrown away on failure, so the non-transactional bulk load is safe.
    """
    counts: dict[str, int] = {}
    for part in parts:
        data = part.graph.serialize(format="nt", encoding="utf-8")
        store.bulk_load(
            data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(iris.graph(part.name)))
        )
        counts[part.name] = len(part.graph)
    return counts


def write_dumps(store: ox.Store, dist: Path) -> list[DumpFile]:
    """The union of all graphs as Turtle, and every named graph as N-Quads."""
    dist.mkdir(parents=True)
    turtle = dist / TURTLE_DUMP
    # CONSTRUCT over the union default graph yields each distinct triple once, grouped by subject.
    union = store.query("CONSTRUCT WHERE { ?s ?p ?o }", use_default_graph_as_union=True)
    assert isinstance(union, ox.QueryTriples), "a CONSTRUCT query returns triples"
    ox.serialize(union, str(turtle), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    nquads = dist / NQUADS_DUMP
    store.dump(str(nquads), ox.RdfFormat.N_QUADS)
    return [_describe(turtle), _describe(nquads)]


def _describe(path: Path) -> DumpFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return DumpFile(path.name, path.stat().st_size, digest.hexdigest())


# --- publishing ----------------------------------------------------------------------------------------
def _switch(current: Path, release_dir: Path) -> None:
    """Point ``current`` at the release in one rename, so readers see the old or the new, never neither."""
    temp = current.with_name(f".{current.name}-{release_dir.name}.tmp")
    temp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(release_dir, current.parent), temp)
    os.replace(temp, current)


def _link_dist(settings: Settings) -> list[str]:
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

    A release without ``release.json`` was left by a build killed before its cleanup could run.
    """
    names = sorted(p.name for p in releases.iterdir() if p.is_dir() and RELEASE_ID.match(p.name))
    finished = [n for n in names if n != current and (releases / n / RELEASE_FILE).is_file()]
    unfinished = [n for n in names if n != current and n not in finished and n < current]
    doomed = unfinished + finished[: max(0, len(finished) - keep)]
    for name in doomed:
        shutil.rmtree(releases / name, ignore_errors=True)
    return sorted(doomed)


LOCK_FILE = ".build.lock"


@contextmanager
def _exclusive(build_root: Path) -> Iterator[str | None]:
    """One build at a time per build root (an advisory lock, released by the kernel when the process ends).

    The holder writes its pid into the lock file and empties it when it finishes. A pid still there
    when the lock is free was left by a build that was killed: the lock is taken over, and the value
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


def _size(count: int) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count} {unit}"
        count //= 1000
    return f"{count} GB"
