"""The URSSAF (ex-Acoss) open-data export "Effectifs salariés et masse salariale du secteur privé par zone
d'emploi", as published on open.urssaf.fr / data.gouv.fr, as a Data Cube dataset.

The export is a CSV file separated by ``;`` with one row per zone (regional part) and quarter. Columns of
the published layout: ``libelle_zone_d_emploi, zone_d_emploi, region, ancienne_region,
libelle_zone_d_emploi_reg, zone_d_emploi_regionalisee, annee, trimestre, dernier_jour_du_trimestre,
code_region, code_ancienne_region, code_zone_d_emploi, code_zone_d_emploi_regionalisee,
effectifs_salaries_brut, effectifs_salaries_cvs, masse_salariale_brut, masse_salariale_cvs``; only the
columns of :data:`REQUIRED` are read. URSSAF has published it in the 2020 zoning since 2021 (the whole
series, recomputed), so codes are checked against INSEE's ZE2020 list of ``data/reference``.

Only the file the user gives is loaded, into the named graph ``acoss`` (dataset ``acoss-effectifs-ze``,
licence ODbL), and only the rows of the mining basin's four ZE2020 zones. An empty measure cell becomes
``sdmx-attribute:obsStatus sdmx-code:obsStatus-M`` with the measure absent, never a zero.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from bassin_kg.errors import DataError
from bassin_kg.extract.csvio import csv_records
from bassin_kg.namespaces import BM, INTERVAL_QUARTER, QB, SDMX_ATT, SDMX_CODE, SDMX_DIM, Iris
from bassin_kg.progress import Progress
from bassin_kg.sources.base import (
    ODBL,
    CatalogueEntry,
    ConvertContext,
    Loaded,
    Loader,
    Source,
    fixed_entry,
    new_graph,
)
from bassin_kg.sources.common import SourceRecords, read_reference, relative_to_root

DATASET = "acoss-effectifs-ze"
GRAPH = "acoss"
DCAT = "http://www.w3.org/ns/dcat#"
ZE2020_LIST = "insee_ze2020_list_2022.csv"
#: the mining basin in the 2020 zoning (data/reference/README.md, "Key codes")
BASIN_ZE2020 = ("3205", "3212", "3215", "3222")
STATUS_MISSING = SDMX_CODE["obsStatus-M"]

ZONE = "code_zone_d_emploi"
YEAR = "annee"
QUARTER = "trimestre"
LAST_DAY = "dernier_jour_du_trimestre"
#: column -> (measure, whole number?)
MEASURES: dict[str, tuple[URIRef, bool]] = {
    "effectifs_salaries_brut": (BM.effectifsSalariesBrut, True),
    "effectifs_salaries_cvs": (BM.effectifsSalariesCvs, False),
    "masse_salariale_brut": (BM.masseSalarialeBrut, False),
    "masse_salariale_cvs": (BM.masseSalarialeCvs, False),
}
REQUIRED = (ZONE, YEAR, QUARTER, LAST_DAY, *MEASURES)
_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}
_NUMBER = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")


@dataclass(frozen=True)
class AcossRow:
    line: int
    zone: str
    year: int
    quarter: int
    #: column -> value; None = empty cell
    values: dict[str, Decimal | None]

    @property
    def period(self) -> str:
        return f"{self.year}-Q{self.quarter}"


@dataclass
class AcossFile:
    """An export read and checked: the basin's rows, and how many rows of other zones were left out."""

    display: str
    rows: list[AcossRow] = field(default_factory=list)
    other_zones: int = 0
    empty_cells: int = 0

    @property
    def periods(self) -> tuple[str, str]:
        ordered = sorted((r.year, r.quarter) for r in self.rows)
        return f"{ordered[0][0]}-Q{ordered[0][1]}", f"{ordered[-1][0]}-Q{ordered[-1][1]}"


# --- reading -------------------------------------------------------------------------------------------
def _lines(path: Path, shown: str) -> list[str]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(
            "not UTF-8 text", file=shown, hint="give the CSV export of open.urssaf.fr as downloaded (UTF-8)"
        ) from None
    return text.splitlines()


def _header(values: list[str], shown: str) -> dict[str, int]:
    names = [v.strip().lower() for v in values]
    if len(names) == 1 and "," in values[0]:
        raise DataError(
            "the header is separated by ',' but the URSSAF export uses ';'",
            file=shown,
            line=1,
            hint="download the CSV export of open.urssaf.fr again, without converting it",
        )
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise DataError(
            f"missing column(s): {', '.join(missing)}",
            file=shown,
            line=1,
            value=";".join(v.strip() for v in values),
            hint="the URSSAF export 'Effectifs salariés et masse salariale du secteur privé par zone "
            f"d'emploi' has the columns {', '.join(REQUIRED)} (plus the zone and region labels)",
        )
    return {name: names.index(name) for name in REQUIRED}


