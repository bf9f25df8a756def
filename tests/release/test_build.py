"""Tests of release/build.py: a release is written beside the others, published only when all succeeded.

Most builds run on the synthetic tables of tests/fixtures/curated-min with two converters: the deck's and
a synthetic FAP-2009 stand-in. The last tests build the real committed data with every converter.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal
from rdflib.namespace import RDF, SH, SKOS

import bassin_kg.release.build as build_module
from bassin_kg.errors import DataError, UsageError, ValidationFailed
from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release.build import NQUADS_DUMP, TURTLE_DUMP, BuildResult, build
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources import ontology
from bassin_kg.sources.base import ConvertContext, GraphPart, new_graph
from bassin_kg.sources.common import read_table
from bassin_kg.store import open_read_only
from synthetic_places import add_places_and_parents

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "curated-min"
QUIET = Progress(quiet=True)
PREFIXES = """
PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
"""


def synthetic_fap2009(ctx: ConvertContext) -> list[GraphPart]:
    """SYNTHETIC stand-in for sources/occupations.py: one FAP-2009 concept per code of the fixture's
    occupations.csv, so that the deck's mapping links point to concepts (shapes/occupation.ttl)."""
    graph = new_graph()
    scheme = ctx.iris.scheme("fap2009")
    graph.add((scheme, RDF.type, SKOS.ConceptScheme))
    graph.add((scheme, SKOS.prefLabel, Literal("FAP-2009 (synthetic test subset)", lang="fr")))
    table = read_table(ctx.settings.root, "data/curated/occupations.csv", ["codes_fap2009"])
    for code in {code for row in table for code in row.text("codes_fap2009").split()}:
        concept = ctx.iris.fap2009(code)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.notation, Literal(code)))
        graph.add((concept, SKOS.prefLabel, Literal(f"famille {code}", lang="fr")))
    # SYNTHETIC: the zones (insee-territoires) and FAP-87 parents the deck graph refers to
    add_places_and_parents(ctx, graph, {code for row in table for code in row.text("codes_fap2009").split()})
    return [GraphPart("fap2009", graph)]


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A project folder with the synthetic tables, the real ontology and shapes, and two converters."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root / "data" / "curated")
    (root / "ontology").mkdir()
    shutil.copy(REPO / "ontology" / "bassin.ttl", root / "ontology" / "bassin.ttl")
    (root / "shapes").symlink_to(REPO / "shapes")
    monkeypatch.setattr(
        build_module, "converters", lambda: [ontology.convert, deck_converter.convert, synthetic_fap2009]
    )
    return Settings(root=root, build_dir=tmp_path / "build", keep_releases=1)


def releases(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.build_root / "releases").iterdir())


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its content."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def count(store: ox.Store, query: str) -> int:
    [row] = list(store.query(PREFIXES + query))  # type: ignore[arg-type]
    return int(row[0].value)


