"""``bassin-kg ingest|link <source>``: load, validate, and swap one named graph into the published build.

Copy-on-write, like ``build``: the current release's store is copied (``Store.backup``: hard links to
its immutable files, so cheap), the dataset's named graph is replaced in the copy, the dumps are
rewritten, and ``build/current`` is switched to the new release in one rename. A failure at any step
removes the new release and leaves the published one untouched. Builds and ingests take the same lock.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from bassin_kg import validate
from bassin_kg.errors import ValidationFailed
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release import VALIDATION_FILE, ReleaseDraft, new_release, now_stamp
from bassin_kg.release.dumps import RELEASE_SPECS, write_dumps
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext, Loaded, Loader
from bassin_kg.sources.ontology import ONTOLOGY_FILE
from bassin_kg.store import count_triples, open_store, published_release


@dataclass
class IngestResult:
    """What an ingest or a link published, with its timings (seconds per step)."""

    dataset: str
    rows: int
    triples: int
    release_id: str
    release_dir: Path
    validation: str
    timings: dict[str, float] = field(default_factory=dict)
    pruned: list[str] = field(default_factory=list)
    #: the loader's own report (a link's decisions), printed instead of the row count and timings
    report: str = ""

    def summary(self) -> str:
        if self.report:
            return f"{self.report}\nvalidation: {self.validation}\npublished release {self.release_id}"
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


def validate_data(settings: Settings, data: bytes, progress: Progress) -> validate.Report:
    """SHACL-check N-Triples with the project's shapes (and the ontology, for the cube structures).

    The fast validator gives pyshacl's results in seconds; if the shapes ever use a feature it does not
    compile, pyshacl itself runs (slow on a national file, but never a skipped rule).
    """
    ontology = Graph().parse(settings.root / ONTOLOGY_FILE, format="turtle")
    report = validate.validate_ntriples([data], settings.root / "shapes", ontology=ontology)
    for note in report.notes:
        progress.info(f"note: {note}")
    return report


def run_loader(
    settings: Settings, loader: Loader, args: argparse.Namespace, progress: Progress
) -> IngestResult:
    """``bassin-kg ingest|link <source>``: the source's loader reads its graph, then :func:`replace_graph`."""
    loaded = loader.load(ConvertContext(settings, Iris(settings.base_iri)), args, progress)
    return replace_graph(settings, loaded, progress=progress)


def replace_graph(settings: Settings, loaded: Loaded, *, progress: Progress) -> IngestResult:
    """Validate ``loaded``, then publish a release where its graph is replaced; the one way to do so."""
    timings = dict(loaded.timings)
    start = time.perf_counter()
    with progress.step("validate"):
        report = validate_data(settings, loaded.data, progress)
        if not report.conforms:
            raise ValidationFailed(report.render())
    timings["validate"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("load and publish"):
        release_id, release_dir, triples, pruned = publish_graph(
            settings,
            Iris(settings.base_iri),
            loaded.graph,
            loaded.data,
            sources=loaded.sources,
            validation=report.verdict(),
            rendered=report.render(),
        )
    timings["publish"] = time.perf_counter() - start
    return IngestResult(
        loaded.graph,
        loaded.rows,
        triples,
        release_id,
        release_dir,
        report.verdict(),
        timings,
        pruned,
        loaded.report,
    )


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
    published_release(settings, then="ingest")
    with new_release(settings) as draft:
        triples = _write_graph(draft, iris, name, data, sources=sources, validation=validation)
        old_report = draft.previous / VALIDATION_FILE if draft.previous else None
        text = old_report.read_text(encoding="utf-8") if old_report and old_report.is_file() else ""
        text += f"\n# ingest of graph {name} ({', '.join(sources)})\n{rendered}"
        (draft.dir / VALIDATION_FILE).write_text(text, encoding="utf-8")
        draft.publish()
    return draft.id, draft.dir, triples, draft.pruned


def _write_graph(
    draft: ReleaseDraft, iris: Iris, name: str, data: bytes, *, sources: list[str], validation: str
) -> int:
    """Copy the published store, replace graph ``name``, rewrite the dumps and the manifest.

    The store is a local of this function: on a failure the release's cleanup clears this frame, and so
    closes the store, before it removes the folder.
    """
    manifest = draft.previous_manifest(then="ingest")
    draft.copy_previous_store()
    store = open_store(draft.store_path)
    graph = ox.NamedNode(str(iris.graph(name)))
    if store.contains_named_graph(graph):
        store.remove_graph(graph)
    store.bulk_load(data, ox.RdfFormat.N_TRIPLES, to_graph=graph)
    triples = count_triples(store, [graph.value])
    dumps = write_dumps(store, draft.dir / "dist", RELEASE_SPECS, counted=False)
    store.flush()
    del store  # closes the store before readers open it through `current`
    created = now_stamp()
    manifest["graphs"][name] = {"iri": str(iris.graph(name)), "triples": triples, "sources": sources}
    manifest.setdefault("ingested", []).append(
        {"graph": name, "sources": sources, "validation": validation, "at": created}
    )
    draft.write_manifest(manifest, files=dumps, created=created)
    return triples