def _number(raw: str, *, shown: str, line: int, column: str, whole: bool) -> Decimal | None:
    text = raw.strip()
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise DataError(
            "not a number",
            file=shown,
            line=line,
            field=column,
            value=raw,
            hint="a value is digits with an optional '.' and decimals (e.g. 12345 or 12345.6), "
            "or an empty cell when unknown",
        )
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise DataError("not a number", file=shown, line=line, field=column, value=raw) from None
    if whole:
        if number != number.to_integral_value():
            raise DataError(
                "not a whole number", file=shown, line=line, field=column, value=raw,
                hint="a head count is a whole number",
            )  # fmt: skip
        number = number.to_integral_value()
    return number


def _period(values: list[str], columns: dict[str, int], *, shown: str, line: int) -> tuple[int, int]:
    year_text = values[columns[YEAR]].strip()
    if not re.fullmatch(r"(19|20)[0-9]{2}", year_text):
        raise DataError("not a year", file=shown, line=line, field=YEAR, value=year_text, hint="e.g. 2021")
    quarter_text = values[columns[QUARTER]].strip()
    if quarter_text not in {"1", "2", "3", "4"}:
        raise DataError(
            "not a quarter", file=shown, line=line, field=QUARTER, value=quarter_text, hint="1, 2, 3 or 4"
        )
    year, quarter = int(year_text), int(quarter_text)
    last_text = values[columns[LAST_DAY]].strip()
    month, day = _QUARTER_END[quarter]
    expected = date(year, month, day)
    try:
        last = date.fromisoformat(last_text[:10])
    except ValueError:
        raise DataError(
            "not a date", file=shown, line=line, field=LAST_DAY, value=last_text,
            hint=f"an ISO date, here {expected.isoformat()}",
        ) from None  # fmt: skip
    if last != expected:
        raise DataError(
            f"is not the last day of quarter {quarter} of {year}",
            file=shown,
            line=line,
            field=LAST_DAY,
            value=last_text,
            hint=f"expected {expected.isoformat()}; check the annee and trimestre columns of the row",
        )
    return year, quarter


def read_acoss(
    path: Path, *, known_zones: set[str], zones: Iterable[str] = BASIN_ZE2020, display: str | None = None
) -> AcossFile:
    """Read and check an export; keep the rows of ``zones``.

    Every problem is a DataError naming the line and column: missing columns (naming the expected
    ones), values that are not numbers, a last day that does not end the quarter, zone codes that
    are not ZE2020 codes, and two rows for one zone and quarter.
    """
    shown = display or str(path)
    if not path.is_file():
        raise DataError("file not found", file=shown, hint="give the path of the URSSAF CSV export")
    lines = _lines(path, shown)
    if not lines:
        raise DataError("file is empty", file=shown, hint=f"expected a header: {';'.join(REQUIRED)}")
    records = csv_records(lines, shown, delimiter=";")
    columns = _header(next(records)[1], shown)
    wanted = set(zones)
    result = AcossFile(shown)
    seen: dict[tuple[str, int, int], int] = {}
    width = max(columns.values()) + 1
    for line, values in records:
        if not any(v.strip() for v in values):
            continue
        if len(values) < width:
            raise DataError(
                f"row has {len(values)} fields, fewer than the header",
                file=shown,
                line=line,
                hint="check that the file is the ';'-separated export and was not cut",
            )
        raw_zone = values[columns[ZONE]].strip()
        # a spreadsheet that read the code as a number drops its leading zero (0051 -> 51)
        zone = raw_zone.zfill(4) if raw_zone.isdigit() else raw_zone
        if zone not in known_zones:
            raise DataError(
                "unknown zone code",
                file=shown,
                line=line,
                field=ZONE,
                value=raw_zone,
                hint="codes are INSEE 2020 employment zones (data/reference/insee_ze2020_list_2022.csv); "
                "an export made before 2021 uses the 2010 zoning: download the current one",
            )
        year, quarter = _period(values, columns, shown=shown, line=line)
        measures = {
            column: _number(values[columns[column]], shown=shown, line=line, column=column, whole=whole)
            for column, (_measure, whole) in MEASURES.items()
        }
        if zone not in wanted:
            result.other_zones += 1
            continue
        key = (zone, year, quarter)
        if key in seen:
            raise DataError(
                f"second row for zone {zone} and {year}-Q{quarter} (first on line {seen[key]})",
                file=shown,
                line=line,
                field=ZONE,
                value=zone,
                hint="a zone spread over two regions has one row per regional part; bassin-kg loads "
                "whole zones only: keep one row per zone and quarter",
            )
        seen[key] = line
        if all(v is None for v in measures.values()):
            raise DataError(
                "every measure of the row is empty",
                file=shown,
                line=line,
                hint="remove the row, or fill in the values from the published file",
            )
        result.empty_cells += sum(1 for v in measures.values() if v is None)
        result.rows.append(AcossRow(line, zone, year, quarter, measures))
    if not result.rows:
        raise DataError(
            "no row for the mining basin's zones",
            file=shown,
            field=ZONE,
            hint=f"expected rows for the ZE2020 zones {', '.join(sorted(wanted))}",
        )
    return result


