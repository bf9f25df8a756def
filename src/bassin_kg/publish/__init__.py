"""``bassin-kg publish``: the publication of the current release (dumps, VoID, DCAT-AP catalogue, site).

Atomic like ``build`` and ``ingest``: the publication is written into a *new release* — the current
release's store copied with ``Store.backup`` (hard links to its immutable files: cheap, and the copy is
identical) plus a fresh ``dist/`` — and ``build/current`` is switched to it in one rename. Nothing is ever
written into the published ``dist/``: a failure at any step removes the new release and leaves the
previous publication exactly as it was. ``dist/`` at the root links to ``build/current/dist``.

``ingest`` and ``link`` make new releases with the build's two dumps only: run ``publish`` after them.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bassin_kg.errors import ValidationFailed
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.publish import dcat, extent, void
from bassin_kg.publish.dcat import CatalogOptions, ShaclOutcome
from bassin_kg.release import VALIDATION_FILE, ReleaseDraft, dumps, link_dist, new_release, now_stamp
from bassin_kg.release.dumps import DumpFile
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only, published_release

#: the metadata files, in the syntaxes the server and data.gouv.fr's harvester negotiate
VOID_FILES = {"ttl": "void.ttl", "jsonld": "void.jsonld", "nt": "void.nt"}
CATALOG_FILES = {
    "ttl": "catalog.ttl",
    "rdfxml": "catalog.rdf",
    "jsonld": "catalog.jsonld",
    "nt": "catalog.nt",
}
_RDFLIB_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "nt": "nt", "rdfxml": "xml"}
DCAT_REPORT = "dcat-ap-report.txt"
#: the same check as a standard SHACL sh:ValidationReport
DCAT_REPORT_TTL = "dcat-ap-report.ttl"


@dataclass
class PublishResult:
    """What a publication wrote."""

    release_id: str
    release_dir: Path
    dumps: list[DumpFile]
    source_dumps: list[DumpFile]
    dcat: ShaclOutcome
    site_pages: int | None = None
    site_notes: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"published release {self.release_id}: {self.release_dir / 'dist'}"]
        for dump in [*self.dumps, *self.source_dumps]:
            lines.append(f"  {dump.name}: {dump.bytes} bytes, sha256 {dump.sha256}")
        lines.append("  " + ", ".join([*VOID_FILES.values(), *CATALOG_FILES.values(), dumps.CHECKSUMS]))
        lines.append(self.dcat.render())
        if self.site_pages is not None:
            lines.append(f"static site: {self.site_pages} pages in {self.release_dir / 'dist' / 'site'}")
        lines += [f"  note: {note}" for note in self.site_notes]
        if self.pruned:
            lines.append("removed old releases: " + ", ".join(self.pruned))
        return "\n".join(lines)


def publish(
    settings: Settings,
    *,
    progress: Progress,
    options: CatalogOptions | None = None,
    static_site: bool = False,
    site_only: Sequence[str] = (),
) -> PublishResult:
    """Write the publication of the current release into a new release and switch to it."""
    published_release(settings, then="publish")
    if progress.total is None:
        progress.total = 5 + (1 if static_site else 0)
    with new_release(settings) as draft:
        manifest = draft.previous_manifest(then="publish")
        with progress.step("copy the store"):
            draft.copy_previous_store()
        result = _write(
            settings, draft, manifest, progress, options or CatalogOptions(), static_site, site_only
        )
        previous = draft.previous / VALIDATION_FILE if draft.previous else None
        if previous is not None and previous.is_file():
            shutil.copy2(previous, draft.dir / VALIDATION_FILE)
        with progress.step("switch"):
            draft.publish()
        link_dist(settings)
    result.pruned = draft.pruned
    return result


def _write(
    settings: Settings,
    draft: ReleaseDraft,
    manifest: dict[str, Any],
    progress: Progress,
    options: CatalogOptions,
    static_site: bool,
    site_only: Sequence[str],
) -> PublishResult:
    iris = Iris(settings.base_iri)
    release_dir, release_id = draft.dir, draft.id
    dist = release_dir / "dist"
    dist.mkdir()
    store = open_read_only(draft.store_path)
    graphs: dict[str, str] = {name: info["iri"] for name, info in manifest["graphs"].items()}
    graph_sources = {name: list(info.get("sources", [])) for name, info in manifest["graphs"].items()}
    with progress.step("dumps"):
        files = dumps.write_dumps(store, dist)
        source_files = {
            source.key: dumps.write_source_dump(
                store, dist, source.key, [(g, graphs[g]) for g in source.graphs]
            )
            for source in dcat.sources_of(list(graphs))
        }
    with progress.step("VoID"):
        _serialize(void.void_graph(store, iris), dist, VOID_FILES)
    with progress.step("DCAT-AP catalogue"):
        data = dcat.CatalogInput(
            release_date=date.today(),
            graphs=graphs,
            graph_sources=graph_sources,
            dumps=files,
            source_dumps=source_files,
            options=options,
            extents=extent.catalogue_extents(settings.data_dir / "reference"),
        )
        catalog = dcat.catalog_graph(store, iris, data)
        outcome = dcat.check_catalog(catalog, settings.data_dir / "reference")
        (dist / DCAT_REPORT).write_text(outcome.render() + "\n", encoding="utf-8")
        if outcome.report is not None:
            outcome.report.serialize(destination=dist / DCAT_REPORT_TTL, format="turtle", encoding="utf-8")
        if not outcome.conforms:
            raise ValidationFailed("the DCAT-AP catalogue does not conform:\n" + outcome.render())
        _serialize(catalog, dist, CATALOG_FILES)
    pages: int | None = None
    notes: list[str] = []
    del store  # the site renders through the app, which opens the store itself
    if static_site:
        from bassin_kg.publish.static_site import export_site

        with progress.step("static site"):
            site = export_site(settings, release_dir, only=site_only, progress=progress)
            pages, notes = site.pages, site.notes
    from bassin_kg.publish.static_site import write_index

    listed = [*files, *source_files.values()]
    write_index(
        dist,
        [(f.name, f.bytes, f.sha256) for f in listed],
        site=pages is not None,
        title="Trajectoire économique du bassin minier : données liées",
    )
    metadata = [*VOID_FILES.values(), *CATALOG_FILES.values(), DCAT_REPORT, DCAT_REPORT_TTL, "index.html"]
    dumps.write_checksums(dist, [f.name for f in files] + [f.name for f in source_files.values()] + metadata)
    created = now_stamp()
    manifest["published"] = {
        "at": created,
        "dcat_ap": {
            "profile": "3.0.1",
            "shapes": list(outcome.checked),
            "violations": len(outcome.violations),
            "warnings": len(outcome.warnings),
            "known_shape_defects": len(outcome.known_defects),
        },
        "static_site_pages": pages,
    }
    draft.write_manifest(manifest, files=[*files, *source_files.values()], created=created)
    return PublishResult(release_id, release_dir, files, list(source_files.values()), outcome, pages, notes)


def _serialize(graph: Any, dist: Path, names: dict[str, str]) -> None:
    for key, name in names.items():
        graph.serialize(destination=dist / name, format=_RDFLIB_FORMATS[key], encoding="utf-8")
