"""Reading the curated CSV tables: header checked, each row with its line number for error messages."""

from __future__ import annotations

import _csv
import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bassin_kg.errors import DataError


@dataclass(frozen=True)
class Row:
    """A CSV row with its 1-based line in the file (header = line 1)."""

    line: int
    values: dict[str, str]


def read_rows(path: Path, columns: Sequence[str]) -> list[Row]:
    """Rows of the CSV at ``path``, whose header must be exactly ``columns``."""
    if not path.exists():
        raise DataError("table is missing", file=path, hint="write it (see data/curated/README.md)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        try:
            return _rows(reader, path, columns)
        except csv.Error as exc:
            # e.g. a field over the csv module's 128 kB limit: an unclosed quote swallowed the file
            raise DataError(
                f"not a readable CSV table ({exc})",
                file=path,
                line=reader.line_num,
                hint="look for an unclosed double quote on or before this line",
            ) from None
        except UnicodeDecodeError as exc:
            raise DataError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path, hint="save it as UTF-8"
            ) from None


def _rows(reader: _csv.Reader, path: Path, columns: Sequence[str]) -> list[Row]:
    header = next(reader, None)
    if header is None or tuple(header) != tuple(columns):
        raise DataError(
            "unexpected header", file=path, line=1, value=header, hint=f"expected {','.join(columns)}"
        )
    rows: list[Row] = []
    for cells in reader:
        line = reader.line_num
        if len(cells) != len(columns):
            raise DataError(
                f"row has {len(cells)} cells, expected {len(columns)}", file=path, line=line, value=cells
            )
        rows.append(Row(line, dict(zip(columns, cells, strict=True))))
    return rows
