"""The France Travail BMO open-data file, as published (XLSX or its CSV export), as a Data Cube dataset.

Columns of 2024: ``annee, Code métier BMO, Nom métier BMO, Famille_met, Lbl_fam_met, REG, NOM_REG, Dept,
NomDept, BE24, NOMBE24, met, xmet, smet``; other years name the bassin columns after theirs (``BE19``,
``NOMBE19``) and, before FAP-2021, use FAP-2009 codes. The year is read from ``annee``. One observation
per bassin, département and occupation (a bassin may span départements); a bassin missing from the
reference list is created from the file's code and name, and listed in the notices. ``*`` (statistical
secrecy) becomes ``sdmx-attribute:obsStatus bm:statut-confidentiel`` with the measure absent, never a zero.
"""

from __future__ import annotations

import argparse
import csv
import re
import time
import unicodedata
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, IGEO, INTERVAL_YEAR, QB, SDMX_ATT, SDMX_CODE, SDMX_DIM, Iris, slugify
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
from bassin_kg.store import open_read_only, published_release

DCAT = "http://www.w3.org/ns/dcat#"
SECRET = "*"
#: SDMX 2009 "missing value; data cannot exist": the share of 0 projects
STATUS_NOT_APPLICABLE = SDMX_CODE["obsStatus-M"]

#: required columns by role; the bassin columns are BE<yy> and NOMBE<yy> (BE24, NOMBE24 in 2024)
REQUIRED = ("annee", "Code métier BMO", "Dept", "BE<yy>", "met", "xmet", "smet")
MEASURES = {"met": BM.projetsRecrutement, "xmet": BM.projetsDifficiles, "smet": BM.projetsSaisonniers}
_BASSIN_COLUMN = re.compile(r"^be(\d{2})$")
_BASSIN_NAME_COLUMN = re.compile(r"^nombe(\d{2})$")
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
    department_column: int
    measure_columns: dict[str, int]
    bassin_header: str
    #: NOMBE<yy> and NomDept, when the file has them (names of new bassins and départements)
    bassin_name_column: int | None = None
    department_name_column: int | None = None

    @property
    def width(self) -> int:
        """The number of fields a data row needs to reach every required column."""
        return 1 + max(self.year_column, self.code_column, self.bassin_column, self.department_column,
                       *self.measure_columns.values())  # fmt: skip

    @classmethod
    def from_header(cls, header: Sequence[object], *, file: str, line: int) -> Layout:
        names = [str(h) if h is not None else "" for h in header]
        keys = [_key(n) for n in names]
        found: dict[str, int] = {}
        bassin: tuple[int, str] | None = None
        bassin_name: int | None = None
        for index, key in enumerate(keys):
            if _BASSIN_COLUMN.match(key) and bassin is None:
                bassin = (index, names[index].strip())
            elif _BASSIN_NAME_COLUMN.match(key) and bassin_name is None:
                bassin_name = index
            elif key not in found:
                found[key] = index
        wanted = {"annee": "annee", "code metier bmo": "Code métier BMO", "dept": "Dept", "met": "met",
                  "xmet": "xmet", "smet": "smet"}  # fmt: skip
        missing = [label for key, label in wanted.items() if key not in found]
        if bassin is None:
            missing.insert(2, "BE<aa> (par exemple BE24, BE19)")
        if missing:
            raise DataError(
                f"colonne(s) absente(s) ou renommée(s) : {', '.join(missing)}",
                file=file,
                line=line,
                value=", ".join(n for n in names if n),
                hint=f"le fichier BMO open data doit avoir les colonnes {', '.join(REQUIRED)} "
                "(et les colonnes de noms Nom métier BMO, NOMBE<aa>, NomDept, REG, NOM_REG) : "
                "donnez le fichier tel que France Travail le publie",
            )
        assert bassin is not None
        if bassin_name is not None and keys[bassin_name][-2:] != bassin[1][-2:]:
            bassin_name = None  # NOMBE23 beside BE24 names another vintage's bassins: not used
        return cls(
            year_column=found["annee"],
            code_column=found["code metier bmo"],
            bassin_column=bassin[0],
            department_column=found["dept"],
            measure_columns={m: found[m] for m in MEASURES},
            bassin_header=bassin[1],
            bassin_name_column=bassin_name,
            department_name_column=found.get("nomdept"),
        )


