"""Helpers shared by converters: CSV tables read with line numbers, typed literals, source records.

Every problem in an input table becomes a :class:`DataError` that names the file, the line, the field
and the value, and says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from bassin_kg.errors import DataError
from bassin_kg.extract.csvio import csv_records
from bassin_kg.namespaces import BM, Iris

#: the reference tables' folder, relative to the project root
REFERENCE = "data/reference"


# --- typed literals ---------------------------------------------------------------------------------
def fr(text: str) -> Literal:
    return Literal(text, lang="fr")


def en(text: str) -> Literal:
    return Literal(text, lang="en")


def integer(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


def decimal(value: Decimal) -> Literal:
    return Literal(value, datatype=XSD.decimal)


# --- tables -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One data row of a table, with its 1-based line in the file (the header is line 1)."""

    file: str
    line: int
    values: Mapping[str, str]

    def error(
        self, problem: str, *, field: str | None = None, value: object = None, hint: str | None = None
    ) -> DataError:
        return DataError(problem, file=self.file, line=self.line, field=field, value=value, hint=hint)

    def text(self, field: str) -> str:
        """The field's value, stripped; may be empty."""
        return self.values[field].strip()

    def required(self, field: str) -> str:
        value = self.text(field)
        if not value:
            raise self.error("empty value", field=field, value=value, hint=f"fill in the {field} column")
        return value

    def integer(self, field: str, *, minimum: int | None = None) -> int:
        raw = self.text(field)
        try:
            number = int(raw)
        except ValueError:
            raise self.error(
                "not a whole number", field=field, value=raw, hint="write digits only, e.g. 1152"
            ) from None
        if minimum is not None and number < minimum:
            raise self.error(
                f"number below {minimum}", field=field, value=raw, hint=f"use a number >= {minimum}"
            )
        return number

    def decimal(self, field: str) -> Decimal:
        raw = self.text(field)
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = Decimal("NaN")
        # Decimal() also accepts "NaN", "Infinity" and "1e3": none is a plain number in a table.
        if not number.is_finite() or "e" in raw.lower():
            raise self.error(
                "not a decimal number",
                field=field,
                value=raw,
                hint="write it with a point as decimal separator, e.g. 10.7 or -0.4",
            )
        return number


@dataclass(frozen=True)
class Table:
    """A CSV table read whole: its path relative to the project root, its columns and rows."""

    file: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def file_key(self) -> str:
        """``curated-<stem>`` for data/curated, ``reference-<stem>`` for data/reference (MODEL.md)."""
        path = Path(self.file)
        folder = path.parent.name
        return f"{folder}-{path.stem}"

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def index(self, *fields: str) -> dict[tuple[str, ...], Row]:
        """Rows by the values of ``fields``; two rows with the same values are a duplicate identifier."""
        found: dict[tuple[str, ...], Row] = {}
        for row in self.rows:
            key = tuple(row.text(f) for f in fields)
            if key in found:
                raise row.error(
                    f"duplicate identifier (already on line {found[key].line})",
                    field=",".join(fields),
                    value=key[0] if len(key) == 1 else key,
                    hint="each identifier may appear once; remove or rename one of the two rows",
                )
            found[key] = row
        return found


def read_table(root: Path, relative: str, columns: Sequence[str], *, hint: str | None = None) -> Table:
    """Read ``root/relative`` as UTF-8 CSV with a header line; every listed column must be present.

    ``hint`` says how to restore a missing file. Blank lines are skipped; a row with a different number
    of fields than the header is an error (an unquoted comma is the usual cause).
    """
    path = root / relative
    if not path.is_file():
        raise DataError(
            "file not found", file=relative, hint=hint or "restore it (see the README of its folder)"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(handle, relative, columns)
    except UnicodeDecodeError as exc:
        raise DataError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=relative, hint="save it as UTF-8"
        ) from None


def reference_file(reference_dir: Path, relative: str, what: str) -> Path:
    """``reference_dir/relative`` (``data/reference/…``), which must exist; ``what`` names it in the error."""
    path = reference_dir / relative
    if not path.is_file():
        raise DataError(
            f"{what} not found",
            file=f"{REFERENCE}/{relative}",
            hint="restore it from git (origin and licence in data/reference/README.md)",
        )
    return path


