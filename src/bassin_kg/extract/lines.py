"""What each line of the deck text is: the alphabet of the parser's state machine.

The classifier only looks at one line; what a line *means* in its context (a wrapped item, a
recruitment row) is decided by :mod:`bassin_kg.extract.deck`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bassin_kg.errors import DataError
from bassin_kg.extract.text import collapse, header_key, same_words
from bassin_kg.french import MONTHS

#: the deck's running title, repeated in slide footers
DECK_TITLE = "Trajectoire économique des territoires du bassin minier"
#: titles of slides that hold only a chart (their data is not in the text)
CHART_TITLES = ("La crise et son impact sur l’emploi",)
#: SWOT box headers -> category slug used in item keys
SWOT_SECTIONS = {
    "Forces": "force",
    "Faiblesses": "faiblesse",
    "Opportunités": "opportunite",
    "Menaces": "menace",
}
#: recruitment table headers -> table kind
TABLE_SECTIONS = {
    "Projets de recrutement": "projects",
    "Difficultés de recrutement": "difficulties",
}
#: headers of the slides about the whole basin -> section kind
BASIN_SECTIONS = {
    "Liens entre les territoires": "links",
    "Perspectives communes au bassin minier": "perspectives",
}
#: item starts: the private-use glyph U+F071 (a Wingdings bullet in the PDF) and the ordinary bullet
BULLETS = ("\uf071", "•")

_DATE = re.compile(r"(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})")
_PAGE = re.compile(r"\d{1,3}")
_SOURCE = re.compile(r"Source\s*:\s*(.+)")
_SCOPE = re.compile(r"Champ\s*:\s*(.+)")
UNEMPLOYMENT_PREFIX = "Taux de chômage"


class Kind(Enum):
    """The kinds of line the deck text contains."""

    BLANK = "blank"
    TITLE = "title"
    DATE = "date"
    PAGE = "page"
    SOURCE = "source"
    SCOPE = "scope"
    CHART_TITLE = "chart_title"
    TERRITORY = "territory"
    BASIN_SECTION = "basin_section"
    SWOT_SECTION = "swot_section"
    TABLE_SECTION = "table_section"
    UNEMPLOYMENT = "unemployment"
    BULLET = "bullet"
    TEXT = "text"


#: kinds that are slide furniture (footer, chart notes), recorded in deck_metadata.csv
METADATA_KINDS = frozenset({Kind.TITLE, Kind.DATE, Kind.PAGE, Kind.SOURCE, Kind.SCOPE, Kind.CHART_TITLE})


@dataclass(frozen=True)
class Line:
    """One classified line: ``value`` is the useful part (item text, section slug, date, …)."""

    number: int
    raw: str
    kind: Kind
    value: str

    @property
    def text(self) -> str:
        return collapse(self.raw)


class Classifier:
    """Classifies lines; territory headers are the spellings of the reviewed ``territory_names.csv``."""

    def __init__(self, path: Path, territory_labels: Collection[str]) -> None:
        self.path = path
        self.territory_labels = {collapse(label) for label in territory_labels}
        self._header_keys = {
            header_key(h): h
            for h in (*SWOT_SECTIONS, *TABLE_SECTIONS, *BASIN_SECTIONS, *CHART_TITLES, *self.territory_labels)
        }

    def classify(self, number: int, raw: str) -> Line:
        text = collapse(raw)
        kind, value = self._kind(text)
        return Line(number, raw, kind, value)

    def _kind(self, text: str) -> tuple[Kind, str]:
        if not text:
            return Kind.BLANK, ""
        if text.startswith(BULLETS):
            return Kind.BULLET, text[1:].strip()
        if text == DECK_TITLE:
            return Kind.TITLE, text
        if match := _DATE.fullmatch(text):
            day, month, year = match.groups()
            return Kind.DATE, f"{year}-{MONTHS.index(month) + 1:02d}-{int(day):02d}"
        if _PAGE.fullmatch(text):
            return Kind.PAGE, text
        if match := _SOURCE.fullmatch(text):
            return Kind.SOURCE, match.group(1)
        if match := _SCOPE.fullmatch(text):
            return Kind.SCOPE, match.group(1)
        if any(same_words(text, title) for title in CHART_TITLES):
            return Kind.CHART_TITLE, text
        if text in self.territory_labels:
            return Kind.TERRITORY, text
        if text in BASIN_SECTIONS:
            return Kind.BASIN_SECTION, BASIN_SECTIONS[text]
        if text in SWOT_SECTIONS:
            return Kind.SWOT_SECTION, SWOT_SECTIONS[text]
        if text in TABLE_SECTIONS:
            return Kind.TABLE_SECTION, TABLE_SECTIONS[text]
        if text.startswith(UNEMPLOYMENT_PREFIX):
            return Kind.UNEMPLOYMENT, text
        return Kind.TEXT, text

    def near_header(self, text: str) -> str | None:
        """The header ``text`` is a misspelling of ('Menace', 'Opportunites :'), if any."""
        return self._header_keys.get(header_key(text))

    def error(self, line: Line, problem: str, hint: str) -> DataError:
        return DataError(problem, file=self.path, line=line.number, value=line.text, hint=hint)
