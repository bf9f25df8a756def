"""``ingest acoss``: the Urssaf export read as published, checked, converted to Data Cube observations and
swapped into a build. The export used here is SYNTHETIC (tests/fixtures/acoss/, invented figures)."""

from __future__ import annotations

import json
import os
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.cli import main
from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, IGEO, INTERVAL_QUARTER, QB, SDMX_ATT, SDMX_DIM, Iris
from bassin_kg.progress import Progress
from bassin_kg.queries import bind, load_query, run_query
from bassin_kg.release import new_release_id
from bassin_kg.release.replace import validate_data
from bassin_kg.settings import Settings
from bassin_kg.sources.acoss import (
    DATASET,
    GRAPH,
    ODBL,
    STATUS_MISSING,
    AcossFile,
    known_zone_codes,
    read_acoss,
    to_graph,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "acoss" / "effectifs-ze-synthetic.csv"
HEADER = FIXTURE.read_text(encoding="utf-8").splitlines()[0]
IRIS = Iris()


@pytest.fixture(scope="module")
def zones() -> set[str]:
    return known_zone_codes(ROOT / "data")


@pytest.fixture(scope="module")
def synthetic(zones: set[str]) -> AcossFile:
    return read_acoss(FIXTURE, known_zones=zones, display="synthetic.csv")


def write(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "export-synthetic.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def row(
    zone: str = "3205", year: str = "2021", quarter: str = "1", last: str = "2021-03-31",
    brut: str = "100", cvs: str = "100.5", masse: str = "1000", masse_cvs: str = "1000.5",
) -> str:  # fmt: skip
    """A synthetic row in the published column order (17 columns)."""
    return ";".join(
        [
            "x",
            "x",
            "x",
            "x",
            "x",
            "x",
            year,
            quarter,
            last,
            "32",
            "31",
            zone,
            "x",
            brut,
            cvs,
            masse,
            masse_cvs,
        ]
    )


# --- reading -------------------------------------------------------------------------------------------
def test_reads_the_basin_zones_and_leaves_the_others_out(synthetic: AcossFile) -> None:
    assert {r.zone for r in synthetic.rows} == {"3205", "3215"}
    assert len(synthetic.rows) == 24  # 2 zones x 3 years x 4 quarters
    assert synthetic.other_zones == 12  # 0051 Alençon
    first = synthetic.rows[0]
    assert (first.line, first.zone, first.period) == (2, "3205", "2018-Q1")
    assert first.values["effectifs_salaries_brut"] == Decimal("50100")
    assert first.values["masse_salariale_cvs"] == Decimal("300601234.5")
    assert synthetic.periods == ("2018-Q1", "2022-Q4")


def test_missing_columns_are_named_with_the_expected_ones(tmp_path: Path, zones: set[str]) -> None:
    header = HEADER.replace(";effectifs_salaries_cvs", "").replace("dernier_jour_du_trimestre", "date")
    with pytest.raises(DataError) as caught:
        read_acoss(write(tmp_path, header=header), known_zones=zones)
    message = str(caught.value)
    assert ":1: missing column(s): dernier_jour_du_trimestre, effectifs_salaries_cvs" in message
    assert (
        "code_zone_d_emploi, annee, trimestre, dernier_jour_du_trimestre, effectifs_salaries_brut" in message
    )


def test_a_comma_separated_file_is_recognised(tmp_path: Path, zones: set[str]) -> None:
    with pytest.raises(DataError, match="separated by ',' but the URSSAF export uses ';'"):
        read_acoss(write(tmp_path, header=HEADER.replace(";", ",")), known_zones=zones)


@pytest.mark.parametrize(
    ("bad", "field", "value", "problem"),
    [
        (row(brut="12 345"), "effectifs_salaries_brut", "12 345", "not a number"),
        (row(cvs="1,5"), "effectifs_salaries_cvs", "1,5", "not a number"),
        (row(masse="-3"), "masse_salariale_brut", "-3", "not a number"),
        (row(brut="10.5"), "effectifs_salaries_brut", "10.5", "not a whole number"),
        (row(zone="9999"), "code_zone_d_emploi", "9999", "unknown zone code"),
        (row(zone="3123"), "code_zone_d_emploi", "3123", "unknown zone code"),  # a 2010 zone
        (row(quarter="5"), "trimestre", "5", "not a quarter"),
        (row(year="21"), "annee", "21", "not a year"),
        (
            row(last="2021-06-30"),
            "dernier_jour_du_trimestre",
            "2021-06-30",
            "is not the last day of quarter 1",
        ),
        (row(last="31/03/2021"), "dernier_jour_du_trimestre", "31/03/2021", "not a date"),
    ],
)
def test_bad_values_name_line_field_and_value(
    tmp_path: Path, zones: set[str], bad: str, field: str, value: str, problem: str
) -> None:
    with pytest.raises(DataError) as caught:
        read_acoss(write(tmp_path, row(), bad), known_zones=zones)
    error = caught.value
    assert (error.line, error.field, error.value) == (3, field, value)
    assert problem in error.problem
    assert error.hint


def test_two_rows_for_one_zone_and_quarter_are_refused(tmp_path: Path, zones: set[str]) -> None:
    with pytest.raises(DataError, match="second row for zone 3205 and 2021-Q1 \\(first on line 2\\)"):
        read_acoss(write(tmp_path, row(), row(brut="7")), known_zones=zones)


def test_a_file_without_basin_rows_is_refused(tmp_path: Path, zones: set[str]) -> None:
    with pytest.raises(DataError, match="no row for the mining basin's zones"):
        read_acoss(write(tmp_path, row(zone="51")), known_zones=zones)  # 0051 without its leading zero


def test_empty_cells_become_a_status_never_a_zero(tmp_path: Path, zones: set[str]) -> None:
    acoss = read_acoss(write(tmp_path, row(cvs="", masse_cvs="")), known_zones=zones, display="x.csv")
    assert acoss.empty_cells == 2
    graph = to_graph(acoss, IRIS, source_file="x.csv")
    obs = IRIS.observation(DATASET, "ze2020-3205", "2021-Q1")
    assert (obs, SDMX_ATT.obsStatus, STATUS_MISSING) in graph
    assert graph.value(obs, BM.effectifsSalariesCvs) is None
    assert graph.value(obs, BM.masseSalarialeCvs) is None
    assert graph.value(obs, BM.effectifsSalariesBrut) == Literal("100", datatype=XSD.integer)
    with pytest.raises(DataError, match="every measure of the row is empty"):
        read_acoss(write(tmp_path, row(brut="", cvs="", masse="", masse_cvs="")), known_zones=zones)


# --- conversion ----------------------------------------------------------------------------------------
def test_observations_by_zone_and_quarter(synthetic: AcossFile) -> None:
    graph = to_graph(synthetic, IRIS, source_file="tests/fixtures/acoss/effectifs-ze-synthetic.csv")
    dataset = IRIS.dataset(DATASET)
    assert (dataset, DCTERMS.license, ODBL) in graph
    assert (dataset, QB.structure, BM["dsd-acoss-effectifs-ze"]) in graph
    observations = set(graph.subjects(RDF.type, QB.Observation))
    assert len(observations) == 24
    obs = IRIS.observation(DATASET, "ze2020-3215", "2021-Q3")
    assert obs in observations
    assert graph.value(obs, SDMX_DIM.refArea) == IRIS.ze2020("3215")
    assert graph.value(obs, SDMX_DIM.refPeriod) == INTERVAL_QUARTER["2021-Q3"]
    assert graph.value(obs, QB.dataSet) == dataset
    assert graph.value(obs, BM.effectifsSalariesBrut) == Literal("41550", datatype=XSD.integer)
    assert graph.value(obs, BM.effectifsSalariesCvs) == Literal("41500.5", datatype=XSD.decimal)
    record = graph.value(obs, PROV.wasDerivedFrom)
    assert record == IRIS.source_record(DATASET, 20)
    assert graph.value(record, BM.ligne) == Literal(20, datatype=XSD.integer)
    assert str(graph.value(record, BM.fichier)) == "tests/fixtures/acoss/effectifs-ze-synthetic.csv"
    assert (None, SDMX_ATT.obsStatus, None) not in graph


def test_the_graph_conforms_to_the_shapes(synthetic: AcossFile) -> None:
    data = to_graph(synthetic, IRIS, source_file="x.csv").serialize(format="nt", encoding="utf-8")
    report = validate_data(Settings(root=ROOT), data, Progress(quiet=True))
    assert report.conforms, report.render()


def test_the_ontology_defines_the_measures_and_structure() -> None:
    ontology = Graph().parse(ROOT / "ontology" / "bassin.ttl", format="turtle")
    dsd = BM["dsd-acoss-effectifs-ze"]
    assert (dsd, RDF.type, QB.DataStructureDefinition) in ontology
    in_dsd = {o for c in ontology.objects(dsd, QB.component) for o in ontology.objects(c, QB.measure)}
    measures = {
        BM.effectifsSalariesBrut,
        BM.effectifsSalariesCvs,
        BM.masseSalarialeBrut,
        BM.masseSalarialeCvs,
    }
    assert in_dsd == measures
    for measure in measures:
        assert (measure, RDF.type, QB.MeasureProperty) in ontology
        for prop in (RDFS.label, RDFS.comment):
            assert {getattr(o, "language", None) for o in ontology.objects(measure, prop)} == {"fr", "en"}


# --- the command, on a published build -------------------------------------------------------------------
def fake_build(build_dir: Path) -> Path:
    """A published release holding one graph of SYNTHETIC territories, as `build` leaves it."""
    release_id = new_release_id()
    release = build_dir / "releases" / release_id
    release.mkdir(parents=True)
    store = ox.Store(str(release / "store"))
    zone = ox.NamedNode(str(IRIS.ze2020("3205")))
    graph = ox.NamedNode(str(IRIS.graph("insee-territoires")))
    store.add(ox.Quad(zone, ox.NamedNode(str(IGEO.codeINSEE)), ox.Literal("3205"), graph))
    store.flush()
    del store
    manifest = {"release": release_id, "graphs": {"insee-territoires": {"triples": 1}}, "files": {}}
    (release / "release.json").write_text(json.dumps(manifest), encoding="utf-8")
    (build_dir / "current").symlink_to(os.path.relpath(release, build_dir))
    return release


def graph_names(build_dir: Path) -> set[str]:
    store = ox.Store.read_only(str(build_dir / "current" / "store"))
    return {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}


def test_ingest_acoss_swaps_the_graph_into_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build_dir = tmp_path / "build"
    old = fake_build(build_dir)
    status = main(["--root", str(ROOT), "--build-dir", str(build_dir), "-q", "ingest", "acoss", str(FIXTURE)])
    assert status == 0, capsys.readouterr().err
    assert "ingested 24 rows into graph acoss" in capsys.readouterr().out
    assert (build_dir / "current").resolve() != old
    assert graph_names(build_dir) == {str(IRIS.graph("insee-territoires")), str(IRIS.graph(GRAPH))}
    manifest = json.loads((build_dir / "current" / "release.json").read_text(encoding="utf-8"))
    assert manifest["graphs"][GRAPH]["sources"] == ["tests/fixtures/acoss/effectifs-ze-synthetic.csv"]


def test_a_bad_file_leaves_the_build_as_it_was(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build_dir = tmp_path / "build"
    old = fake_build(build_dir)
    bad = write(tmp_path, row(masse="beaucoup"))
    status = main(["--root", str(ROOT), "--build-dir", str(build_dir), "-q", "ingest", "acoss", str(bad)])
    assert status == 1
    err = capsys.readouterr().err
    assert "bassin-kg ingest: error:" in err
    assert ":2: not a number; field 'masse_salariale_brut'; value 'beaucoup'" in err
    assert (build_dir / "current").resolve() == old
    assert [p.name for p in (build_dir / "releases").iterdir()] == [old.name]
    assert graph_names(build_dir) == {str(IRIS.graph("insee-territoires"))}


# --- the query ---------------------------------------------------------------------------------------------
def test_emploi_acoss_territoire_shows_the_series_next_to_the_deck(synthetic: AcossFile) -> None:
    store = ox.Store()

    def load(graph: Graph, name: str) -> None:
        data = graph.serialize(format="nt", encoding="utf-8")
        store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(str(IRIS.graph(name))))

    load(to_graph(synthetic, IRIS, source_file="x.csv"), GRAPH)
    load(Graph().parse(ROOT / "ontology" / "bassin.ttl", format="turtle"), "ontology")
    # SYNTHETIC territories and deck observation (made-up rate), in the shapes of MODEL.md
    ze20, ze10 = IRIS.ze2020("3205"), IRIS.ze2010("3123")
    overlap, deck = (
        IRIS.overlap("ze2020-3205", "ze2010-3123"),
        IRIS.observation("deck-chomage", "ze2010-3123"),
    )
    deck_graph = Graph()
    for triple in [
        (ze20, IGEO.codeINSEE, Literal("3205")),
        (IRIS.ze2020("3215"), IGEO.codeINSEE, Literal("3215")),
        (ze20, SKOS.prefLabel, Literal("Béthune", lang="fr")),
        (ze10, RDF.type, IGEO.ZoneDEmploi2010),
        (ze10, SKOS.prefLabel, Literal("Béthune-Bruay", lang="fr")),
        (overlap, BM.territoireSource, ze20),
        (overlap, BM.territoireCible, ze10),
        (overlap, BM.partCommunes, Literal("0.9", datatype=XSD.decimal)),
        (deck, SDMX_DIM.refArea, ze10),
        (deck, SDMX_DIM.refPeriod, INTERVAL_QUARTER["2018-Q2"]),
        (deck, BM.tauxChomage, Literal("12.3", datatype=XSD.decimal)),
        (deck, BM.evolutionTauxChomage1An, Literal("-0.4", datatype=XSD.decimal)),
    ]:
        deck_graph.add(triple)
    load(deck_graph, "deck")
    # the deck and the territories graph both type the 2010 zone: the union must not double the rows
    load(Graph().add((ze10, RDF.type, IGEO.ZoneDEmploi2010)), "insee-territoires")
    query = load_query(ROOT / "queries" / "emploi-acoss-territoire.rq")
    result = run_query(store, bind(query, {"territory": "3205"}, IRIS))
    assert not isinstance(result, bool | tuple)
    rows = [
        {
            v: (t.value if isinstance(t, ox.Literal) else None)
            for v, t in zip(result.variables, r, strict=True)
        }
        for r in result.rows
    ]
    assert [r["period"] for r in rows] == [f"{y}-Q{q}" for y in (2018, 2021, 2022) for q in (1, 2, 3, 4)]
    assert {r["code"] for r in rows} == {"3205"}
    q2 = rows[1]
    assert (q2["effectifsBrut"], q2["effectifsCvs"], q2["masseBrut"]) == ("50200", "50200.5", "301200000")
    assert (q2["deckZone"], q2["deckRate"], q2["deckChange1y"]) == ("Béthune-Bruay", "12.3", "-0.4")
    assert all(r["deckRate"] is None for r in rows if r["period"] != "2018-Q2")
    everything = run_query(store, bind(query, {}, IRIS))
    assert not isinstance(everything, bool | tuple)
    assert len(everything.rows) == 24