# --- a successful build --------------------------------------------------------------------------------
def test_build_publishes_store_dumps_and_manifest(settings: Settings) -> None:
    result = build(settings, progress=QUIET)
    current = settings.current_release
    assert current.is_symlink()
    assert current.resolve() == result.release_dir.resolve()
    assert set(result.graphs) == {"ontology", "deck", "fap2009"}

    store = open_read_only(current / "store")
    iris = Iris(settings.base_iri)
    for name, triples in result.graphs.items():
        assert triples > 0
        assert (
            count(store, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{iris.graph(name)}> {{ ?s ?p ?o }} }}")
            == triples
        )
    assert len(store) == sum(result.graphs.values())

    dist = current / "dist"
    quads = list(ox.parse(path=str(dist / NQUADS_DUMP), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == sum(result.graphs.values())
    distinct = {(q.subject, q.predicate, q.object) for q in quads}
    triples = list(ox.parse(path=str(dist / TURTLE_DUMP), format=ox.RdfFormat.TURTLE))
    # blank nodes are relabelled by parsing, hence a count rather than a set comparison
    assert len(triples) == len(distinct)
    assert "@prefix bm: <https://w3id.org/bassin-minier/def#> .\n" in (dist / TURTLE_DUMP).read_text(
        encoding="utf-8"
    )

    manifest = json.loads((current / "release.json").read_text(encoding="utf-8"))
    assert manifest["release"] == result.release_id
    assert {name: g["triples"] for name, g in manifest["graphs"].items()} == result.graphs
    for name in (TURTLE_DUMP, NQUADS_DUMP):
        data = (dist / name).read_bytes()
        assert manifest["files"][name] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert (current / "validation.txt").read_text(encoding="utf-8").startswith("SHACL validation: conforms")

    assert (settings.root / "dist").is_symlink()
    assert (settings.root / "dist").resolve() == dist.resolve()
    assert result.release_id in result.summary()


def test_second_build_switches_current_and_keeps_the_previous_one(settings: Settings) -> None:
    first = build(settings, progress=QUIET)
    second = build(settings, progress=QUIET)
    assert settings.current_release.resolve() == second.release_dir.resolve()
    assert releases(settings) == [first.release_id, second.release_id]
    assert (first.release_dir / "dist" / NQUADS_DUMP).is_file()
    third = build(settings, progress=QUIET)  # keep_releases=1: the first one goes
    assert releases(settings) == [second.release_id, third.release_id]
    assert third.pruned == [first.release_id]


def test_notes_of_converters_are_in_the_summary(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    def noted(ctx: ConvertContext) -> list[GraphPart]:
        [part] = synthetic_fap2009(ctx)
        part.notes.append("3 codes were merged")
        return [part]

    monkeypatch.setattr(
        build_module,
        "converters",
        lambda: [
            ontology.convert,
            deck_converter.convert,
            noted,
        ],
    )
    assert "note: 3 codes were merged" in build(settings, progress=QUIET).summary()


def test_provenance_of_every_observation_and_swot_item(settings: Settings) -> None:
    build(settings, progress=QUIET)
    store = open_read_only(settings.current_release / "store")
    subjects = """
        ?s a ?type .
        VALUES ?type { qb:Observation bm:ElementSWOT bm:Force bm:Faiblesse bm:Opportunite bm:Menace }
    """
    assert count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ GRAPH ?g {{ {subjects} }} }}") == 12
    orphans = f"""
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            GRAPH ?g {{ {subjects} }}
            FILTER NOT EXISTS {{
                GRAPH ?g2 {{ ?s prov:wasDerivedFrom ?record . ?record bm:fichier ?file ; bm:ligne ?line . }}
            }}
        }}
    """
    assert count(store, orphans) == 0


# --- failures leave the published release as it was ----------------------------------------------------
class BoomError(Exception):
    pass


def failing_converter(error: BaseException) -> object:
    def convert(ctx: ConvertContext) -> list[GraphPart]:
        raise error

    return convert


def non_conforming(data: object, shapes_dir: Path, **_: object) -> object:
    from bassin_kg.validate import Report, Result, Severity

    violation = Result(
        Severity.VIOLATION,
        focus_node=Iris().ze2010("3123"),
        path=None,
        value=None,
        constraint_component=SH.MinCountConstraintComponent,
        source_shape=SH.NodeShape,
        messages=(Literal("violation de test", lang="fr"),),
    )
    return Report(results=[violation])


@pytest.fixture
def published(settings: Settings) -> tuple[BuildResult, dict[str, str]]:
    first = build(settings, progress=QUIET)
    return first, snapshot(first.release_dir)


def assert_untouched(settings: Settings, published: tuple[BuildResult, dict[str, str]]) -> None:
    first, files = published
    assert settings.current_release.resolve() == first.release_dir.resolve()
    assert snapshot(first.release_dir) == files
    assert releases(settings) == [first.release_id]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (DataError("bad row", file="data/curated/x.csv", line=3), DataError),
        (KeyboardInterrupt(), KeyboardInterrupt),
        (BoomError("converter bug"), BoomError),
    ],
)
def test_failed_conversion_keeps_the_published_release(
    settings: Settings,
    published: tuple[BuildResult, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    error: BaseException,
    expected: type[BaseException],
) -> None:
    monkeypatch.setattr(
        build_module,
        "converters",
        lambda: [
            ontology.convert,
            deck_converter.convert,
            failing_converter(error),
        ],
    )
    with pytest.raises(expected):
        build(settings, progress=QUIET)
    assert_untouched(settings, published)


def test_failed_validation_keeps_the_published_release(
    settings: Settings, published: tuple[BuildResult, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bassin_kg.validate.validate_ntriples", non_conforming)
    with pytest.raises(ValidationFailed, match="violation de test"):
        build(settings, progress=QUIET)
    assert_untouched(settings, published)


def test_failure_after_loading_removes_the_store_too(
    settings: Settings, published: tuple[BuildResult, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(store: object, dist: Path, *specs: object, **options: object) -> object:
        dist.mkdir(parents=True)
        (dist / TURTLE_DUMP).write_text("@prefix half: <x:> .")
        raise OSError("No space left on device")

    monkeypatch.setattr(build_module, "write_dumps", disk_full)
    with pytest.raises(OSError, match="No space left"):
        build(settings, progress=QUIET)
    assert_untouched(settings, published)


def test_bad_curated_table_fails_before_anything_is_published(settings: Settings) -> None:
    (settings.root / "data" / "curated" / "sectors.csv").unlink()
    with pytest.raises(DataError, match=r"sectors\.csv"):
        build(settings, progress=QUIET)
    assert not settings.current_release.exists()
    assert releases(settings) == []


# --- the publication folders ----------------------------------------------------------------------------
def test_a_real_dist_directory_is_left_alone(settings: Settings) -> None:
    dist = settings.root / "dist"
    dist.mkdir()
    (dist / "mine.txt").write_text("keep me")
    result = build(settings, progress=QUIET)
    assert [p.name for p in dist.iterdir()] == ["mine.txt"]
    assert "is a real directory: left untouched" in result.summary()


def test_current_as_a_real_directory_is_refused(settings: Settings) -> None:
    settings.current_release.mkdir(parents=True)
    with pytest.raises(UsageError, match="not a link to a release"):
        build(settings, progress=QUIET)
    assert not (settings.build_root / "releases").exists()


def test_unfinished_releases_of_killed_builds_are_pruned(settings: Settings) -> None:
    leftover = settings.build_root / "releases" / "20000101T000000.000000Z-abcdef"
    (leftover / "store").mkdir(parents=True)
    build(settings, progress=QUIET)
    assert not leftover.exists()


# --- the real committed data, every converter -----------------------------------------------------------
@pytest.fixture(scope="module")
def real_store(tmp_path_factory: pytest.TempPathFactory) -> ox.Store:
    """One build of the committed data, in a copy of the project (the checkout's dist/ stays untouched)."""
    root = tmp_path_factory.mktemp("real")
    for name in ("data", "ontology", "shapes"):
        shutil.copytree(REPO / name, root / name)
    settings = Settings(root=root, build_dir=root / "build")
    build(settings, progress=QUIET)
    return open_read_only(settings.current_release / "store")


def test_real_build_has_the_47_swot_items_of_the_deck(real_store: ox.Store) -> None:
    rows = real_store.query(
        PREFIXES
        + """
        SELECT ?type (COUNT(DISTINCT ?item) AS ?n) WHERE {
            GRAPH ?g { ?item a ?type . VALUES ?type { bm:Force bm:Faiblesse bm:Opportunite bm:Menace } }
        } GROUP BY ?type
        """
    )
    by_type = {row[0].value.rsplit("#", 1)[1]: int(row[1].value) for row in rows}  # type: ignore[union-attr]
    assert by_type == {"Force": 15, "Faiblesse": 9, "Opportunite": 15, "Menace": 8}
    assert sum(by_type.values()) == 47


def test_real_build_has_20_project_observations(real_store: ox.Store) -> None:
    query = "SELECT (COUNT(DISTINCT ?o) AS ?n) { GRAPH ?g { ?o a qb:Observation ; bm:projetsRecrutement ?v ;"
    query += " qb:dataSet ?d . FILTER(STRENDS(STR(?d), '/dataset/deck-projets-recrutement')) } }"
    assert count(real_store, query) == 20


def test_real_build_valenciennois_1152_comes_from_deck_line_354(real_store: ox.Store) -> None:
    rows = list(
        real_store.query(  # type: ignore[arg-type]
            PREFIXES
            + """
            SELECT DISTINCT ?code ?line ?file WHERE {
                GRAPH ?g {
                    ?obs bm:projetsRecrutement 1152 ; sdmx-dimension:refArea ?zone .
                    ?obs prov:wasDerivedFrom ?row .
                    ?row prov:wasDerivedFrom ?deck .
                    ?deck bm:ligne ?line ; bm:fichier ?file .
                }
                GRAPH ?g2 { ?zone <http://rdf.insee.fr/def/geo#codeINSEE> ?code }
            }
            """
        )
    )
    assert [(r[0].value, int(r[1].value), r[2].value) for r in rows] == [
        ("3115", 354, "data/sources/deck/trajectoire-economique-bassin-minier-2019.txt")
    ]
