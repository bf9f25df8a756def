"""``bassin-kg ingest bmo``: the dataset graph is swapped into the published build, atomically."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
import pytest

from bassin_kg import cli
from bassin_kg.errors import DataError, UsageError, ValidationFailed
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release.replace import IngestResult, run_loader
from bassin_kg.settings import Settings
from bassin_kg.sources.registry import loader

ROOT = Path(__file__).resolve().parents[2]
IRIS = Iris()
HEADER = (
    "annee,Code métier BMO,Nom métier BMO,Famille_met,Lbl_fam_met,REG,NOM_REG,Dept,NomDept,"
    "BE24,NOMBE24,met,xmet,smet"
)
STALE = ox.Quad(
    ox.NamedNode("http://example.org/synthetic/stale"),
    ox.NamedNode("http://example.org/synthetic/p"),
    ox.Literal("from an earlier ingest"),
    ox.NamedNode(str(IRIS.graph("bmo-2024"))),
)
KEPT = ox.Quad(
    ox.NamedNode("http://example.org/synthetic/deck-thing"),
    ox.NamedNode("http://example.org/synthetic/p"),
    ox.Literal("deck"),
    ox.NamedNode(str(IRIS.graph("deck"))),
)


def ingest_bmo(
    settings: Settings, path: Path, *, bassins: Sequence[str] = (), progress: Progress
) -> IngestResult:
    """``bassin-kg ingest bmo PATH [--bassin CODE…]`` without the argument parser."""
    args = argparse.Namespace(file=path, bassin=list(bassins))
    return run_loader(settings, loader("ingest", "bmo"), args, progress)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A project root linking the real reference data, shapes and ontology, and a SYNTHETIC release."""
    root = tmp_path / "project"
    (root / "data").mkdir(parents=True)
    (root / "data" / "reference").symlink_to(ROOT / "data" / "reference")
    (root / "ontology").symlink_to(ROOT / "ontology")
    (root / "shapes").symlink_to(ROOT / "shapes")
    release = root / "build" / "releases" / "20250101T000000.000000Z-abcdef"
    release.mkdir(parents=True)
    store = ox.Store(str(release / "store"))
    store.extend([STALE, KEPT])
    store.flush()
    del store
    manifest = {"release": release.name, "graphs": {"deck": {"triples": 1}}, "validation": "conforms"}
    (release / "release.json").write_text(json.dumps(manifest), encoding="utf-8")
    (release / "validation.txt").write_text("SHACL validation: conforms\n", encoding="utf-8")
    os.symlink(os.path.relpath(release, root / "build"), root / "build" / "current")
    return Settings(root=root)


def _bmo_file(folder: Path, *rows: str) -> Path:
    # SYNTHETIC figures for real codes
    path = folder / "bmo2024_synthetic.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


ROW_A = "2024,A0X40,Agriculteurs,Z,Autres,32,HdF,62,PdC,3225,BMO OUEST,20,5,*"
ROW_B = "2024,A0X41,Eleveurs,Z,Autres,32,HdF,62,PdC,3227,LENS,7,1,0"


def _quads(store_path: Path, graph: str) -> set[ox.Quad]:
    store = ox.Store.read_only(str(store_path))
    return set(store.quads_for_pattern(None, None, None, ox.NamedNode(str(IRIS.graph(graph)))))


def test_ingest_replaces_the_dataset_graph_in_a_new_release(settings: Settings, tmp_path: Path) -> None:
    old = settings.current_release.resolve()
    result = ingest_bmo(settings, _bmo_file(tmp_path, ROW_A, ROW_B), progress=Progress(quiet=True))
    new = settings.current_release.resolve()
    assert new != old
    assert new == result.release_dir.resolve()
    assert (result.dataset, result.rows, result.validation) == ("bmo-2024", 2, "conforms")
    bmo = _quads(new / "store", "bmo-2024")
    assert STALE not in bmo
    assert len(bmo) == result.triples
    assert KEPT in _quads(new / "store", "deck")
    # the published release before the ingest is untouched
    assert STALE in _quads(old / "store", "bmo-2024")
    manifest = json.loads((new / "release.json").read_text(encoding="utf-8"))
    assert manifest["release"] == result.release_id
    assert manifest["graphs"]["bmo-2024"]["triples"] == result.triples
    assert manifest["graphs"]["deck"] == {"triples": 1}
    assert {"bassin-minier.ttl", "bassin-minier.nq"} <= set(manifest["files"])
    assert (new / "dist" / "bassin-minier.nq").stat().st_size > 0
    # the report of the whole new release, as `bassin-kg validate` gives it
    assert (new / "validation.txt").read_text(encoding="utf-8").startswith("SHACL validation: conforms")


