"""The France Travail BMO open-data file, as published (XLSX or its CSV export), as a Data Cube dataset.

Columns of 2024: ``annee, Code métier BMO, Nom métier BMO, Famille_met, Lbl_fam_met, REG, NOM_REG, Dept,
NomDept, BE24, NOMBE24, met, xmet, smet``; other years name the bassin column after theirs (``BE19``)
and, before FAP-2021, use FAP-2009 codes. ``*`` (statistical secrecy) becomes
``sdmx-attribute:obsStatus bm:statut-confidentiel`` with the measure absent, never a zero.
"""

from __future__ import annotations

import argparse
import csv
import re
import time
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, INTERVAL_YEAR, QB, SDMX_ATT, SDMX_CODE, SDMX_DIM, Iris
from bassin_kg.progress import Progress
from bassin_kg.sources.base import (
    CatalogueEntry,
    ConvertContext,
    GraphPart,
    Loaded,
    Loader,
    Source,
    new_graph,
)
from bassin_kg.sources.common import read_reference, relative_to_root

DCAT = "http://www.w3.org/ns/dcat#"
SECRET = "*"
#: SDMX 2009 "missing value; data cannot exist": the share of 0 projects
STATUS_NOT_APPLICABLE = SDMX_CODE["obsStatus-M"]

#: required columns by role; the bassin column is BE<yy> (BE24 in 2024)
REQUIRED = ("annee", "Code métier BMO", "BE<yy>", "met", "xmet", "smet")
MEASURES = {"met": BM.projetsRecrutement, "xmet": BM.projetsDifficiles, "smet": BM.projetsSaisonniers}
_BASSIN_COLUMN = re.compile(r"^be(\d{2})$")
_SPACES = re.compile(r"\s+")
_DATASET = re.compile(r"^bmo-(\d{4})$")


def _key(name: str) -> str:
    """Header names compared without case, accents or extra spaces: 'Code métier BMO' = 'code metier bmo'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", ascii_name.strip().lower())


@dataclass(frozen=True)
class Layout:
    """Where the needed columns are in the header, and the bassin column's year suffix."""

    year_column: int
    code_column: int
    bassin_column: int
    measure_columns: dict[str, int]
    bassin_header: str

    @classmethod
    def from_header(cls, header: Sequence[object], *, file: str, line: int) -> Layout:
        names = [str(h) if h is not None else "" for h in header]
        keys = [_key(n) for n in names]
        found: dict[str, int] = {}
        bassin: tuple[int, str] | None = None
        for index, key in enumerate(keys):
            if _BASSIN_COLUMN.match(key):
                bassin = (index, names[index].strip())
            elif key not in found:
                found[key] = index
        wanted = {"annee": "annee", "code metier bmo": "Code métier BMO", "met": "met", "xmet": "xmet",
                  "smet": "smet"}  # fmt: skip
        missing = [label for key, label in wanted.items() if key not in found]
        if bassin is None:
            missing.insert(2, "BE<yy> (e.g. BE24, BE19)")
        if missing:
            raise DataError(
                f"missing or renamed column(s): {', '.join(missing)}",
                file=file,
                line=line,
                value=", ".join(n for n in names if n),
                hint=f"the BMO open-data file must have the columns {', '.join(REQUIRED)} "
                "(plus the name columns Nom métier BMO, NOMBE<yy>, Dept, NomDept, REG, NOM_REG)",
            )
        assert bassin is not None
        return cls(
            year_column=found["annee"],
            code_column=found["code metier bmo"],
            bassin_column=bassin[0],
            measure_columns={m: found[m] for m in MEASURES},
            bassin_header=bassin[1],
        )


@dataclass(frozen=True)
class BmoRow:
    line: int
    year: str
    occupation: str
    bassin: str
    #: None = secret ('*')
    counts: dict[str, int | None]


@dataclass
class BmoFile:
    """A BMO file read and checked: its rows and what they say about the file."""

    path: Path
    display: str
    year: str
    scheme: str
    rows: list[BmoRow] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------------------
