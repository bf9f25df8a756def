"""``serve --enable-update`` on a build: every accepted change is a new release, never a write in place.

The published release is read-only for everyone (DESIGN.md: a build, an ingest and an accepted update
are the same move). An update, or a Graph Store write, runs like ``ingest``:

1. take the build lock and make a draft release (:func:`bassin_kg.release.new_release`);
2. copy the published store into it (``Store.backup``: hard links, cheap);
3. run the operation on the draft's store, in a fresh worker process (killed on timeout);
4. validate the whole store with the project's shapes, write the dumps, their checksums and a
   manifest with the new release id;
5. switch ``build/current`` in one rename; older releases are pruned under the same lock.

Any failure removes the draft and leaves the published release as it was. Queries follow
``build/current`` as on a read-only server (:class:`~bassin_kg.web.serving.releases.ReleaseEngine`),
so the next request reads the new release under its own ETag. The writer holds no store between two
operations, so pruning can never remove one under it. A ``--store`` outside ``build/releases/`` is the
user's own working copy: it is written in place (see :func:`inside_a_release`).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import anyio.to_thread

from bassin_kg import validate
from bassin_kg.errors import StoreError, UsageError
from bassin_kg.release import RELEASE_FILE, VALIDATION_FILE, ReleaseDraft, new_release, now_stamp
from bassin_kg.release.dumps import RELEASE_SPECS, write_dumps
from bassin_kg.settings import Settings
from bassin_kg.store import count_triples, open_store
from bassin_kg.web.serving.engine import (
    GraphDropJob,
    GraphWriteJob,
    Job,
    JobError,
    Outcome,
    UpdateJob,
    run_in_fresh_worker,
)
from bassin_kg.web.serving.releases import _PINNED, ReleaseEngine

WriteJob = UpdateJob | GraphWriteJob | GraphDropJob


def inside_a_release(store: Path) -> bool:
    """True when ``store`` is the store of a release (``…/releases/<id>/store`` with its manifest)."""
    resolved = store.resolve()
    return resolved.parent.parent.name == "releases" and (resolved.parent / RELEASE_FILE).is_file()


class ReleasingEngine(ReleaseEngine):
    """Reads follow ``build/current``; each write becomes a new release (see the module's doc)."""

    def __init__(self, settings: Settings, *, size: int, prefixes: dict[str, str] | None = None) -> None:
        super().__init__(
            settings.current_release / "store",
            size=size,
            prefixes=prefixes,
            memory_max_quads=settings.memory_store_max_quads,
        )
        self.settings = settings
        self.writable = True
        # one change at a time in this server (the build lock keeps other commands out)
        self._writing = threading.Lock()

    async def run(self, job: Job, timeout: float) -> Outcome:
        if not isinstance(job, UpdateJob | GraphWriteJob | GraphDropJob):
            return await super().run(job, timeout)
        outcome = await anyio.to_thread.run_sync(self._publish, job, timeout)
        # the rest of this request (its ETag) sees the release it just made
        _PINNED.set((id(self), self.pin()))
        return outcome

    def _publish(self, job: WriteJob, timeout: float) -> Outcome:
        with self._writing:
            try:
                with new_release(self.settings) as draft:
                    if draft.previous is None:
                        raise JobError("evaluation", "no published build to change: run `bassin-kg build`")
                    manifest = draft.previous_manifest(then="the update")
                    draft.copy_previous_store()
                    outcome = run_in_fresh_worker(draft.store_path, job, timeout, self.prefixes)
                    report = validate.validate_store(draft.store_path, self.settings.root / "shapes")
                    if not report.conforms:
                        raise JobError(
                            "bad_data",
                            "the change would make the data invalid; nothing was published:\n"
                            + report.render()[:4000],
                        )
                    (draft.dir / VALIDATION_FILE).write_text(report.render(), encoding="utf-8")
                    _write_dumps_and_manifest(draft, manifest, job, report)
                    draft.publish()
                return outcome
            except UsageError as exc:  # the build lock is held by a build, an ingest or a publish
                raise JobError("busy", f"{exc}; retry in a moment") from None
            except StoreError as exc:
                raise JobError("evaluation", str(exc)) from None


def _write_dumps_and_manifest(
    draft: ReleaseDraft, manifest: dict[str, Any], job: WriteJob, report: validate.Report
) -> None:
    """The dumps of the changed store, and a manifest saying what they hold and what changed."""
    store = open_store(draft.store_path)
    try:
        dumps = write_dumps(store, draft.dir / "dist", RELEASE_SPECS, counted=False)
        counts = {graph.value: count_triples(store, [graph.value]) for graph in store.named_graphs()}
        store.flush()
    finally:
        del store  # closed before readers open it through `current`
    names = {entry["iri"]: name for name, entry in manifest["graphs"].items() if isinstance(entry, dict)}
    graphs: dict[str, Any] = {}
    for iri, triples in sorted(counts.items()):
        name = names.get(iri, iri)
        previous = manifest["graphs"].get(name, {})
        graphs[name] = {"iri": iri, "triples": triples, "sources": previous.get("sources", ["update"])}
    created = now_stamp()
    manifest.update(graphs=graphs, validation=report.verdict())
    manifest.setdefault("updates", []).append(
        {"at": created, "operation": type(job).__name__, "sha256": _fingerprint(job)}
    )
    draft.write_manifest(manifest, files=dumps, created=created)


def _fingerprint(job: WriteJob) -> str:
    """A digest of the operation, so the manifest tells changes apart without holding their text."""
    if isinstance(job, UpdateJob):
        data = job.update.encode()
    elif isinstance(job, GraphWriteJob):
        data = (job.graph or "").encode() + b"\0" + job.data
    else:
        data = (job.graph or "").encode()
    return hashlib.sha256(data).hexdigest()


def check_store_given(store: Path) -> None:
    """Refuse ``--enable-update --store`` on a release's own store: that would write in place."""
    if inside_a_release(store):
        raise UsageError(
            f"--enable-update would write into the release at {store.resolve().parent}; serve the build "
            "itself (no --store: each accepted update becomes a new release) or a copy of the store"
        )
