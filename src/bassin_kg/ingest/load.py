"""``bassin-kg ingest bmo FILE``: convert, validate, and swap one dataset graph into the published build.

Copy-on-write, like ``build``: the current release's store is copied (``Store.backup``: hard links to
its immutable files, so cheap), the dataset's named graph is replaced in the copy, the dumps are
rewritten, and ``build/current`` is switched to the new release in one rename. A failure at any step
removes the new release and leaves the published one untouched. Builds and ingests take the same lock.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from bassin_kg.build import (
    ONTOLOGY_FILE,
    RELEASE_FILE,
    VALIDATION_FILE,
    _drop_frames,
    _exclusive,
    _switch,
    new_release_id,
    prune_releases,
    write_dumps,
)
from bassin_kg.convert import ConvertContext
from bassin_kg.errors import DataError, UsageError, ValidationFailed
from bassin_kg.ingest import bmo as bmo_module
from bassin_kg.ingest.fastshacl import UnsupportedShapeError, validate_ntriples
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only, open_store
from bassin_kg.validate import Report, load_shapes, validate_graph


@dataclass
class IngestResult:
    """What an ingest published, with its timings (seconds per step)."""

    dataset: str
    rows: int
    triples: int
    release_id: str
    release_dir: Path
    validation: str
    timings: dict[str, float] = field(default_factory=dict)
    pruned: list[str] = field(default_factory=list)

    def summary(self) -> str:
        total = sum(self.timings.values())
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings.items())
        return "\n".join(
            [
                f"ingested {self.rows} rows into graph {self.dataset} ({self.triples} triples)",
                f"validation: {self.validation}",
                f"published release {self.release_id}: {self.release_dir}",
                f"time: {total:.1f} s ({steps})",
            ]
        )


def validate_data(settings: Settings, data: bytes, progress: Progress) -> Report:
    """SHACL-check N-Triples with the project's shapes (and the ontology, for the cube structures).

    The compiled validator gives pyshacl's results in seconds; if the shapes ever use a feature it does
    not compile, pyshacl itself runs (slow on a national file, but never a skipped rule).
    """
    shapes = load_shapes(settings.root / "shapes")
    ontology = Graph().parse(settings.root / ONTOLOGY_FILE, format="turtle")
    try:
        return validate_ntriples(data, shapes, ontology=ontology)
    except UnsupportedShapeError as exc:
        progress.info(f"note: {exc}; validating with pyshacl instead (slower)")
        graph = Graph().parse(data=data.decode("utf-8"), format="nt")
        return validate_graph(graph, settings.root / "shapes", ontology=ontology)


def ingest_bmo(
    settings: Settings, path: Path, *, bassins: Iterable[str] = (), progress: Progress
) -> IngestResult:
    """Read, check, convert, validate and publish a BMO file as graph ``bmo-<year>``."""
    iris = Iris(settings.base_iri)
    ctx = ConvertContext(settings, iris)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with progress.step("read and check"):
        codes, known_bassins = bmo_module.reference_codes(ctx.data_dir)
        shown = bmo_module.relative_to_root(path, settings.root)
        bmo = bmo_module.read_bmo(
            path, known_codes=codes, known_bassins=known_bassins, bassins=bassins, display=shown
        )
    timings["read"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("convert"):
        data = "".join(bmo_module.to_ntriples(bmo, iris, source_file=shown)).encode("utf-8")
    timings["convert"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("validate"):
        report = validate_data(settings, data, progress)
        if not report.conforms:
            raise ValidationFailed(report.render())
        validation = "conforms" + (f", {len(report.warnings)} warning(s)" if report.warnings else "")
    timings["validate"], start = time.perf_counter() - start, time.perf_counter()
    name = bmo_module.dataset_name(bmo.year)
    with progress.step("load and publish"):
        release_id, release_dir, triples, pruned = publish_graph(
            settings, iris, name, data, sources=[shown], validation=validation, rendered=report.render()
        )
    timings["publish"] = time.perf_counter() - start
    return IngestResult(name, len(bmo.rows), triples, release_id, release_dir, validation, timings, pruned)


def publish_graph(
    settings: Settings,
    iris: Iris,
    name: str,
    data: bytes,
    *,
    sources: list[str],
    validation: str,
    rendered: str,
) -> tuple[str, Path, int, list[str]]:
    """A new release = the current one with graph ``name`` replaced by ``data``; then switch to it."""
    current = settings.current_release
    if not current.is_symlink() or not (current / "store").is_dir():
        raise UsageError(f"no published build at {current}: run `bassin-kg build` first, then ingest")
    releases = settings.build_root / "releases"
    with _exclusive(settings.build_root):
        old_dir = current.resolve()
        release_id = new_release_id()
        release_dir = releases / release_id
        release_dir.mkdir()
        published = False
        try:
            old_store = open_read_only(old_dir / "store")
            old_store.backup(str(release_dir / "store"))
            del old_store
            store = open_store(release_dir / "store")
            graph = ox.NamedNode(str(iris.graph(name)))
            if store.contains_named_graph(graph):
                store.remove_graph(graph)
            store.bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=graph)
            triples = _count(store, graph)
            dumps = write_dumps(store, release_dir / "dist")
            store.flush()
            del store  # closes the store before readers open it through `current`
            manifest = _manifest(old_dir, release_id)
            manifest["graphs"][name] = {"iri": str(iris.graph(name)), "triples": triples, "sources": sources}
            manifest["files"] = {d.name: {"bytes": d.bytes, "sha256": d.sha256} for d in dumps}
            manifest.setdefault("ingested", []).append(
                {"graph": name, "sources": sources, "validation": validation, "at": manifest["created"]}
            )
            (release_dir / RELEASE_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
            previous = old_dir / VALIDATION_FILE
            text = previous.read_text(encoding="utf-8") if previous.is_file() else ""
            text += f"\n# ingest of graph {name} ({', '.join(sources)})\n{rendered}"
            (release_dir / VALIDATION_FILE).write_text(text, encoding="utf-8")
            _switch(current, release_dir)
            published = True
        except BaseException as exc:
            _drop_frames(exc)  # closes the new store now: it would write on into the folder removed below
            raise
        finally:
            if not published:
                shutil.rmtree(release_dir, ignore_errors=True)
        pruned = prune_releases(releases, keep=settings.keep_releases, current=release_id)
    return release_id, release_dir, triples, pruned


def _manifest(old_dir: Path, release_id: str) -> dict[str, Any]:
    path = old_dir / RELEASE_FILE
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(
            f"cannot read the current release's manifest ({exc})",
            file=path,
            hint="rebuild with `bassin-kg build`, then ingest again",
        ) from None
    manifest["release"] = release_id
    manifest["created"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest.setdefault("graphs", {})
    if not isinstance(manifest, dict):
        raise DataError("the current release's manifest is not a JSON object", file=path)
    return manifest


def _count(store: ox.Store, graph: ox.NamedNode) -> int:
    solutions = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")
    assert isinstance(solutions, ox.QuerySolutions)
    for solution in solutions:
        term = solution["n"]
        if isinstance(term, ox.Literal):
            return int(term.value)
    return 0
