"""``bassin-kg ingest|link <source>``: load, validate, and swap one named graph into the published build.

Copy-on-write, like ``build``: the current release's store is copied (``Store.backup``: hard links to
its immutable files, so cheap), the dataset's named graph is replaced in the copy, the dumps are
rewritten, and ``build/current`` is switched to the new release in one rename. A failure at any step
removes the new release and leaves the published one untouched. Builds and ingests take the same lock.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph

from bassin_kg import validate
from bassin_kg.errors import UsageError, ValidationFailed
from bassin_kg.namespaces import PREFIXES, Iris
from bassin_kg.progress import Progress
from bassin_kg.release import VALIDATION_FILE, ReleaseDraft, duplicates, new_release, now_stamp
from bassin_kg.release.dumps import RELEASE_SPECS, DumpFile, sha256_of
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext, Loaded, Loader
from bassin_kg.sources.ontology import ONTOLOGY_FILE
from bassin_kg.store import count_triples, open_read_only, open_store, published_release


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
    #: what the user should know about the input (bassins created from the file…)
    notices: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.report:
            return f"{self.report}\nvalidation: {self.validation}\npublished release {self.release_id}"
        total = sum(self.timings.values())
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.timings.items())
        return "\n".join(
            [
                *(f"note: {notice}" for notice in self.notices),
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
    """Publish a release where ``loaded``'s graph is replaced, switched to only when the whole release
    passes ``bassin-kg validate``'s check and holds each triple in one named graph; the one way to do so."""
    timings = dict(loaded.timings)
    reports: list[validate.Report] = []

    def check(graphs: list[bytes]) -> tuple[str, str]:
        # `bassin-kg validate` checks the union of the release's named graphs: these are they, so the
        # report is the one it gives on the release (without reading 800,000 triples back from disk)
        report = validate.validate_ntriples(graphs, settings.root / "shapes")
        for note in report.notes:
            progress.info(f"note: {note}")
        if not report.conforms:
            raise ValidationFailed(report.render())
        reports.append(report)
        return report.verdict(), report.render()

    with progress.step("load, validate and publish"):
        release_id, release_dir, triples, pruned = publish_graph(
            settings,
            Iris(settings.base_iri),
            loaded.graph,
            loaded.data,
            sources=loaded.sources,
            check=check,
            timings=timings,
        )
    return IngestResult(
        loaded.graph,
        loaded.rows,
        triples,
        release_id,
        release_dir,
        reports[0].verdict(),
        timings,
        pruned,
        loaded.report,
        list(loaded.notices),
    )


def publish_graph(
    settings: Settings,
    iris: Iris,
    name: str,
    data: bytes,
    *,
    sources: list[str],
    validation: str = "",
    rendered: str = "",
    check: Callable[[list[bytes]], tuple[str, str]] | None = None,
    timings: dict[str, float] | None = None,
) -> tuple[str, Path, int, list[str]]:
    """A new release = the current one with graph ``name`` replaced by ``data``; then switch to it.

    ``check``, given every named graph of the new release as N-Triples, validates it before the switch
    and returns its verdict and report; without it, ``validation`` and ``rendered`` are recorded.
    """
    published_release(settings, then="ingest")
    steps = {} if timings is None else timings
    start = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal start
        steps[step], start = time.perf_counter() - start, time.perf_counter()

    with new_release(settings) as draft:
        others = _other_graphs(draft, iris, name)
        names = {str(iris.graph(other)): other for other in draft.previous_manifest(then="ingest")["graphs"]}
        duplicates.refuse(_shared_triples(others, data, names, name), file=sources[0] if sources else None)
        lap("one graph per triple")
        # the store is written while the release is validated (RocksDB's bulk load and Oxigraph's
        # queries release the GIL): on two cores this takes a third off a national ingest
        written: list[tuple[int, list[DumpFile]]] = []
        failed: list[BaseException] = []

        def write() -> None:
            try:
                written.append(_write_graph(draft, iris, name, data, others))
            except BaseException as exc:  # re-raised below, in the command's thread
                failed.append(exc)

        writer = threading.Thread(target=write, name="ingest-store-writer")
        writer.start()
        try:
            if check is not None:
                validation, rendered = check([*others.values(), data])
                lap("validate")
        finally:
            # the store is closed before anything removes the release's folder
            writer.join()
        if failed:
            raise failed[0]
        triples, dumps = written[0]
        lap("store and dumps")
        (draft.dir / VALIDATION_FILE).write_text(rendered, encoding="utf-8")
        manifest = draft.previous_manifest(then="ingest")
        created = now_stamp()
        manifest["graphs"][name] = {"iri": str(iris.graph(name)), "triples": triples, "sources": sources}
        manifest["validation"] = validation
        manifest.setdefault("ingested", []).append(
            {"graph": name, "sources": sources, "validation": validation, "at": created}
        )
        draft.write_manifest(manifest, files=dumps, created=created)
        draft.publish()
    return draft.id, draft.dir, triples, draft.pruned


