"""Tests of release/__init__.py: the lock, releases that vanish unless published, the switch, pruning."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest

from bassin_kg.errors import DataError, UsageError
from bassin_kg.release import (
    LOCK_FILE,
    RELEASE_FILE,
    RELEASE_ID,
    exclusive,
    new_release,
    new_release_id,
    read_manifest,
    release_id,
)
from bassin_kg.release.dumps import SPECS, DumpFile
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only, open_store, published_release

QUAD = ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(root=tmp_path, build_dir=tmp_path / "build", keep_releases=1)


def releases(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.build_root / "releases").iterdir())


def publish_one(settings: Settings) -> str:
    """A release with a one-quad store and a manifest (SYNTHETIC), published."""
    with new_release(settings) as draft:
        store = open_store(draft.store_path, create=True)
        store.add(QUAD)
        store.flush()
        del store
        draft.write_manifest({"release": draft.id, "graphs": {}})
        draft.publish()
    return draft.id


def test_release_ids_sort_like_creation_times() -> None:
    first, second = new_release_id(), new_release_id()
    assert RELEASE_ID.match(first)
    assert first < second


def test_publish_switches_current_with_a_relative_link(settings: Settings) -> None:
    release_id = publish_one(settings)
    current = settings.current_release
    assert os.readlink(current) == f"releases/{release_id}"
    assert published_release(settings, then="publish") == (settings.build_root / "releases" / release_id)
    assert not (settings.build_root / LOCK_FILE).read_text().strip(), "the lock was not released"


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_a_failed_release_is_removed_and_current_kept(settings: Settings, failure: BaseException) -> None:
    first = publish_one(settings)

    def write_then_fail() -> None:
        with new_release(settings) as draft:
            (draft.dir / "half-written").write_text("x")
            raise failure

    with pytest.raises(type(failure)):
        write_then_fail()
    assert releases(settings) == [first]
    assert os.readlink(settings.current_release) == f"releases/{first}"


def test_a_release_left_unpublished_is_removed(settings: Settings) -> None:
    with new_release(settings) as draft:
        assert draft.previous is None
    assert releases(settings) == []
    assert not settings.current_release.exists()


def test_old_and_unfinished_releases_are_pruned_after_publishing(settings: Settings) -> None:
    first = publish_one(settings)
    killed = settings.build_root / "releases" / "20000101T000000.000000Z-abcdef"
    (killed / "store").mkdir(parents=True)  # no release.json: a command was killed while writing it
    second = publish_one(settings)
    third = publish_one(settings)  # keep_releases=1: the first goes when the third is published
    assert releases(settings) == [second, third]
    assert not killed.exists()
    assert first < second < third


def test_the_published_store_is_copied_into_the_draft(settings: Settings) -> None:
    publish_one(settings)
    with new_release(settings) as draft:
        draft.copy_previous_store()
        assert list(open_read_only(draft.store_path)) == [QUAD]


def test_a_second_writer_is_refused_naming_the_holder(settings: Settings) -> None:
    holder = rf"another build \(pid {os.getpid()}\)"
    with exclusive(settings.build_root), pytest.raises(UsageError, match=holder), new_release(settings):
        pass


def test_the_lock_of_a_killed_command_is_taken_over(settings: Settings) -> None:
    settings.build_root.mkdir(parents=True)
    (settings.build_root / LOCK_FILE).write_text("999999\n")  # SYNTHETIC pid of a killed build
    with new_release(settings) as draft:
        assert draft.taken_over is not None
        assert "pid 999999" in draft.taken_over


def test_current_as_a_real_directory_is_refused(settings: Settings) -> None:
    settings.current_release.mkdir(parents=True)
    with pytest.raises(UsageError, match="not a link to a release"), new_release(settings):
        pass


def test_no_published_build_says_to_build_first(settings: Settings) -> None:
    with pytest.raises(UsageError, match=r"run `bassin-kg build` first, then link"):
        published_release(settings, then="link")


def test_manifest_errors_name_the_file_and_what_to_run(settings: Settings) -> None:
    publish_one(settings)
    release = published_release(settings, then="ingest")
    (release / RELEASE_FILE).write_text('["not", "an", "object"]', encoding="utf-8")
    with pytest.raises(DataError, match="no 'graphs' object") as caught:
        read_manifest(release, then="ingest")
    assert caught.value.file == str(release / RELEASE_FILE)
    (release / RELEASE_FILE).write_text("{", encoding="utf-8")
    with pytest.raises(DataError, match="cannot read the current release's manifest") as caught:
        read_manifest(release, then="ingest")
    assert caught.value.hint == "rebuild with `bassin-kg build`, then ingest again"
    (release / RELEASE_FILE).write_text(json.dumps({"graphs": {"deck": {}}}), encoding="utf-8")
    assert read_manifest(release, then="ingest") == {"graphs": {"deck": {}}}


def test_release_id_sources(tmp_path: Path) -> None:
    release = tmp_path / "releases" / "r42"
    (release / "store").mkdir(parents=True)
    assert release_id(release / "store") == "r42"
    (release / "release.json").write_text('{"release": "2024-05-01-abc"}')
    assert release_id(release / "store") == "2024-05-01-abc"
    loose = tmp_path / "loose"
    loose.mkdir()
    assert len(release_id(loose)) == 16


def test_release_id_follows_the_current_link(tmp_path: Path) -> None:
    (tmp_path / "releases" / "r7" / "store").mkdir(parents=True)
    (tmp_path / "current").symlink_to(tmp_path / "releases" / "r7")
    assert release_id(tmp_path / "current" / "store") == "r7"


def test_the_manifest_is_stamped_with_the_release_its_time_and_its_files(settings: Settings) -> None:
    spec = SPECS[0]
    dump = DumpFile(spec, spec.name, 12, "ab" * 32, None)
    with new_release(settings) as draft:
        old = {"graphs": {"deck": {}}, "release": "older", "created": "2020-01-01T00:00:00+00:00"}
        written = draft.write_manifest(old, files=[dump], created="2026-01-02T03:04:05+00:00")
        on_disk = read_manifest(draft.dir, then="build")
    assert on_disk == written
    assert list(written)[:2] == ["release", "created"]
    assert (written["release"], written["created"]) == (draft.id, "2026-01-02T03:04:05+00:00")
    assert written["files"] == {spec.name: {"bytes": 12, "sha256": "ab" * 32}}
    assert written["graphs"] == {"deck": {}}