def test_bassin_option_restricts_rows(settings: Settings, tmp_path: Path) -> None:
    result = ingest_bmo(
        settings, _bmo_file(tmp_path, ROW_A, ROW_B), bassins=["3227"], progress=Progress(quiet=True)
    )
    assert result.rows == 1
    subjects = {q.subject.value for q in _quads(result.release_dir / "store", "bmo-2024")}
    assert str(IRIS.observation("bmo-2024", "bassin-bmo-3227", "departement-62", "A0X41")) in subjects
    assert str(IRIS.observation("bmo-2024", "bassin-bmo-3225", "departement-62", "A0X40")) not in subjects


def test_a_triple_another_graph_holds_is_refused(settings: Settings, tmp_path: Path) -> None:
    # SYNTHETIC: the published deck graph already holds the label the file would give bassin 3225
    store = ox.Store(str(settings.current_release / "store"))
    label = ox.Literal("BMO OUEST", language="fr")
    bassin = ox.NamedNode(str(IRIS.bassin_bmo("3225")))
    store.add(
        ox.Quad(bassin, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), label, KEPT.graph_name)
    )
    store.flush()
    del store
    before = settings.current_release.resolve()
    with pytest.raises(DataError, match=r"1 triplet\(s\) dans plusieurs graphes nommés") as info:
        ingest_bmo(settings, _bmo_file(tmp_path, ROW_A), progress=Progress(quiet=True))
    assert "bassin-bmo/3225" in str(info.value)
    assert "bmo-2024, deck" in str(info.value)
    assert settings.current_release.resolve() == before


def test_bad_file_leaves_the_build_as_it_was(settings: Settings, tmp_path: Path) -> None:
    before = settings.current_release.resolve()
    releases = set((settings.build_root / "releases").iterdir())
    with pytest.raises(DataError, match="xmet"):
        ingest_bmo(
            settings, _bmo_file(tmp_path, ROW_A.replace(",20,5,", ",2,5,")), progress=Progress(quiet=True)
        )
    assert settings.current_release.resolve() == before
    assert set((settings.build_root / "releases").iterdir()) == releases


def test_validation_failure_publishes_nothing(settings: Settings, tmp_path: Path) -> None:
    shapes = settings.root / "shapes"
    shapes.unlink()
    shapes.mkdir()
    # SYNTHETIC shape that every BMO observation breaks
    (shapes / "strict.ttl").write_text(
        """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix qb: <http://purl.org/linked-data/cube#> .
        @prefix bm: <https://w3id.org/bassin-minier/def#> .
        <http://example.org/synthetic/Strict> a sh:NodeShape ; sh:targetClass qb:Observation ;
            sh:property [ sh:path bm:projetsRecrutement ; sh:maxCount 0 ; sh:message "no projects"@en ] .
        """,
        encoding="utf-8",
    )
    before = settings.current_release.resolve()
    with pytest.raises(ValidationFailed, match="no projects"):
        ingest_bmo(settings, _bmo_file(tmp_path, ROW_A), progress=Progress(quiet=True))
    assert settings.current_release.resolve() == before
    assert len(list((settings.build_root / "releases").iterdir())) == 1


def test_without_a_build_the_command_says_to_build_first(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    (root / "data").mkdir(parents=True)
    (root / "data" / "reference").symlink_to(ROOT / "data" / "reference")
    (root / "ontology").symlink_to(ROOT / "ontology")
    (root / "shapes").symlink_to(ROOT / "shapes")
    with pytest.raises(UsageError, match="run `bassin-kg build` first"):
        ingest_bmo(Settings(root=root), _bmo_file(tmp_path, ROW_A), progress=Progress(quiet=True))


def test_cli_ingest_bmo(settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _bmo_file(tmp_path, ROW_A, ROW_B)
    code = cli.main(["-q", "--root", str(settings.root), "ingest", "bmo", str(path), "--bassin", "3225"])
    assert code == 0
    assert "ingested 1 rows into graph bmo-2024" in capsys.readouterr().out
    bad = _bmo_file(tmp_path, ROW_A.replace("A0X40", "A0Q00"))
    assert cli.main(["-q", "--root", str(settings.root), "ingest", "bmo", str(bad)]) == 1
    assert "code métier FAP2021 inconnu" in capsys.readouterr().err
