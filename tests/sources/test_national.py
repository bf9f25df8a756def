"""The REAL national BMO 2024 file (../shared/reference/bmo-2024-national/) ingested end to end.

One build and one national ingest per session (about a minute); every figure is checked against the
file's own cells, read here independently with openpyxl, and against the committed curated tables: no
expected number is written in this file.
"""

from __future__ import annotations

import argparse
import csv
import io
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from bassin_kg.namespaces import Iris
from bassin_kg.progress import Progress
from bassin_kg.release.build import build
from bassin_kg.release.replace import IngestResult, run_loader
from bassin_kg.settings import Settings
from bassin_kg.sources.bmo import read_bmo, reference_codes
from bassin_kg.sources.registry import loader
from bassin_kg.validate import validate_store
from bassin_kg.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
NATIONAL = ROOT.parent / "shared" / "reference" / "bmo-2024-national" / "Base_open_data_BMO_2024.xlsx"
SHEET = "BMO_2024_open_data"
IRIS = Iris()
PREFIXES = """
PREFIX bm: <https://w3id.org/bassin-minier/def#>
PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""

pytestmark = pytest.mark.skipif(not NATIONAL.is_file(), reason=f"the national BMO file is not at {NATIONAL}")


@dataclass
class Cells:
    """The data sheet read with openpyxl, apart from the code under test."""

    header: list[str]
    rows: list[list[object]]

    def column(self, name: str) -> int:
        return self.header.index(name)


@dataclass
class National:
    settings: Settings
    result: IngestResult
    cells: Cells


@pytest.fixture(scope="session")
def cells() -> Cells:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    workbook = load_workbook(NATIONAL, read_only=True, data_only=True)
    rows = [list(r) for r in workbook[SHEET].iter_rows(values_only=True)]
    workbook.close()
    return Cells([str(h) for h in rows[0]], [r for r in rows[1:] if any(v is not None for v in r)])


@pytest.fixture(scope="session")
def national(tmp_path_factory: pytest.TempPathFactory, cells: Cells) -> National:
    """A build of the committed data, then the national file ingested into it (once per session)."""
    root = tmp_path_factory.mktemp("national")
    for folder in ("data", "ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, root / folder)
    settings = Settings(root=root, build_dir=root / "build", max_concurrent_queries=2)
    build(settings, progress=Progress(quiet=True))
    args = argparse.Namespace(file=NATIONAL, bassin=[])
    result = run_loader(settings, loader("ingest", "bmo"), args, Progress(quiet=True))
    return National(settings, result, cells)


@pytest.fixture(scope="module")
def store(national: National) -> ox.Store:
    return ox.Store.read_only(str(national.settings.store_path))


def _count(value: object) -> int | None:
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _solutions(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(PREFIXES + query, use_default_graph_as_union=True)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def test_every_row_is_one_observation(national: National, store: ox.Store) -> None:
    assert national.result.rows == len(national.cells.rows)
    (row,) = _solutions(
        store,
        "SELECT (COUNT(?obs) AS ?n) WHERE { ?obs qb:dataSet ?d "
        "FILTER(STRENDS(STR(?d), '/dataset/bmo-2024')) }",
    )
    assert int(row["n"]) == len(national.cells.rows)


def test_sums_by_bassin_equal_the_file_cells(national: National, store: ox.Store) -> None:
    cells = national.cells
    bassin, met, xmet = cells.column("BE24"), cells.column("met"), cells.column("xmet")
    wanted: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in cells.rows:
        for i, column in enumerate((met, xmet)):
            count = _count(row[column])
            if count is not None:
                wanted[str(row[bassin])][i] += count
    rows = _solutions(
        store,
        """SELECT ?code (SUM(?met) AS ?projects) (SUM(?xmet) AS ?difficult) WHERE {
             ?obs qb:dataSet ?d ; sdmx-dimension:refArea ?bassin .
             FILTER(STRENDS(STR(?d), '/dataset/bmo-2024'))
             ?bassin skos:notation ?code .
             OPTIONAL { ?obs bm:projetsRecrutement ?m }
             OPTIONAL { ?obs bm:projetsDifficiles ?x }
             # a secret cell has no measure: it adds nothing, as in the file's sum of its figures
             BIND(COALESCE(?m, 0) AS ?met)
             BIND(COALESCE(?x, 0) AS ?xmet)
           } GROUP BY ?code""",
    )
    got = {r["code"]: [int(r.get("projects", 0)), int(r.get("difficult", 0))] for r in rows}
    assert got == dict(wanted)


def test_a_bassin_spanning_departements_sums_its_rows(national: National, store: ox.Store) -> None:
    cells = national.cells
    bassin, dept, met = cells.column("BE24"), cells.column("Dept"), cells.column("met")
    departments: dict[str, set[str]] = defaultdict(set)
    for row in cells.rows:
        departments[str(row[bassin])].add(str(row[dept]))
    spanning = sorted(code for code, deps in departments.items() if len(deps) > 1)
    assert spanning, "the national file has bassins over several départements"
    code = spanning[0]
    by_dept: dict[str, int] = defaultdict(int)
    for row in cells.rows:
        if str(row[bassin]) == code:
            by_dept[str(row[dept])] += _count(row[met]) or 0
    rows = _solutions(
        store,
        f"""SELECT ?dep (SUM(?met) AS ?n) WHERE {{
              ?obs sdmx-dimension:refArea <{IRIS.bassin_bmo(code)}> ; bm:departement ?d ;
                   bm:projetsRecrutement ?met .
              ?d igeo:codeINSEE ?dep .
            }} GROUP BY ?dep""",
    )
    assert {r["dep"]: int(r["n"]) for r in rows} == dict(by_dept)


def test_unknown_bassins_are_created_from_the_file_with_a_notice(national: National, store: ox.Store) -> None:
    cells = national.cells
    bassin, name = cells.column("BE24"), cells.column("NOMBE24")
    _codes, known = reference_codes(ROOT / "data")
    names = {str(r[bassin]): str(r[name]) for r in cells.rows}
    unknown = sorted(code for code in names if code not in known)
    assert unknown
    (notice,) = national.result.notices
    for code in unknown:
        assert f"{code} {names[code]}" in notice
        labels = _solutions(store, f"SELECT ?l WHERE {{ <{IRIS.bassin_bmo(code)}> skos:prefLabel ?l }}")
        assert labels == [{"l": names[code]}]


def test_every_place_an_observation_names_has_a_french_label(store: ox.Store) -> None:
    rows = _solutions(
        store,
        """SELECT DISTINCT ?place WHERE {
             ?obs a qb:Observation .
             { ?obs sdmx-dimension:refArea ?place } UNION { ?obs bm:departement ?place }
             UNION { ?obs sdmx-dimension:occupation ?place } UNION { ?obs bm:metierDiaporama ?place }
             FILTER NOT EXISTS {
               { ?place skos:prefLabel ?l } UNION { ?place rdfs:label ?l }
               FILTER(LANGMATCHES(LANG(?l), "fr"))
             }
           }""",
    )
    assert rows == []


def test_ingest_reports_what_validate_reports(national: National) -> None:
    report = validate_store(national.settings.store_path, national.settings.root / "shapes")
    assert report.verdict() == national.result.validation
    written = (national.settings.current_release / "validation.txt").read_text(encoding="utf-8")
    assert written == report.render()


def test_each_triple_lives_in_one_named_graph(store: ox.Store) -> None:
    rows = _solutions(
        store,
        """SELECT (COUNT(*) AS ?n) WHERE {
             SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?s ?p ?o HAVING (COUNT(?g) > 1)
           }""",
    )
    assert rows == [{"n": "0"}]


# --- what a user asks /sparql --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(national: National) -> Iterator[TestClient]:
    with TestClient(create_app(national.settings)) as client:
        yield client


def _ask(client: TestClient, query: str) -> list[dict[str, str]]:
    answer = client.post(
        "/sparql",
        data={"query": PREFIXES + query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert answer.status_code == 200, answer.text
    bindings = answer.json()["results"]["bindings"]
    return [{k: v["value"] for k, v in b.items()} for b in bindings]


def test_count_on_sparql_is_the_number_of_distinct_triples(client: TestClient, store: ox.Store) -> None:
    (distinct,) = _solutions(
        store, "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }"
    )
    assert _ask(client, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == [{"n": distinct["n"]}]


def _curated(name: str) -> list[dict[str, str]]:
    with (ROOT / "data" / "curated" / name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_sum_by_zone_without_distinct_gives_the_deck_figures(client: TestClient) -> None:
    wanted: dict[str, int] = defaultdict(int)
    for row in _curated("recruitment_projects.csv"):
        wanted[row["territory"].removeprefix("ze2010-")] += int(row["projects"])
    rows = _ask(
        client,
        """SELECT ?code (SUM(?projects) AS ?total) WHERE {
             ?obs sdmx-dimension:refArea ?zone ; bm:projetsRecrutement ?projects .
             ?zone a igeo:ZoneDEmploi2010 ; igeo:codeINSEE ?code .
           } GROUP BY ?code""",
    )
    assert {r["code"]: int(r["total"]) for r in rows} == dict(wanted)


def test_rome_code_to_figures_in_two_triple_patterns(client: TestClient) -> None:
    # K1302's FAP-2009 families from the DARES table, then the deck rows of the occupations mapped to them
    with (ROOT / "data" / "reference" / "fap2009_rome_v3_passage_dares.csv").open(encoding="utf-8") as handle:
        faps = {r["code_fap2009"] for r in csv.DictReader(handle) if r["code_rome_v3"] == "K1302"}
    labels = {r["deck_label"] for r in _curated("occupations.csv") if set(r["codes_fap2009"].split()) <= faps}
    wanted: dict[str, int] = defaultdict(int)
    for row in _curated("recruitment_projects.csv"):
        if row["deck_label"] in labels:
            wanted[row["territory"].removeprefix("ze2010-")] += int(row["projects"])
    assert wanted
    rows = _ask(
        client,
        f"""SELECT ?code (SUM(?projects) AS ?total) WHERE {{
              <{IRIS.rome("K1302")}> skos:broadMatch|skos:closeMatch ?fap .
              ?obs sdmx-dimension:occupation ?fap .
              ?obs sdmx-dimension:refArea ?zone ; bm:projetsRecrutement ?projects .
              ?zone igeo:codeINSEE ?code .
            }} GROUP BY ?code""",
    )
    assert {r["code"]: int(r["total"]) for r in rows} == dict(wanted)


def test_the_rome_query_gives_one_row_per_bassin_with_the_sum_of_its_departements(
    client: TestClient, national: National
) -> None:
    # what a user clicks: the named query from a ROME code; K1302 leads to FAP-2021 T2A60 (same code)
    answer = client.get("/queries/territoires-rome", params={"rome": "K1302", "format": "csv"})
    assert answer.status_code == 200, answer.text
    rows = [r for r in csv.DictReader(io.StringIO(answer.text)) if r["source"] == "BMO 2024"]
    assert {r["fap2021"] for r in rows} == {"T2A60"}
    # the file's own cells: every (bassin, département) part of T2A60, a secret cell as "secret"
    cells = national.cells
    bassin, name, dept, occupation, met = (
        cells.column(c) for c in ("BE24", "NOMBE24", "Dept", "Code métier BMO", "met")
    )
    parts: dict[str, dict[str, int | None]] = defaultdict(dict)
    names: dict[str, str] = {}
    for row in cells.rows:
        if str(row[occupation]) == "T2A60":
            parts[str(row[bassin])][str(row[dept])] = _count(row[met])
            names[str(row[bassin])] = str(row[name]).strip()
    assert any(len(p) > 1 for p in parts.values()), "some bassins of T2A60 span départements"
    assert len(rows) == len(parts)  # one row per bassin, not per département
    by_name = {r["territory"]: r for r in rows}
    assert len(by_name) == len(rows)
    for code, by_dept in parts.items():
        row = by_name[names[code]]
        shown = dict(part.split(" : ") for part in row["departements"].split(" ; "))
        assert shown == {d: "secret" if n is None else str(n) for d, n in by_dept.items()}, code
        known = [n for n in by_dept.values() if n is not None]
        # the bassin's total when every part is known; none when one is under secrecy
        assert row["projects"] == (str(sum(known)) if len(known) == len(by_dept) else ""), code


# --- the same table as CSV -----------------------------------------------------------------------------
@pytest.mark.parametrize(("delimiter", "encoding"), [(";", "cp1252"), (",", "utf-8")])
def test_the_csv_export_reads_as_the_xlsx(
    national: National, tmp_path: Path, delimiter: str, encoding: str
) -> None:
    cells = national.cells
    bassin = cells.column("BE24")
    # the rows of a bassin spanning départements and of a bassin absent from the reference list
    dept = cells.column("Dept")
    departments: dict[str, set[str]] = defaultdict(set)
    for row in cells.rows:
        departments[str(row[bassin])].add(str(row[dept]))
    keep = {"7549", min(code for code, deps in departments.items() if len(deps) > 1)}
    rows = [r for r in cells.rows if str(r[bassin]) in keep]
    path = tmp_path / "bmo_2024.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(cells.header)
        writer.writerows(["" if v is None else v for v in r] for r in rows)
    codes, known = reference_codes(ROOT / "data")
    from_csv = read_bmo(path, known_codes=codes, known_bassins=known)
    # the cells as openpyxl gives them (the XLSX itself is ingested by the session's fixture)
    columns = [cells.column(c) for c in ("BE24", "Dept", "Code métier BMO", "met", "xmet", "smet")]
    wanted = [
        (
            str(r[columns[0]]),
            str(r[columns[1]]),
            str(r[columns[2]]),
            {m: _count(r[i]) for m, i in zip(("met", "xmet", "smet"), columns[3:], strict=True)},
        )
        for r in rows
    ]
    assert [(r.bassin, r.department, r.occupation, r.counts) for r in from_csv.rows] == wanted
    assert from_csv.new_bassins == sorted(code for code in keep if code not in known)
    assert "7549" in from_csv.new_bassins