def _other_graphs(draft: ReleaseDraft, iris: Iris, name: str) -> dict[str, bytes]:
    """Every named graph of the published store but ``name``, as N-Triples, by graph IRI."""
    if draft.previous is None:
        raise UsageError("no published release: run `bassin-kg build` first")
    store = open_read_only(draft.previous / "store")
    target = str(iris.graph(name))
    found: dict[str, bytes] = {}
    for graph in store.named_graphs():
        if isinstance(graph, ox.NamedNode) and graph.value != target:
            dumped = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            assert dumped is not None, "dumping without an output returns the bytes"
            found[graph.value] = dumped
    del store
    return found


def _shared_triples(
    others: dict[str, bytes], data: bytes, names: dict[str, str], name: str
) -> list[duplicates.Duplicate]:
    """Triples of ``data`` that another graph holds too (none may: each triple lives in one graph).

    Only lines whose subject another graph names can be shared, so the 800,000 lines of a national
    file are compared by their subject first, as text (N-Triples as Oxigraph writes it and as the
    sources write it: one triple per line, terms separated by one space).
    """
    owners: dict[bytes, list[str]] = {}
    for graph, text in others.items():
        for line in text.splitlines():
            if line:
                owners.setdefault(line.rstrip(b" ."), []).append(graph)
    subjects = {key.split(b" ", 1)[0] for key in owners}
    found: list[duplicates.Duplicate] = []
    for line in data.splitlines():
        if line.split(b" ", 1)[0] not in subjects:
            continue
        holders = owners.get(line.rstrip(b" ."))
        if holders:
            shown = tuple([name, *(names.get(g, g) for g in holders)])
            found.append(duplicates.Duplicate(line.rstrip(b" .").decode("utf-8"), shown))
    return found


def _write_graph(
    draft: ReleaseDraft, iris: Iris, name: str, data: bytes, others: dict[str, bytes]
) -> tuple[int, list[DumpFile]]:
    """The new store (the published one with graph ``name`` replaced by ``data``) and its dumps.

    When the replaced graph is larger than all the others (a national file ingested again), a new store
    loaded with the others is faster than deleting its triples one by one from a copy. The store is a
    local of this function: on a failure the release's cleanup clears this frame, and so closes the
    store, before it removes the folder.
    """
    manifest = draft.previous_manifest(then="ingest")
    replaced = manifest["graphs"].get(name, {}).get("triples", 0)
    graph = ox.NamedNode(str(iris.graph(name)))
    kept = sum(text.count(b"\n") for text in others.values())
    if isinstance(replaced, int) and replaced > kept:
        store = open_store(draft.store_path, create=True)
        for other, text in others.items():
            _bulk_load(store, text, ox.NamedNode(other))
    else:
        draft.copy_previous_store()
        store = open_store(draft.store_path)
        if store.contains_named_graph(graph):
            store.remove_graph(graph)
    _bulk_load(store, data, graph)
    triples = count_triples(store, [graph.value])
    store.flush()
    del store  # closes the store before readers open it through `current`
    return triples, _write_dumps(draft.dir / "dist", {**others, graph.value: data})


#: bytes of N-Triples per bulk load: one load of a national file's 165 MB took 480 MB more at its peak,
#: loads of 16 MB take 130 MB (measured with pyoxigraph 0.5.13)
BULK_CHUNK = 16 << 20


def _bulk_load(store: ox.Store, text: bytes, graph: ox.NamedNode) -> None:
    """Load N-Triples into ``graph`` in chunks of whole lines, to bound the bulk loader's memory."""
    start = 0
    while start < len(text):
        end = text.find(b"\n", start + BULK_CHUNK)
        end = len(text) if end < 0 else end + 1
        store.bulk_load(text[start:end], ox.RdfFormat.N_TRIPLES, to_graph=graph)
        start = end


def _write_dumps(dist: Path, graphs: dict[str, bytes]) -> list[DumpFile]:
    """The release dumps (:data:`RELEASE_SPECS`: Turtle union, N-Quads), written from the graphs' N-Triples.

    Each triple lives in one graph (checked before), so their concatenation is the union; reading
    800,000 triples back from RocksDB through a CONSTRUCT was the slowest step of a national ingest.
    """
    dist.mkdir(parents=True, exist_ok=True)
    files: list[DumpFile] = []
    for spec in RELEASE_SPECS:
        path = dist / spec.name
        if spec.named_graphs:
            with path.open("wb") as out:
                for graph, text in graphs.items():
                    suffix = f" <{graph}> .\n".encode()
                    # N-Triples has one triple a line ending in " ."; the graph goes before that dot
                    out.writelines(line.rstrip()[:-1].rstrip() + suffix for line in text.splitlines() if line)
        else:
            union = chain.from_iterable(ox.parse(text, ox.RdfFormat.N_TRIPLES) for text in graphs.values())
            ox.serialize(union, str(path), ox.RdfFormat.TURTLE, prefixes=PREFIXES)
        files.append(DumpFile(spec, spec.name, path.stat().st_size, sha256_of(path), None))
    return files
