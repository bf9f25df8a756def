"""``bassin-kg publish``: a new release with the publication, switched atomically; a failure changes
nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bassin_kg.cli import main
from bassin_kg.progress import Progress
from bassin_kg.publish import PublishResult, publish
from bassin_kg.release import dumps
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_publication_is_a_new_release_seen_through_dist(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    assert settings.current_release.resolve() == result.release_dir.resolve()
    assert settings.dist_dir.resolve() == (result.release_dir / "dist").resolve()
    for name in ("bassin-minier.nt.gz", "void.ttl", "catalog.rdf", "checksums.sha256", "index.html"):
        assert (settings.dist_dir / name).is_file(), name
    manifest = json.loads((result.release_dir / "release.json").read_text())
    assert manifest["release"] == result.release_id
    assert manifest["files"]["bassin-minier.trig"]["sha256"] == next(
        d.sha256 for d in result.dumps if d.name == "bassin-minier.trig"
    )
    assert manifest["published"]["dcat_ap"]["violations"] == 0
    assert manifest["published"]["dcat_ap"]["profile"] == "3.0.1"
    assert (result.release_dir / "validation.txt").is_file()
    # the store is the previous release's, unchanged
    assert sum(g["triples"] for g in manifest["graphs"].values()) == len(
        open_read_only(result.release_dir / "store")
    )


def test_failed_publish_leaves_the_previous_dist_untouched(
    fresh_build: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fresh_build
    before_target = settings.current_release.resolve()
    before = _snapshot(settings.dist_dir)
    releases = sorted(p.name for p in (settings.build_root / "releases").iterdir())

    def broken(store: object, path: Path) -> None:
        path.write_text("half a file")
        raise OSError("disk full (synthetic)")

    monkeypatch.setitem(dumps.WRITERS, "jsonld", broken)
    with pytest.raises(OSError, match="disk full"):
        publish(settings, progress=Progress(quiet=True))
    assert settings.current_release.resolve() == before_target
    assert _snapshot(settings.dist_dir) == before
    assert sorted(p.name for p in (settings.build_root / "releases").iterdir()) == releases


def test_cli_publish_prints_the_files_and_the_dcat_warnings(
    fresh_build: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = fresh_build
    code = main(
        [
            "--root",
            str(settings.root),
            "--build-dir",
            str(settings.build_root),
            "-q",
            "publish",
            "--publisher",
            "Observatoire test",
            "--publisher-type",
            "RegionalAuthority",
            "--contact",
            "mailto:contact@example.org",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "bassin-minier.nt.gz" in out
    assert "sha256" in out
    assert "mdr-vocabularies.shape.ttl): 0 violation(s)" in out
    assert "warning:" in out
    catalog = (settings.dist_dir / "catalog.ttl").read_text()
    assert "Observatoire test" in catalog
    assert "mailto:contact@example.org" in catalog
    assert "<http://purl.org/adms/publishertype/RegionalAuthority>" in catalog


def test_an_unknown_publisher_type_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--root", str(tmp_path), "-q", "publish", "--publisher-type", "Mairie"])
    assert code == 2
    assert "unknown publisher type 'Mairie'" in capsys.readouterr().err


def test_publish_without_a_build_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--root", str(tmp_path), "-q", "publish"])
    assert code == 2
    assert "run `bassin-kg build` first" in capsys.readouterr().err