def read_reference(data_dir: Path, name: str, columns: Sequence[str]) -> Table:
    """The table ``data/reference/<name>`` (its origin and licence are in that folder's README)."""
    return read_table(
        data_dir.parent,
        f"{REFERENCE}/{name}",
        columns,
        hint="restore it from data/reference (see its README)",
    )


def _read(handle: Iterable[str], relative: str, columns: Sequence[str]) -> Table:
    records = csv_records(handle, relative)
    try:
        _first, fields = next(records)
    except StopIteration:
        raise DataError(
            "file is empty", file=relative, hint=f"expected a header: {','.join(columns)}"
        ) from None
    header = tuple(h.strip() for h in fields)
    for column in columns:
        if column not in header:
            raise DataError(
                "missing column",
                file=relative,
                line=1,
                field=column,
                value=",".join(header),
                hint=f"the header must name the columns {','.join(columns)}",
            )
    rows: list[Row] = []
    for line, fields in records:
        if not fields or not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise DataError(
                f"row has {len(fields)} fields, the header has {len(header)}",
                file=relative,
                line=line,
                value=",".join(fields),
                hint="quote values that contain a comma, and give every column a value (possibly empty)",
            )
        rows.append(Row(relative, line, dict(zip(header, fields, strict=True))))
    return Table(relative, header, tuple(rows))


# --- provenance -------------------------------------------------------------------------------------
def relative_to_root(path: Path, root: Path) -> str:
    """The path as bm:fichier shows it: relative to the project root when inside it, else its name."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


class SourceRecords:
    """Mints ``<base>id/source/<file key>/<line>`` records (MODEL.md, Provenance) into a graph, once each."""

    def __init__(self, graph: Graph, iris: Iris) -> None:
        self.graph = graph
        self.iris = iris
        self._seen: dict[URIRef, int | None] = {}

    def record(
        self, file_key: str, file: str, line: int, *, line_end: int | None = None, cited_by: Row | None = None
    ) -> URIRef:
        """The record of ``file`` at ``line`` (to ``line_end`` when it spans several lines).

        Records are keyed by their first line (MODEL.md), so two rows citing the same first line with
        different last lines are an error, reported on ``cited_by`` (the citing row) when given.
        """
        iri = self.iris.source_record(file_key, line)
        if iri in self._seen:
            if self._seen[iri] != line_end:
                ends = f"{self._seen[iri]} and {line_end}"
                problem = f"{file} line {line} is cited with two different last lines ({ends})"
                hint = "rows that start on the same source line must end on the same line too"
                if cited_by is not None:
                    raise cited_by.error(problem, field="line_end", value=line_end, hint=hint)
                raise DataError(problem, file=file, line=line, hint=hint)
            return iri
        self._seen[iri] = line_end
        self.graph.add((iri, RDF.type, BM.EnregistrementSource))
        self.graph.add((iri, BM.fichier, Literal(file)))
        self.graph.add((iri, BM.ligne, integer(line)))
        if line_end is not None and line_end != line:
            self.graph.add((iri, BM.ligneFin, integer(line_end)))
        return iri

    def row(self, table: Table, row: Row) -> URIRef:
        """The record of one table row."""
        return self.record(table.file_key, table.file, row.line)

    def for_file(self, file_key: str, file: str) -> Callable[[int], URIRef]:
        """The records of ``file`` by line number."""
        return lambda line: self.record(file_key, file, line)


def reference_records(graph: Graph, iris: Iris, name: str) -> Callable[[int], URIRef]:
    """The records of ``data/reference/<name>`` by line number (file key ``reference-<stem>``)."""
    return SourceRecords(graph, iris).for_file(f"reference-{Path(name).stem}", f"{REFERENCE}/{name}")


def reference_record_iris(iris: Iris, name: str) -> Callable[[int], URIRef]:
    """The IRIs of the records of ``data/reference/<name>``, for a graph that cites records another
    graph describes (each triple lives in one named graph)."""
    return lambda line: iris.source_record(f"reference-{Path(name).stem}", line)
