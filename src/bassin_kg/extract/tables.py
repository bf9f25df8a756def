"""The extracted tables: their columns, their CSV text, and how they are written and compared.

Output is deterministic (deck order, ``\\n`` line endings, the csv module's minimal quoting), so
``extract --check`` can compare text. Tables are written to temporary files first and renamed only
when all of them are written: a failed run leaves the committed tables as they were.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bassin_kg.extract.deck import Deck

Cell = str | int | Decimal


@dataclass(frozen=True)
class Table:
    """One extracted table: file stem, header, and how to get its rows from a parsed deck."""

    name: str
    columns: tuple[str, ...]
    rows: Callable[[Deck], Iterable[Sequence[Cell]]]

    @property
    def filename(self) -> str:
        return f"{self.name}.csv"


TABLES: tuple[Table, ...] = (
    Table(
        "deck_metadata",
        ("kind", "territory", "value", "line_start", "line_end"),
        lambda d: ((m.kind, m.territory, m.value, m.line_start, m.line_end) for m in d.metadata),
    ),
    Table(
        "territories",
        ("key", "deck_label", "scheme", "code", "line_start", "line_end"),
        lambda d: ((t.key, t.deck_label, t.scheme, t.code, t.line_start, t.line_end) for t in d.territories),
    ),
    Table(
        "swot_items",
        ("item", "territory", "category", "rank", "text", "line_start", "line_end"),
        lambda d: (
            (i.item, i.territory, i.category, i.rank, i.text, i.line_start, i.line_end) for i in d.swot_items
        ),
    ),
    Table(
        "recruitment_projects",
        ("territory", "rank", "deck_label", "projects", "line_start", "line_end"),
        lambda d: (
            (r.territory, r.rank, r.deck_label, r.projects, r.line_start, r.line_end)
            for r in d.recruitment_projects
        ),
    ),
    Table(
        "recruitment_difficulties",
        ("territory", "rank", "deck_label", "difficult_share_percent", "line_start", "line_end"),
        lambda d: (
            (r.territory, r.rank, r.deck_label, r.difficult_share_percent, r.line_start, r.line_end)
            for r in d.recruitment_difficulties
        ),
    ),
    Table(
        "unemployment",
        ("territory", "period", "rate_percent", "change_1y_points", "line_start", "line_end"),
        lambda d: (
            (u.territory, u.period, u.rate_percent, u.change_1y_points, u.line_start, u.line_end)
            for u in d.unemployment
        ),
    ),
    Table(
        "territory_links",
        ("item", "rank", "text", "line_start", "line_end"),
        lambda d: ((i.item, i.rank, i.text, i.line_start, i.line_end) for i in d.territory_links),
    ),
    Table(
        "multipliers",
        ("key", "direct_jobs", "indirect_jobs", "induced_jobs", "source", "line_start", "line_end"),
        lambda d: (
            (m.key, m.direct_jobs, m.indirect_jobs, m.induced_jobs, m.source, m.line_start, m.line_end)
            for m in d.multipliers
        ),
    ),
    Table(
        "common_perspectives",
        ("item", "rank", "text", "line_start", "line_end"),
        lambda d: ((i.item, i.rank, i.text, i.line_start, i.line_end) for i in d.common_perspectives),
    ),
)


def render(table: Table, deck: Deck) -> str:
    """The CSV text of ``table`` for ``deck``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows(deck):
        writer.writerow([str(cell) for cell in row])
    return buffer.getvalue()


def render_all(deck: Deck) -> dict[str, str]:
    """File name -> CSV text, for every extracted table."""
    return {table.filename: render(table, deck) for table in TABLES}


def write_atomically(directory: Path, texts: dict[str, str]) -> None:
    """Write every file to a temporary file beside it, then rename them all into place."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[tuple[Path, Path]] = []
    complete = False
    try:
        for filename, text in texts.items():
            handle, name = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=directory)
            written.append((Path(name), directory / filename))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                out.write(text)
        complete = True
    finally:
        # whatever stopped the writing (disk full, bad text), the committed tables stay as they were
        if not complete:
            for tmp, _ in written:
                tmp.unlink(missing_ok=True)
    for tmp, target in written:
        os.replace(tmp, target)


@dataclass(frozen=True)
class Difference:
    """How a committed table differs from what the parser produces."""

    filename: str
    line: int
    committed: str | None
    extracted: str | None

    def render(self, directory: Path) -> str:
        where = f"{directory / self.filename}:{self.line}"
        if self.committed is None and self.line == 0:
            return f"{directory / self.filename}: missing; run `bassin-kg extract` to write it"
        return (
            f"{where}: committed table differs from the deck parser\n"
            f"  committed: {self.committed if self.committed is not None else '(no such row)'}\n"
            f"  extracted: {self.extracted if self.extracted is not None else '(no such row)'}"
        )


def compare(directory: Path, texts: dict[str, str]) -> list[Difference]:
    """The first difference of each committed table that is not what the parser produces."""
    found: list[Difference] = []
    for filename, expected in texts.items():
        path = directory / filename
        if not path.exists():
            found.append(Difference(filename, 0, None, None))
            continue
        with path.open(encoding="utf-8", newline="") as handle:
            actual = handle.read()
        if actual == expected:
            continue
        old, new = actual.split("\n"), expected.split("\n")
        for index in range(max(len(old), len(new))):
            a = old[index] if index < len(old) else None
            b = new[index] if index < len(new) else None
            if a != b:
                found.append(Difference(filename, index + 1, a, b))
                break
    return found


def columns_of(name: str) -> tuple[str, ...]:
    """The header of the extracted table ``name`` (file stem)."""
    for table in TABLES:
        if table.name == name:
            return table.columns
    raise KeyError(name)