def _cells_csv(path: Path, display: str) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # France Travail's older CSV exports are Windows-1252
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"neither UTF-8 nor Windows-1252 text (byte {exc.start})",
                file=display,
                hint="give the CSV export as downloaded from France Travail",
            ) from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            yield line, cells
    except csv.Error as exc:
        # e.g. a field over the csv module's 128 kB limit: an unclosed quote swallowed the file
        raise DataError(
            f"not a readable CSV file ({exc})",
            file=display,
            line=line + 1,
            hint="look for an unclosed double quote on or before this line",
        ) from None


def _cells_xlsx(path: Path, display: str) -> Iterator[tuple[int, list[object]]]:
    """Rows of the data sheet: the first sheet whose header names the BMO columns (not the description)."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # lazy: only XLSX input needs it

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            for line, values in enumerate(rows, start=1):
                keys = {_key(str(v)) for v in values if v is not None}
                if {"annee", "met", "xmet"} <= keys:
                    yield line, list(values)
                    for more, rest in enumerate(rows, start=line + 1):
                        yield more, list(rest)
                    return
                if line >= 20:
                    break
    finally:
        workbook.close()
    raise DataError(
        "no sheet of the workbook has the BMO header",
        file=display,
        hint=f"expected a data sheet whose header names {', '.join(REQUIRED)}",
    )


def _count(value: object, *, file: str, line: int, column: str) -> int | None:
    if value is None:
        raise DataError("empty count", file=file, line=line, field=column, hint="counts are digits or '*'")
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
        and value >= 0
    ):
        return int(value)
    text = str(value).strip()
    if text == SECRET:
        return None
    if text.isascii() and text.isdigit():  # str.isdigit() also admits '²' and '٣', which int() refuses
        return int(text)
    raise DataError(
        "not a count",
        file=file,
        line=line,
        field=column,
        value=value,
        hint="a count is a whole number >= 0, or '*' for statistical secrecy",
    )


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def read_bmo(
    path: Path,
    *,
    known_codes: dict[str, set[str]],
    known_bassins: set[str],
    bassins: Iterable[str] = (),
    display: str | None = None,
) -> BmoFile:
    """Read and check a BMO file; ``bassins`` (bassin codes) restricts the rows kept.

    ``known_codes`` maps a scheme (``fap2021``, ``fap2009``) to its codes. Every problem is a DataError
    naming the line and column: missing columns, unknown codes, counts other than digits or '*', more
    projects judged difficult (xmet) or seasonal (smet) than projects (met), two rows for one cell.
    """
    shown = display or str(path)
    if not path.is_file():
        raise DataError("file not found", file=shown, hint="give the path of the BMO open-data file")
    suffix = path.suffix.lower()
    cells: Iterator[tuple[int, list[object]]]
    if suffix in {".xlsx", ".xlsm"}:
        cells = _cells_xlsx(path, shown)
    elif suffix in {".csv", ".txt"}:
        cells = ((line, list(values)) for line, values in _cells_csv(path, shown))
    else:
        raise DataError(
            "unsupported file type",
            file=shown,
            value=path.suffix,
            hint="give the .xlsx file or its .csv export",
        )
    try:
        header_line, header = next(cells)
    except StopIteration:
        raise DataError("file is empty", file=shown) from None
    layout = Layout.from_header(header, file=shown, line=header_line)
    wanted = set(bassins)
    unknown_wanted = wanted - known_bassins
    if unknown_wanted:
        raise DataError(
            "unknown bassin code in --bassin",
            value=", ".join(sorted(unknown_wanted)),
            hint="BMO bassin codes are listed in data/reference/bmo_bassins_communes.csv",
        )
    rows: list[BmoRow] = []
    seen: dict[tuple[str, str], int] = {}
    years: set[str] = set()
    for line, values in cells:
        if not any(v not in (None, "") for v in values):
            continue
        if len(values) <= max(layout.measure_columns.values()):
            raise DataError(
                f"row has {len(values)} fields, fewer than the header",
                file=shown,
                line=line,
                hint="check the separator and quoting of the file",
            )
        bassin = _text(values[layout.bassin_column])
        if bassin not in known_bassins:
            raise DataError(
                "unknown bassin code",
                file=shown,
                line=line,
                field=layout.bassin_header,
                value=bassin,
                hint="BMO bassin codes are listed in data/reference/bmo_bassins_communes.csv",
            )
        if wanted and bassin not in wanted:
            continue
        year = _text(values[layout.year_column])
        years.add(year)
        counts = {
            m: _count(values[i], file=shown, line=line, column=m) for m, i in layout.measure_columns.items()
        }
        met = counts["met"]
        for part in ("xmet", "smet"):
            value = counts[part]
            if met is not None and value is not None and value > met:
                raise DataError(
                    f"{part} ({value}) is above met ({met})",
                    file=shown,
                    line=line,
                    field=part,
                    value=value,
                    hint="projects judged difficult or seasonal are a part of all projects: fix the row",
                )
        occupation = _text(values[layout.code_column])
        key = (bassin, occupation)
        if key in seen:
            raise DataError(
                f"second row for bassin {bassin} and occupation {occupation} (first on line {seen[key]})",
                file=shown,
                line=line,
                hint="each bassin and occupation appears once in a BMO file",
            )
        seen[key] = line
        rows.append(BmoRow(line, year, occupation, bassin, counts))
    if not rows:
        raise DataError("no data row", file=shown, hint="the file, or the --bassin selection, is empty")
    if len(years) != 1:
        raise DataError("rows of several years", file=shown, field="annee", value=", ".join(sorted(years)))
    year = years.pop()
    if not re.fullmatch(r"\d{4}", year) or year[2:] != layout.bassin_header[-2:]:
        raise DataError(
            f"year {year!r} does not match the bassin column {layout.bassin_header}",
            file=shown,
            field="annee",
            value=year,
            hint="the bassin column is named after the survey year (BE24 for 2024)",
        )
    scheme = _scheme(rows, year)
    if scheme == "mixed":
        raise DataError(
            "the file mixes FAP-2009 (..Z..) and FAP-2021 (..X..) occupation codes",
            file=shown,
            field="Code métier BMO",
            hint="a BMO file uses one nomenclature; check that two files were not concatenated",
        )
    codes = known_codes[scheme]
    for row in rows:
        if row.occupation not in codes:
            raise DataError(
                f"unknown {scheme.upper()} occupation code",
                file=shown,
                line=row.line,
                field="Code métier BMO",
                value=row.occupation,
                hint=f"the codes of this file are {scheme.upper()} codes "
                f"(data/reference/{scheme}_intitules.csv)",
            )
    return BmoFile(path, shown, year, scheme, rows)


def _scheme(rows: list[BmoRow], year: str) -> str:
    """FAP-2021 codes have X as third character (A0X40), FAP-2009 ones Z (A0Z40)."""
    third = {r.occupation[2:3] for r in rows}
    if "X" in third and "Z" in third:
        return "mixed"
    if "X" in third:
        return "fap2021"
    if "Z" in third:
        return "fap2009"
    return "fap2021" if int(year) >= 2024 else "fap2009"


# --- reference codes -----------------------------------------------------------------------------------
def reference_codes(data_dir: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Occupation codes by scheme and bassin codes, from data/reference."""
    fap2021: set[str] = set()
    for row in read_reference(data_dir, "fap2021_intitules.csv", ["Code_FAP228", "Code_FAP341"]):
        fap2021.add(row.text("Code_FAP228"))
        fap2021.add(row.text("Code_FAP341"))
    fap2009 = {
        row.text("code_fap2009")
        for row in read_reference(data_dir, "fap2009_intitules.csv", ["code_fap2009", "niveau"])
        if row.text("niveau") == "fap_225"
    }
    bassins = {
        row.text("code_bassin_BMO")
        for row in read_reference(data_dir, "bmo_bassins_communes.csv", ["code_bassin_BMO"])
    }
    return {"fap2021": fap2021, "fap2009": fap2009}, bassins


