"""Provenance: the curated table line and deck lines each figure or item comes from."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.web.describe.formatting import source_text
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, node, text
from bassin_kg.web.sparql import SparqlService


@dataclass(frozen=True)
class Source:
    """Where a figure or an item comes from: a curated table line and, behind it, the deck's lines."""

    record: Shown
    file: str
    line: str
    deck: Shown | None = None
    deck_line: str | None = None
    deck_line_end: str | None = None
    page: str | None = None

    @property
    def deck_text(self) -> str | None:
        if self.deck_line is None:
            return None
        where = f"lignes {self.deck_line}–{self.deck_line_end}" if self.deck_line_end else None
        if where is None or self.deck_line_end == self.deck_line:
            where = f"ligne {self.deck_line}"
        page = f"p. {self.page}, " if self.page else ""
        return f"diaporama 2019, {page}{where}"


async def fetch_sources(
    service: SparqlService, iris: Iterable[str], labels: Labels
) -> dict[str, list[Source]]:
    """The source records (curated table line, then deck lines) of each of ``iris``."""
    wanted = sorted(set(iris))
    if not wanted:
        return {}
    values = " ".join(node(i) for i in wanted)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?x ?rec ?file ?line ?deck ?dline ?dend ?page WHERE {{
  VALUES ?x {{ {values} }}
  ?x prov:wasDerivedFrom ?rec . ?rec bm:fichier ?file ; bm:ligne ?line .
  OPTIONAL {{
    ?rec prov:wasDerivedFrom ?deck . ?deck bm:ligne ?dline .
    OPTIONAL {{ ?deck bm:ligneFin ?dend }}
    OPTIONAL {{ ?deck bm:page ?page }}
  }}
}} ORDER BY ?x ?file ?line"""
    )
    result: dict[str, list[Source]] = defaultdict(list)
    for row in rows:
        record, deck = row.get("rec"), row.get("deck")
        file, line = text(row.get("file")), text(row.get("line"))
        shown = Shown(source_text(file, line), labels.links.href(record.value) if record else None, file)
        deck_shown = None
        if isinstance(deck, ox.NamedNode):
            deck_shown = Shown("diaporama", labels.links.href(deck.value), deck.value)
        result[text(row.get("x"))].append(
            Source(
                record=shown,
                file=file,
                line=line,
                deck=deck_shown,
                deck_line=text(row.get("dline")) or None,
                deck_line_end=text(row.get("dend")) or None,
                page=text(row.get("page")) or None,
            )
        )
    return dict(result)


def line_ranges(sources: Iterable[Source]) -> list[str]:
    """'file, lignes 2–13' for each file the sources cite (first to last line)."""
    lines: dict[str, list[int]] = defaultdict(list)
    for src in sources:
        if src.line.isdigit():
            lines[src.file].append(int(src.line))
    ranges = []
    for file, numbers in sorted(lines.items()):
        first, last = min(numbers), max(numbers)
        ranges.append(f"{file}, ligne {first}" if first == last else f"{file}, lignes {first}–{last}")
    return ranges
