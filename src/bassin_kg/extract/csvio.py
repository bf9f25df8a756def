"""Reading CSV: records with the line they start on, and curated tables with their header checked."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bassin_kg.errors import DataError


def csv_records(
    lines: Iterable[str], file: str | Path, *, delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """Each record of CSV text with the line it starts on (a quoted field may span lines).

    A malformed file is a DataError naming the line: e.g. a field over the csv module's 128 kB limit,
    when an unclosed quote swallows the rest of the file.
    """
    reader = csv.reader(lines, delimiter=delimiter)
    consumed = 0
    try:
        for fields in reader:
            # the record starts on the line after the previous one ended
            line, consumed = consumed + 1, reader.line_num
            yield line, fields
    except csv.Error as exc:
        raise DataError(
            f"not a readable CSV table ({exc})",
            file=file,
            line=reader.line_num,
            hint="look for an unclosed double quote on or before this line",
        ) from None


@dataclass(frozen=True)
class Row:
    """A CSV row with its 1-based line in the file (header = line 1)."""

    line: int
    values: dict[str, str]


def read_rows(path: Path, columns: Sequence[str]) -> list[Row]:
    """Rows of the CSV at ``path``, whose header must be exactly ``columns`` (a blank line is an error)."""
    if not path.exists():
        raise DataError("table is missing", file=path, hint="write it (see data/curated/README.md)")
    with path.open(encoding="utf-8", newline="") as handle:
        try:
            return _rows(csv_records(handle, path), path, columns)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path, hint="save it as UTF-8"
            ) from None


def _rows(records: Iterator[tuple[int, list[str]]], path: Path, columns: Sequence[str]) -> list[Row]:
    _first, header = next(records, (1, None))
    if header is None or tuple(header) != tuple(columns):
        raise DataError(
            "unexpected header", file=path, line=1, value=header, hint=f"expected {','.join(columns)}"
        )
    rows: list[Row] = []
    for line, cells in records:
        if len(cells) != len(columns):
            raise DataError(
                f"row has {len(cells)} cells, expected {len(columns)}", file=path, line=line, value=cells
            )
        rows.append(Row(line, dict(zip(columns, cells, strict=True))))
    return rows