# --- conversion ---------------------------------------------------------------------------------------
def dataset_name(year: str) -> str:
    return f"bmo-{year}"


def share_difficult(met: int, xmet: int) -> Decimal:
    """Share of projects judged difficult, in percent with one decimal (bm:partProjetsDifficiles)."""
    return (Decimal(xmet) * 100 / Decimal(met)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _literal(text: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


def to_ntriples(bmo: BmoFile, iris: Iris, *, source_file: str) -> Iterator[str]:
    """The dataset and one qb:Observation per row (MODEL.md, Observations), as N-Triples lines.

    Written as text rather than through rdflib: a national file is ~700,000 triples, which rdflib
    builds in ~25 s and this in ~2 s; Oxigraph and rdflib both parse the result.
    """
    name = dataset_name(bmo.year)
    dataset = f"<{iris.dataset(name)}>"
    a = f"<{RDF.type}>"
    title = f"Besoins en main-d'œuvre {bmo.year} (France Travail)"
    yield f"{dataset} {a} <{QB.DataSet}> .\n"
    yield f"{dataset} {a} <{DCAT}Dataset> .\n"
    yield f"{dataset} <{QB.structure}> <{BM['dsd-bmo']}> .\n"
    yield f"{dataset} <{DCTERMS.title}> {_literal(title, lang='fr')} .\n"
    yield f"{dataset} <{RDFS.label}> {_literal(title, lang='fr')} .\n"
    yield f"{dataset} <{DCTERMS.source}> {_literal(source_file)} .\n"
    period = f"<{INTERVAL_YEAR[bmo.year]}>"
    occupation_iri = iris.fap2021 if bmo.scheme == "fap2021" else iris.fap2009
    p_dataset, p_area, p_period = f"<{QB.dataSet}>", f"<{SDMX_DIM.refArea}>", f"<{SDMX_DIM.refPeriod}>"
    p_occupation, p_derived = f"<{SDMX_DIM.occupation}>", f"<{PROV.wasDerivedFrom}>"
    p_status, p_secret = f"<{SDMX_ATT.obsStatus}>", f"<{BM.mesureConfidentielle}>"
    p_share = f"<{BM.partProjetsDifficiles}>"
    observation_type, record_type = f"<{QB.Observation}>", f"<{BM.EnregistrementSource}>"
    p_file, p_line = f"<{BM.fichier}>", f"<{BM.ligne}>"
    file_literal = _literal(source_file)
    measures = {column: f"<{measure}>" for column, measure in MEASURES.items()}
    confidential = f"<{BM['statut-confidentiel']}>"
    not_applicable = f"<{STATUS_NOT_APPLICABLE}>"
    xsd_integer, xsd_decimal = str(XSD.integer), str(XSD.decimal)
    areas: dict[str, str] = {}
    for row in bmo.rows:
        obs = f"<{iris.observation(name, f'bassin-bmo-{row.bassin}', row.occupation)}>"
        record = f"<{iris.source_record(name, row.line)}>"
        area = areas.get(row.bassin)
        if area is None:
            area = areas[row.bassin] = f"<{iris.bassin_bmo(row.bassin)}>"
        yield (
            f"{obs} {a} {observation_type} .\n{obs} {p_dataset} {dataset} .\n"
            f"{obs} {p_area} {area} .\n{obs} {p_period} {period} .\n"
            f"{obs} {p_occupation} <{occupation_iri(row.occupation)}> .\n{obs} {p_derived} {record} .\n"
            f"{record} {a} {record_type} .\n{record} {p_file} {file_literal} .\n"
            f'{record} {p_line} "{row.line}"^^<{xsd_integer}> .\n'
        )
        secret = False
        for column, value in row.counts.items():
            if value is None:
                secret = True
                yield f"{obs} {p_secret} {measures[column]} .\n"
            else:
                yield f'{obs} {measures[column]} "{value}"^^<{xsd_integer}> .\n'
        met, xmet = row.counts["met"], row.counts["xmet"]
        if met is not None and xmet is not None and met > 0:
            yield f'{obs} {p_share} "{share_difficult(met, xmet)}"^^<{xsd_decimal}> .\n'
        elif secret:
            yield f"{obs} {p_secret} {p_share} .\n"
        if secret:
            yield f"{obs} {p_status} {confidential} .\n"
        elif met == 0:
            yield f"{obs} {p_status} {not_applicable} .\n"


def to_graph(bmo: BmoFile, iris: Iris, *, source_file: str) -> Graph:
    """The same triples as :func:`to_ntriples`, in an rdflib graph (for the build's small files)."""
    graph = new_graph()
    graph.parse(data="".join(to_ntriples(bmo, iris, source_file=source_file)), format="nt")
    return graph


def convert_file(
    path: Path, ctx: ConvertContext, *, bassins: Iterable[str] = ()
) -> tuple[GraphPart, BmoFile]:
    """Read, check and convert one BMO file into the ``bmo-<year>`` graph part."""
    known_codes, known_bassins = reference_codes(ctx.data_dir)
    shown = relative_to_root(path, ctx.settings.root)
    bmo = read_bmo(path, known_codes=known_codes, known_bassins=known_bassins, bassins=bassins, display=shown)
    graph = to_graph(bmo, ctx.iris, source_file=shown)
    return GraphPart(dataset_name(bmo.year), graph, [shown]), bmo


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """The committed BMO files of ``data/sources/bmo/`` (the 2024 extract of the four bassins)."""
    folder = ctx.data_dir / "sources" / "bmo"
    parts: list[GraphPart] = []
    for path in sorted(folder.glob("*.csv")):
        part, _bmo = convert_file(path, ctx)
        if any(p.name == part.name for p in parts):
            raise DataError(
                f"two committed files for dataset {part.name}",
                file=part.sources[0],
                hint="keep one file per survey year in data/sources/bmo/",
            )
        parts.append(part)
    return parts


def load(ctx: ConvertContext, args: argparse.Namespace, progress: Progress) -> Loaded:
    """Read, check and convert the BMO file ``args.file`` into graph ``bmo-<year>`` (``ingest bmo``)."""
    timings: dict[str, float] = {}
    start = time.perf_counter()
    with progress.step("read and check"):
        codes, known_bassins = reference_codes(ctx.data_dir)
        shown = relative_to_root(args.file, ctx.settings.root)
        bmo = read_bmo(
            args.file, known_codes=codes, known_bassins=known_bassins, bassins=args.bassin, display=shown
        )
    timings["read"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("convert"):
        data = "".join(to_ntriples(bmo, ctx.iris, source_file=shown)).encode("utf-8")
    timings["convert"] = time.perf_counter() - start
    return Loaded(dataset_name(bmo.year), data, len(bmo.rows), [shown], timings)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, help="the BMO file as published (.xlsx or .csv)")
    parser.add_argument(
        "--bassin", action="append", default=[], metavar="CODE", help="keep only this BMO bassin (repeatable)"
    )


def catalogue(names: Sequence[str]) -> list[CatalogueEntry]:
    """One entry per survey year the release holds."""
    return [
        CatalogueEntry(
            name,
            (name,),
            title=(
                f"Besoins en main-d'œuvre {year} (France Travail) dans les bassins du bassin minier",
                f"Labour needs survey (BMO) {year} (France Travail) in the mining basin's areas",
            ),
            description=(
                f"Projets de recrutement, projets jugés difficiles et saisonniers par métier (FAP) et bassin "
                f"d'emploi, enquête BMO {year} ; le secret statistique est un statut, jamais un zéro.",
                f"Recruitment projects, hard-to-fill and seasonal projects by occupation (FAP) and area, BMO "
                f"survey {year}; statistical secrecy is a status, never a zero.",
            ),
            keywords=("BMO", "recrutement", "métiers", "emploi", "bassin minier"),
            themes=("ECON",),
            creators=("france-travail",),
        )
        for name in sorted(n for n in names if _DATASET.match(n))
        for year in [name[4:]]
    ]


SOURCE = Source(
    "bmo",
    graphs=("bmo-*",),
    catalogue=catalogue,
    convert=convert,
    loader=Loader(
        "ingest",
        "France Travail BMO open-data file (XLSX or CSV export) -> graph bmo-<year>",
        _arguments,
        load,
    ),
)