@dataclass(frozen=True)
class BmoRow:
    line: int
    year: str
    occupation: str
    bassin: str
    department: str
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
    #: bassin code -> (name in the file, first line): every bassin of the kept rows
    bassins: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: département code -> (name in the file, first line)
    departments: dict[str, tuple[str, int]] = field(default_factory=dict)
    #: bassin codes absent from data/reference/bmo_bassins_communes.csv, created from the file
    new_bassins: list[str] = field(default_factory=list)

    def notices(self) -> list[str]:
        """What the user should know about the file (printed by ``ingest``)."""
        if not self.new_bassins:
            return []
        listed = ", ".join(f"{code} {self.bassins[code][0]}".strip() for code in self.new_bassins)
        return [
            f"{len(self.new_bassins)} bassin(s) absent(s) de data/reference/bmo_bassins_communes.csv, "
            f"créé(s) avec le code et le nom du fichier : {listed}"
        ]


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
        raise DataError(
            "effectif vide", file=file, line=line, field=column, hint="un effectif est un entier >= 0 ou '*'"
        )
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
        "n'est pas un effectif",
        file=file,
        line=line,
        field=column,
        value=value,
        hint="un effectif est un entier >= 0, ou '*' pour le secret statistique : corrigez la cellule",
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
    """Read and check a BMO file; ``bassins`` (bassin codes) keeps only their rows, before any check.

    ``known_codes`` maps a scheme (``fap2021``, ``fap2009``) to its codes; a bassin missing from
    ``known_bassins`` is kept, with the file's name, and listed in :meth:`BmoFile.notices`. Every problem
    is a DataError naming the line and column: missing columns, unknown occupation codes, counts other
    than digits or '*', more projects judged difficult (xmet) or seasonal (smet) than projects (met),
    two rows for one (bassin, département, occupation).
    """
    shown = display or str(path)
    if not path.is_file():
        raise DataError("fichier introuvable", file=shown, hint="donnez le chemin du fichier BMO open data")
    suffix = path.suffix.lower()
    cells: Iterator[tuple[int, list[object]]]
    if suffix in {".xlsx", ".xlsm"}:
        cells = _cells_xlsx(path, shown)
    elif suffix in {".csv", ".txt"}:
        cells = ((line, list(values)) for line, values in _cells_csv(path, shown))
    else:
        raise DataError(
            "type de fichier non pris en charge",
            file=shown,
            value=path.suffix,
            hint="donnez le fichier .xlsx ou son export .csv",
        )
    try:
        header_line, header = next(cells)
    except StopIteration:
        raise DataError("fichier vide", file=shown) from None
    layout = Layout.from_header(header, file=shown, line=header_line)
    wanted = {code.strip() for code in bassins}
    rows: list[BmoRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    years: dict[str, int] = {}
    found_bassins: dict[str, tuple[str, int]] = {}
    departments: dict[str, tuple[str, int]] = {}
    width = layout.width
    b_col, d_col, c_col, y_col = (
        layout.bassin_column,
        layout.department_column,
        layout.code_column,
        layout.year_column,
    )
    bn_col, dn_col = layout.bassin_name_column, layout.department_name_column
    measure_columns = list(layout.measure_columns.items())
    for line, values in cells:
        if not any(v not in (None, "") for v in values):
            continue
        if len(values) < width:
            raise DataError(
                f"la ligne a {len(values)} champs, moins que l'en-tête",
                file=shown,
                line=line,
                hint="vérifiez le séparateur et les guillemets du fichier",
            )
        bassin = _text(values[b_col])
        # --bassin selects rows before any other check: a bad row elsewhere in France does not matter
        if wanted and bassin not in wanted:
            continue
        if not bassin:
            raise DataError(
                "code de bassin vide",
                file=shown,
                line=line,
                field=layout.bassin_header,
                hint="chaque ligne donne le code de son bassin d'emploi BMO",
            )
        department = _text(values[d_col])
        if not department:
            raise DataError(
                "code de département vide",
                file=shown,
                line=line,
                field="Dept",
                hint="chaque ligne donne le code de son département (59, 2A, 971…)",
            )
        year = _text(values[y_col])
        years.setdefault(year, line)
        counts = {m: _count(values[i], file=shown, line=line, column=m) for m, i in measure_columns}
        met = counts["met"]
        for part in ("xmet", "smet"):
            value = counts[part]
            if met is not None and value is not None and value > met:
                raise DataError(
                    f"{part} ({value}) dépasse met ({met})",
                    file=shown,
                    line=line,
                    field=part,
                    value=value,
                    hint="les projets jugés difficiles ou saisonniers sont une partie de tous les projets : "
                    "corrigez la ligne",
                )
        occupation = _text(values[c_col])
        key = (bassin, department, occupation)
        first = seen.setdefault(key, line)
        if first != line:
            raise DataError(
                f"deuxième ligne pour le bassin {bassin}, le département {department} et le métier "
                f"{occupation} (la première est la ligne {first})",
                file=shown,
                line=line,
                hint="un fichier BMO a une ligne par bassin, département et métier : retirez le doublon",
            )
        if bassin not in found_bassins:
            found_bassins[bassin] = (_text(values[bn_col]) if bn_col is not None else "", line)
        if department not in departments:
            departments[department] = (_text(values[dn_col]) if dn_col is not None else "", line)
        rows.append(BmoRow(line, year, occupation, bassin, department, counts))
    if not rows:
        if wanted:
            raise DataError(
                "aucune ligne pour les bassins demandés",
                file=shown,
                field=layout.bassin_header,
                value=", ".join(sorted(wanted)),
                hint="vérifiez les codes donnés à --bassin (colonne " + layout.bassin_header + " du fichier)",
            )
        raise DataError("aucune ligne de données", file=shown, hint="le fichier est vide")
    if len(years) != 1:
        listed = ", ".join(f"{y or '(vide)'} (ligne {n})" for y, n in sorted(years.items()))
        raise DataError(
            "lignes de plusieurs années",
            file=shown,
            field="annee",
            value=listed,
            hint="un fichier BMO est celui d'une année : ne concaténez pas deux fichiers",
        )
    year, year_line = years.popitem()
    if not re.fullmatch(r"\d{4}", year) or year[2:] != layout.bassin_header[-2:]:
        raise DataError(
            f"l'année {year!r} ne correspond pas à la colonne de bassin {layout.bassin_header}",
            file=shown,
            line=year_line,
            field="annee",
            value=year,
            hint="la colonne de bassin porte l'année de l'enquête (BE24 pour 2024) : vérifiez annee",
        )
    scheme = _scheme(rows, year)
    if scheme == "mixed":
        raise DataError(
            "le fichier mêle des codes métier FAP-2009 (..Z..) et FAP-2021 (..X..)",
            file=shown,
            field="Code métier BMO",
            hint="un fichier BMO suit une seule nomenclature : vérifiez que deux fichiers n'ont pas été "
            "concaténés",
        )
    codes = known_codes[scheme]
    for row in rows:
        if row.occupation not in codes:
            raise DataError(
                f"code métier {scheme.upper()} inconnu",
                file=shown,
                line=row.line,
                field="Code métier BMO",
                value=row.occupation,
                hint=f"les codes de ce fichier sont des codes {scheme.upper()} "
                f"(data/reference/{scheme}_intitules.csv) : corrigez le code",
            )
    new = sorted(code for code in found_bassins if code not in known_bassins)
    return BmoFile(path, shown, year, scheme, rows, found_bassins, departments, new)


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


def record_key(bmo: BmoFile) -> str:
    """The file key of the ingest's source records: its dataset and its file, so that no other graph
    (insee-territoires cites the committed extract too) and no other file mints the same IRI."""
    return f"{dataset_name(bmo.year)}-{slugify(Path(bmo.display).stem)}"


def to_ntriples(
    bmo: BmoFile,
    iris: Iris,
    *,
    source_file: str,
    described_bassins: Collection[str] = (),
    described_departments: Collection[str] = (),
) -> Iterator[str]:
    """The dataset, the places it names and one qb:Observation per row (MODEL.md, Observations).

    Bassins and départements that another graph of the release already describes
    (``described_*``, codes) are only referred to: each triple lives in one named graph. The others get
    their type, code and the file's name as French label here.

    Written as text rather than through rdflib: a national file is ~800,000 triples, which rdflib
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
    key = record_key(bmo)
    p_file, p_line = f"<{BM.fichier}>", f"<{BM.ligne}>"
    record_type = f"<{BM.EnregistrementSource}>"
    file_literal = _literal(source_file)
    xsd_integer, xsd_decimal = str(XSD.integer), str(XSD.decimal)
    p_derived = f"<{PROV.wasDerivedFrom}>"
    p_label, p_pref = f"<{RDFS.label}>", f"<{SKOS.prefLabel}>"
    for code, (label, line) in sorted(bmo.bassins.items()):
        if code in described_bassins:
            continue
        bassin, record = f"<{iris.bassin_bmo(code)}>", f"<{iris.source_record(key, line)}>"
        yield f"{bassin} {a} <{BM.BassinEmploiBMO}> .\n{bassin} <{SKOS.notation}> {_literal(code)} .\n"
        yield f"{bassin} {p_derived} {record} .\n"
        # a file without NOMBE<yy> still gives every place a French label
        label = label or f"Bassin d'emploi BMO {code}"
        text = _literal(label, lang="fr")
        yield f"{bassin} {p_pref} {text} .\n{bassin} {p_label} {text} .\n"
    for code, (label, line) in sorted(bmo.departments.items()):
        if code in described_departments:
            continue
        dep, record = f"<{iris.departement(code)}>", f"<{iris.source_record(key, line)}>"
        yield f"{dep} {a} <{IGEO.Departement}> .\n{dep} <{IGEO.codeINSEE}> {_literal(code)} .\n"
        yield f"{dep} {p_derived} {record} .\n"
        label = label or f"Département {code}"
        text = _literal(label, lang="fr")
        yield f"{dep} <{IGEO.nom}> {text} .\n{dep} {p_label} {text} .\n"
    period = f"<{INTERVAL_YEAR[bmo.year]}>"
    occupation_iri = iris.fap2021 if bmo.scheme == "fap2021" else iris.fap2009
    p_dataset, p_area, p_period = f"<{QB.dataSet}>", f"<{SDMX_DIM.refArea}>", f"<{SDMX_DIM.refPeriod}>"
    p_occupation, p_department = f"<{SDMX_DIM.occupation}>", f"<{BM.departement}>"
    p_status, p_secret = f"<{SDMX_ATT.obsStatus}>", f"<{BM.mesureConfidentielle}>"
    p_share = f"<{BM.partProjetsDifficiles}>"
    observation_type = f"<{QB.Observation}>"
    measures = {column: f"<{measure}>" for column, measure in MEASURES.items()}
    confidential = f"<{BM['statut-confidentiel']}>"
    not_applicable = f"<{STATUS_NOT_APPLICABLE}>"
    areas = {code: f"<{iris.bassin_bmo(code)}>" for code in bmo.bassins}
    departments = {code: f"<{iris.departement(code)}>" for code in bmo.departments}
    occupations: dict[str, str] = {}
    for row in bmo.rows:
        area, department = f"bassin-bmo-{row.bassin}", f"departement-{row.department}"
        obs = f"<{iris.observation(name, area, department, row.occupation)}>"
        record = f"<{iris.source_record(key, row.line)}>"
        occupation = occupations.get(row.occupation)
        if occupation is None:
            occupation = occupations[row.occupation] = f"<{occupation_iri(row.occupation)}>"
        yield (
            f"{obs} {a} {observation_type} .\n{obs} {p_dataset} {dataset} .\n"
            f"{obs} {p_area} {areas[row.bassin]} .\n{obs} {p_department} {departments[row.department]} .\n"
            f"{obs} {p_period} {period} .\n"
            f"{obs} {p_occupation} {occupation} .\n{obs} {p_derived} {record} .\n"
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


def to_graph(
    bmo: BmoFile,
    iris: Iris,
    *,
    source_file: str,
    described_bassins: Collection[str] = (),
    described_departments: Collection[str] = (),
) -> Graph:
    """The same triples as :func:`to_ntriples`, in an rdflib graph (for the build's small files)."""
    graph = new_graph()
    text = "".join(
        to_ntriples(
            bmo,
            iris,
            source_file=source_file,
            described_bassins=described_bassins,
            described_departments=described_departments,
        )
    )
    graph.parse(data=text, format="nt")
    return graph


def convert_file(
    path: Path, ctx: ConvertContext, *, bassins: Iterable[str] = ()
) -> tuple[GraphPart, BmoFile]:
    """Read, check and convert one BMO file into the ``bmo-<year>`` graph part of a build.

    The places the build's insee-territoires graph describes are left to it (each triple in one graph).
    """
    from bassin_kg.sources import territories  # lazy: the territory files are only read by a build

    known_codes, known_bassins = reference_codes(ctx.data_dir)
    shown = relative_to_root(path, ctx.settings.root)
    bmo = read_bmo(path, known_codes=known_codes, known_bassins=known_bassins, bassins=bassins, display=shown)
    places = territories.described_places(ctx)
    graph = to_graph(
        bmo,
        ctx.iris,
        source_file=shown,
        described_bassins=places["bmo"],
        described_departments=places["departement"],
    )
    return GraphPart(dataset_name(bmo.year), graph, [shown], notes=bmo.notices()), bmo


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """The committed BMO files of ``data/sources/bmo/`` (the 2024 extract of the four bassins)."""
    folder = ctx.data_dir / "sources" / "bmo"
    parts: list[GraphPart] = []
    for path in sorted(folder.glob("*.csv")):
        part, _bmo = convert_file(path, ctx)
        if any(p.name == part.name for p in parts):
            raise DataError(
                f"deux fichiers versionnés pour le jeu de données {part.name}",
                file=part.sources[0],
                hint="gardez un fichier par année d'enquête dans data/sources/bmo/",
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
    notices, rows, name = bmo.notices(), len(bmo.rows), dataset_name(bmo.year)
    for notice in notices:
        progress.info(f"note: {notice}")
    timings["read"], start = time.perf_counter() - start, time.perf_counter()
    with progress.step("convert"):
        places = published_places(ctx, name)
        # encoded chunk by chunk: one 800,000-line str would take 4 bytes a character ('œ' is not Latin-1)
        data = b"".join(
            chunk.encode("utf-8")
            for chunk in to_ntriples(
                bmo,
                ctx.iris,
                source_file=shown,
                described_bassins=places["bmo"],
                described_departments=places["departement"],
            )
        )
        del bmo  # its rows are in `data` now
    timings["convert"] = time.perf_counter() - start
    return Loaded(name, data, rows, [shown], timings, notices=notices)


def published_places(ctx: ConvertContext, name: str) -> dict[str, set[str]]:
    """Codes of the BMO bassins and départements the published release describes outside graph ``name``."""
    store = open_read_only(published_release(ctx.settings, then="ingest") / "store")
    graph = ctx.iris.graph(name)
    found: dict[str, set[str]] = {"bmo": set(), "departement": set()}
    for key, cls, code in (
        ("bmo", BM.BassinEmploiBMO, SKOS.notation),
        ("departement", IGEO.Departement, IGEO.codeINSEE),
    ):
        query = (
            f"SELECT DISTINCT ?code WHERE {{ GRAPH ?g {{ ?place a <{cls}> ; <{code}> ?code }} "
            f"FILTER(?g != <{graph}>) }}"
        )
        solutions = store.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        found[key] = {s["code"].value for s in solutions if isinstance(s["code"], ox.Literal)}
    del store
    return found


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
