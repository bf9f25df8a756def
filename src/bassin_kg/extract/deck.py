"""The deck parser: a small state machine over classified lines.

States: *no territory* → (territory header) → *territory* → (section header) → *SWOT box*, *recruitment
table* or *basin list* → items. Slide furniture (footer title, page number, date, chart title, source and
scope notes) may appear anywhere: it ends the open item and the open section, and is recorded as
metadata. Anything the machine does not expect is a :class:`~bassin_kg.errors.DataError` naming the
file, the line and its text.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bassin_kg.errors import DataError
from bassin_kg.extract.csvio import read_rows
from bassin_kg.extract.lines import METADATA_KINDS, UNEMPLOYMENT_PREFIX, Classifier, Kind, Line
from bassin_kg.extract.text import (
    DECIMAL,
    INTEGER,
    Joined,
    Segment,
    join_lines,
    parse_decimal,
    parse_integer,
)
from bassin_kg.namespaces import slugify

BASIN_KEY = "bassin-minier"
#: the words the deck uses for the basin (title, "Perspectives communes au bassin minier")
BASIN_LABEL = "bassin minier"

_PROJECTS_ROW = re.compile(rf"(?P<label>.+?)\s+(?P<value>{INTEGER})")
_DIFFICULTY_ROW = re.compile(rf"(?P<label>.+?)\s+(?P<value>{DECIMAL})\s?%")
_UNEMPLOYMENT = re.compile(
    rf"{UNEMPLOYMENT_PREFIX}\s+T(?P<quarter>[1-4])\s+(?P<year>\d{{4}})\s+(?P<rate>{DECIMAL})\s?%"
    rf"\s+(?P<change>{DECIMAL})\s?%\s+sur 1 an"
)
# "1 emploi industriel direct génère 1,5 emplois indirects et 3 emplois induits (source : étude INSEE 2015)"
_MULTIPLIER = re.compile(
    rf"(?P<direct>{DECIMAL}) emplois? industriels? directs? génèr(?:e|ent) (?P<indirect>{DECIMAL}) emplois? "
    rf"indirects? et (?P<induced>{DECIMAL}) emplois? induits? \(source : (?P<source>[^()]+)\)"
)


# ---------------------------------------------------------------------------------------------
# What the parser produces (one dataclass per extracted table)


@dataclass(frozen=True)
class TerritoryName:
    """One row of the reviewed ``territory_names.csv``: a deck spelling and the zone it names."""

    deck_label: str
    scheme: str
    code: str

    @property
    def key(self) -> str:
        return f"{self.scheme}-{self.code}"


@dataclass(frozen=True)
class Territory:
    key: str
    deck_label: str
    scheme: str
    code: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Metadata:
    kind: str
    territory: str
    value: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class SwotItem:
    territory: str
    category: str
    rank: int
    text: str
    line_start: int
    line_end: int

    @property
    def item(self) -> str:
        return f"swot/{self.territory}/{self.category}-{self.rank}"


@dataclass(frozen=True)
class BasinItem:
    """A link between territories (``lien/1``) or a common perspective (``perspective/1``)."""

    prefix: str
    rank: int
    text: str
    line_start: int
    line_end: int

    @property
    def item(self) -> str:
        return f"{self.prefix}/{self.rank}"


@dataclass(frozen=True)
class RecruitmentRow:
    territory: str
    rank: int
    deck_label: str
    projects: int
    line_start: int
    line_end: int


@dataclass(frozen=True)
class DifficultyRow:
    territory: str
    rank: int
    deck_label: str
    difficult_share_percent: Decimal
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Unemployment:
    territory: str
    period: str
    rate_percent: Decimal
    change_1y_points: Decimal
    line_start: int
    line_end: int


@dataclass(frozen=True)
class Multiplier:
    key: str
    direct_jobs: Decimal
    indirect_jobs: Decimal
    induced_jobs: Decimal
    source: str
    line_start: int
    line_end: int


@dataclass
class Deck:
    """Everything the deck text yields, in deck order."""

    territories: list[Territory] = field(default_factory=list)
    metadata: list[Metadata] = field(default_factory=list)
    swot_items: list[SwotItem] = field(default_factory=list)
    recruitment_projects: list[RecruitmentRow] = field(default_factory=list)
    recruitment_difficulties: list[DifficultyRow] = field(default_factory=list)
    unemployment: list[Unemployment] = field(default_factory=list)
    territory_links: list[BasinItem] = field(default_factory=list)
    multipliers: list[Multiplier] = field(default_factory=list)
    common_perspectives: list[BasinItem] = field(default_factory=list)

    def item_texts(self) -> dict[str, str]:
        """Item key -> text, for every SWOT item, link and perspective."""
        found = {i.item: i.text for i in self.swot_items}
        found.update({i.item: i.text for i in (*self.territory_links, *self.common_perspectives)})
        return found

    def occupation_labels(self) -> list[str]:
        """Every deck occupation label of the two recruitment tables, in deck order, with repeats."""
        labels = [r.deck_label for r in self.recruitment_projects]
        return labels + [r.deck_label for r in self.recruitment_difficulties]


# ---------------------------------------------------------------------------------------------
# The state machine


@dataclass
class _Span:
    """Header spellings and line range of one territory while it is being read."""

    labels: list[str]
    line_start: int
    line_end: int


class _Parser:
    def __init__(self, path: Path, names: Mapping[str, TerritoryName]) -> None:
        self.path = path
        self.names = names
        self.classifier = Classifier(path, names)
        self.deck = Deck()
        self.territory: str | None = None
        #: (kind, slug) of the open section: ("swot", "force"), ("table", "projects"), ("basin", "links")
        self.section: tuple[str, str] | None = None
        self.seen_sections: set[tuple[str, str, str]] = set()
        self.item: list[Segment] = []
        self.item_start: Line | None = None
        #: label lines of a recruitment row still waiting for its number
        self.pending: list[Line] = []
        #: lines of a scope note ("Champ : …") until its final full stop
        self.scope: list[Line] = []
        self.spans: dict[str, _Span] = {}
        self.ranks: Counter[tuple[str, str]] = Counter()
        #: rejoined text of each basin item, kept to find the multiplier's own lines
        self.joined: dict[tuple[str, int], Joined] = {}

    # dispatch ---------------------------------------------------------------------------------
    def feed(self, line: Line) -> None:
        self._dispatch(line)
        # a territory's line range runs from its first header to its last non-blank line
        if line.kind is not Kind.BLANK and self.territory is not None:
            self.spans[self.territory].line_end = line.number

    def _dispatch(self, line: Line) -> None:
        if self.scope and line.kind is not Kind.TEXT:
            raise self._error(
                self.scope[0], "scope note ('Champ : …') does not end with a full stop", "join its lines"
            )
        if line.kind is Kind.BLANK:
            self._blank(line)
        elif line.kind in METADATA_KINDS:
            self._metadata(line)
        elif line.kind is Kind.TERRITORY:
            self._territory(line)
        elif line.kind is Kind.BASIN_SECTION:
            self._basin_section(line)
        elif line.kind in (Kind.SWOT_SECTION, Kind.TABLE_SECTION):
            self._zone_section(line)
        elif line.kind is Kind.UNEMPLOYMENT:
            self._unemployment(line)
        elif line.kind is Kind.BULLET:
            self._bullet(line)
        else:
            self._text(line)

    def finish(self) -> Deck:
        self._close()
        if self.scope:
            raise self._error(self.scope[0], "scope note does not end with a full stop", "complete it")
        for key, span in self.spans.items():
            if key == BASIN_KEY:
                self.deck.territories.append(
                    Territory(key, BASIN_LABEL, "", "", span.line_start, span.line_end)
                )
                continue
            # the label most used in its headers (ties: the first): "Valenciennois", not "Le Valenciennois"
            counts = Counter(span.labels)
            label = max(span.labels, key=lambda s: (counts[s], -span.labels.index(s)))
            name = self.names[label]
            self.deck.territories.append(
                Territory(key, label, name.scheme, name.code, span.line_start, span.line_end)
            )
        self.deck.multipliers = [m for link in self.deck.territory_links if (m := self._multiplier(link))]
        return self.deck

    # handlers ---------------------------------------------------------------------------------
    def _blank(self, line: Line) -> None:
        # items wrap over blank lines, so a blank line ends only a recruitment row in progress
        self._require_no_pending()

    def _metadata(self, line: Line) -> None:
        self._close()
        self.section = None
        if line.kind is Kind.SCOPE:
            self.scope = [line]
            self._end_scope_if_complete()
            return
        self._add_metadata(line.kind.value, line.value, line.number, line.number)

    def _territory(self, line: Line) -> None:
        self._close()
        self.section = None
        key = self.names[line.value].key
        self.territory = key
        span = self.spans.setdefault(key, _Span([], line.number, line.number))
        span.labels.append(line.value)
        span.line_end = line.number

    def _basin_section(self, line: Line) -> None:
        self._close()
        self.territory = BASIN_KEY
        self.spans.setdefault(BASIN_KEY, _Span([], line.number, line.number))
        self._open_section(line, ("basin", line.value))

    def _zone_section(self, line: Line) -> None:
        self._close()
        if self.territory is None or self.territory == BASIN_KEY:
            raise self._error(
                line, "section header outside an employment zone's slides", "add the zone header"
            )
        kind = "swot" if line.kind is Kind.SWOT_SECTION else "table"
        self._open_section(line, (kind, line.value))

    def _unemployment(self, line: Line) -> None:
        self._close()
        self.section = None
        match = _UNEMPLOYMENT.fullmatch(line.text)
        if match is None:
            raise self._error(
                line,
                "unemployment line not understood",
                "expected 'Taux de chômage T2 2018 10,7% -0,4% sur 1 an'",
            )
        territory = self._zone(line)
        if any(u.territory == territory for u in self.deck.unemployment):
            raise self._error(line, "second unemployment rate for this zone", "keep one per zone")
        self.deck.unemployment.append(
            Unemployment(
                territory,
                f"{match['year']}-Q{match['quarter']}",
                parse_decimal(match["rate"]),
                parse_decimal(match["change"]),
                line.number,
                line.number,
            )
        )

    def _bullet(self, line: Line) -> None:
        self._close()
        if self.section is None or self.section[0] == "table":
            raise self._error(line, "bullet item outside a SWOT box or basin list", "add the section header")
        self.item_start = line
        self.item = [Segment(line.number, line.value)]

    def _text(self, line: Line) -> None:
        if self.scope:
            self.scope.append(line)
            self._end_scope_if_complete()
            return
        header = self.classifier.near_header(line.text)
        if header is not None:
            raise self._error(
                line, f"line looks like the header {header!r} but is not written as it", "fix the spelling"
            )
        if self.section is not None and self.section[0] == "table":
            self._table_line(line)
        elif self.item_start is not None:
            self.item.append(Segment(line.number, line.raw))
        else:
            raise self._error(
                line,
                "unexpected text outside any item",
                "if it is a new territory header, add its spelling to data/curated/territory_names.csv",
            )

    # recruitment tables -----------------------------------------------------------------------
    def _table_line(self, line: Line) -> None:
        assert self.section is not None
        projects = self.section[1] == "projects"
        row, other = (_PROJECTS_ROW, _DIFFICULTY_ROW) if projects else (_DIFFICULTY_ROW, _PROJECTS_ROW)
        if self.pending and not _continues(self.pending[-1], line):
            self._require_no_pending()
        match = row.fullmatch(line.text)
        if match is None:
            if other.fullmatch(line.text):
                expected = "a number of projects" if projects else "a percentage"
                raise self._error(line, f"recruitment row does not end with {expected}", "check the table")
            self.pending.append(line)
            return
        lines = [*self.pending, line]
        self.pending = []
        segments = [Segment(p.number, p.raw) for p in lines[:-1]] + [Segment(line.number, match["label"])]
        label = join_lines(segments).text
        territory = self._zone(line)
        rank = self._next_rank(territory, self.section[1])
        start, end = lines[0].number, line.number
        if projects:
            value = parse_integer(match["value"])
            self.deck.recruitment_projects.append(RecruitmentRow(territory, rank, label, value, start, end))
        else:
            share = parse_decimal(match["value"])
            self.deck.recruitment_difficulties.append(
                DifficultyRow(territory, rank, label, share, start, end)
            )

    def _require_no_pending(self) -> None:
        if self.pending:
            raise self._error(
                self.pending[0],
                "recruitment row without a number",
                "each row ends with its count (projects) or percentage (difficulties)",
            )

    # helpers ----------------------------------------------------------------------------------
    def _open_section(self, line: Line, section: tuple[str, str]) -> None:
        assert self.territory is not None
        seen = (self.territory, *section)
        if seen in self.seen_sections:
            raise self._error(line, f"section appears twice for {self.territory}", "merge the two boxes")
        self.seen_sections.add(seen)
        self.section = section

    def _close(self) -> None:
        """End the open item or recruitment row (a new header, bullet or metadata line arrived)."""
        self._require_no_pending()
        if self.item_start is None:
            return
        assert self.section is not None
        assert self.territory is not None
        start = self.item_start
        joined = join_lines(self.item)
        self.item, self.item_start = [], None
        if not joined.text:
            raise self._error(start, "empty item", "remove the bullet or give it a text")
        end = joined.starts[-1][1]
        kind, slug = self.section
        rank = self._next_rank(self.territory, slug)
        if kind == "swot":
            self.deck.swot_items.append(SwotItem(self.territory, slug, rank, joined.text, start.number, end))
        elif slug == "links":
            self.deck.territory_links.append(BasinItem("lien", rank, joined.text, start.number, end))
        else:
            self.deck.common_perspectives.append(
                BasinItem("perspective", rank, joined.text, start.number, end)
            )
        self.joined[(slug, rank)] = joined

    def _next_rank(self, territory: str, slug: str) -> int:
        self.ranks[(territory, slug)] += 1
        return self.ranks[(territory, slug)]

    def _zone(self, line: Line) -> str:
        if self.territory is None or self.territory == BASIN_KEY:
            raise self._error(line, "zone data outside an employment zone's slides", "add the zone header")
        return self.territory

    def _add_metadata(self, kind: str, value: str, start: int, end: int) -> None:
        self.deck.metadata.append(Metadata(kind, self.territory or "", value, start, end))

    def _end_scope_if_complete(self) -> None:
        joined = join_lines(
            [Segment(s.number, s.value if s.kind is Kind.SCOPE else s.raw) for s in self.scope]
        )
        if joined.text.endswith("."):
            self._add_metadata("scope", joined.text, self.scope[0].number, self.scope[-1].number)
            self.scope = []

    def _multiplier(self, link: BasinItem) -> Multiplier | None:
        joined = self.joined[("links", link.rank)]
        match = _MULTIPLIER.search(joined.text)
        if match is None:
            return None
        source = match["source"].strip()
        # key: who and when ("insee-2015"); the generic word "étude" adds nothing
        key = slugify(source).removeprefix("etude-")
        return Multiplier(
            key,
            parse_decimal(match["direct"]),
            parse_decimal(match["indirect"]),
            parse_decimal(match["induced"]),
            source,
            joined.line_at(match.start()),
            joined.line_at(match.end() - 1),
        )

    def _error(self, line: Line, problem: str, hint: str) -> DataError:
        return self.classifier.error(line, problem, hint)


def _continues(previous: Line, line: Line) -> bool:
    """Whether ``line`` carries on the label of ``previous`` (a recruitment row wrapped in the PDF).

    A wrapped label ends in a comma or hyphen, or its next line starts with a space or a lower-case
    letter; a capitalised line after a finished label is a new row whose number is missing.
    """
    ended = previous.text.endswith((",", "-"))
    first = line.raw[:1]
    return ended or first.isspace() or first.islower()


def parse_deck(path: Path, names: Mapping[str, TerritoryName]) -> Deck:
    """Parse the deck text at ``path``; ``names`` maps each deck spelling of a zone to its code."""
    parser = _Parser(path, names)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            text = handle.read()
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})",
            file=path,
            line=line,
            hint="the deck text is UTF-8: extract it again, or save it as UTF-8",
        ) from None
    for number, raw in enumerate(text.splitlines(), start=1):
        parser.feed(parser.classifier.classify(number, raw))
    return parser.finish()


def load_territory_names(path: Path) -> dict[str, TerritoryName]:
    """Read the reviewed ``territory_names.csv`` (deck spelling -> zone)."""
    names: dict[str, TerritoryName] = {}
    for row in read_rows(path, ("deck_label", "scheme", "code", "insee_name", "note")):
        label = row.values["deck_label"]
        if label in names:
            raise DataError(
                "deck spelling listed twice", file=path, line=row.line, field="deck_label", value=label
            )
        if not row.values["scheme"] or not row.values["code"]:
            raise DataError("scheme and code are required", file=path, line=row.line, value=label)
        names[label] = TerritoryName(label, row.values["scheme"], row.values["code"])
    return names