def known_zone_codes(data_dir: Path) -> set[str]:
    """The ZE2020 codes of INSEE's list in data/reference."""
    return {row.text("ZE2020") for row in read_reference(data_dir, ZE2020_LIST, ["ZE2020"])}


# --- conversion ---------------------------------------------------------------------------------------
def to_graph(acoss: AcossFile, iris: Iris, *, source_file: str) -> Graph:
    """The dataset (with its ODbL licence) and one qb:Observation per zone and quarter."""
    graph = new_graph()
    add = graph.add
    dataset = iris.dataset(DATASET)
    first, last = acoss.periods
    title_fr = "Effectifs salariés et masse salariale du secteur privé par zone d'emploi (Urssaf)"
    title_en = "Private-sector employees and payroll by employment zone (Urssaf)"
    add((dataset, RDF.type, QB.DataSet))
    add((dataset, RDF.type, URIRef(DCAT + "Dataset")))
    add((dataset, QB.structure, BM[f"dsd-{DATASET}"]))
    add((dataset, DCTERMS.title, Literal(title_fr, lang="fr")))
    add((dataset, DCTERMS.title, Literal(title_en, lang="en")))
    add((dataset, RDFS.label, Literal(title_fr, lang="fr")))
    add((dataset, DCTERMS.license, ODBL))
    add((dataset, DCTERMS.publisher, Literal("Urssaf Caisse nationale (ex-Acoss)")))
    add((dataset, DCTERMS.source, Literal(source_file)))
    add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                f"Séries trimestrielles {first} à {last} des zones d'emploi 2020 du bassin minier, "
                "chargées du fichier open data de l'Urssaf (licence ODbL).",
                lang="fr",
            ),
        )
    )
    records = SourceRecords(graph, iris).for_file(DATASET, source_file)
    for row in acoss.rows:
        obs = iris.observation(DATASET, f"ze2020-{row.zone}", row.period)
        add((obs, RDF.type, QB.Observation))
        add((obs, QB.dataSet, dataset))
        add((obs, SDMX_DIM.refArea, iris.ze2020(row.zone)))
        add((obs, SDMX_DIM.refPeriod, INTERVAL_QUARTER[row.period]))
        add((obs, PROV.wasDerivedFrom, records(row.line)))
        for column, (measure, whole) in MEASURES.items():
            value = row.values[column]
            if value is None:
                continue
            datatype = XSD.integer if whole else XSD.decimal
            add((obs, measure, Literal(str(value), datatype=datatype)))
        if any(v is None for v in row.values.values()):
            add((obs, SDMX_ATT.obsStatus, STATUS_MISSING))
    return graph


def load(ctx: ConvertContext, args: argparse.Namespace, progress: Progress) -> Loaded:
    """Read, check and convert the export ``args.file`` into graph ``acoss`` (``bassin-kg ingest acoss``)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with progress.step("read and check"):
        shown = relative_to_root(args.file, ctx.settings.root)
        acoss = read_acoss(args.file, known_zones=known_zone_codes(ctx.data_dir), display=shown)
    timings["read"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("convert"):
        data = to_graph(acoss, ctx.iris, source_file=shown).serialize(format="nt", encoding="utf-8")
    timings["convert"] = time.perf_counter() - start
    return Loaded(GRAPH, data, len(acoss.rows), [shown], timings)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the ';'-separated CSV export as published on open.urssaf.fr")


SOURCE = Source(
    "acoss",
    graphs=(GRAPH,),
    catalogue=fixed_entry(
        CatalogueEntry(
            "acoss",
            (GRAPH,),
            title=(
                "Effectifs salariés du secteur privé par zone d'emploi et trimestre (Urssaf)",
                "Private-sector employees by employment zone and quarter (Urssaf)",
            ),
            description=(
                "Effectifs salariés et masse salariale du secteur privé des zones d'emploi du bassin minier, "
                "par trimestre, d'après le fichier open data de l'Urssaf (licence ODbL).",
                "Private-sector employees and payroll of the mining basin's employment zones, by quarter, "
                "from the Urssaf open-data file (ODbL licence).",
            ),
            keywords=("Urssaf", "Acoss", "effectifs salariés", "emploi", "zones d'emploi"),
            themes=("ECON",),
            creators=("urssaf",),
            licence=ODBL,
        )
    ),
    loader=Loader(
        "ingest",
        "Urssaf export 'effectifs salariés et masse salariale … par zone d'emploi' (CSV) -> graph acoss",
        _arguments,
        load,
    ),
)
