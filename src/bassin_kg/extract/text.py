"""String helpers for the deck text: whitespace, wrapped lines, French numbers.

The deck keeps its own typography in the tables (’ stays ’); these helpers only collapse whitespace,
rejoin wrapped lines and read numbers written the French way ("1 152", "10,7%", "-0,4%").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"\s+")
# Thousands are grouped by a space (ordinary, no-break or narrow no-break) in French text.
_GROUP_SPACE = "[ \u00a0\u202f]"
#: an integer as the deck writes it: "1576" or "1 152"
INTEGER = rf"\d+(?:{_GROUP_SPACE}\d{{3}})*"
#: a signed decimal as the deck writes it: "10,7", "-0,4" (a typographic minus is accepted too)
DECIMAL = r"[-+\u2212]?\d+(?:,\d+)?"


def collapse(text: str) -> str:
    """Strip and collapse every run of whitespace to one space."""
    return _SPACES.sub(" ", text).strip()


def header_key(text: str) -> str:
    """A loose key to spot near-misses of a header: no accents, case, punctuation or plural 's'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(word.rstrip("s") for word in re.findall(r"[a-z]+", ascii_text.casefold()))


def same_words(a: str, b: str) -> bool:
    """Equal up to whitespace and apostrophe style (the deck mixes ’ and ')."""
    return collapse(a).replace("’", "'") == collapse(b).replace("’", "'")


@dataclass(frozen=True)
class Segment:
    """One physical line's contribution to a wrapped piece of text."""

    line: int
    text: str


@dataclass(frozen=True)
class Joined:
    """Text rejoined from wrapped lines, remembering where each line starts in it."""

    text: str
    #: (offset in ``text``, deck line) for each segment, in order
    starts: tuple[tuple[int, int], ...]

    def line_at(self, offset: int) -> int:
        """The deck line holding the character at ``offset``."""
        found = self.starts[0][1]
        for start, line in self.starts:
            if start > offset:
                break
            found = line
        return found


def join_lines(segments: Sequence[Segment]) -> Joined:
    """Rejoin wrapped lines with one space; a line ending in a hyphen is glued to the next.

    "sous-" + "traitance" gives "sous-traitance": the deck has no soft hyphenation, so a hyphen at the
    end of a line belongs to a compound word and is kept, with no space added.
    """
    text = ""
    starts: list[tuple[int, int]] = []
    for segment in segments:
        piece = collapse(segment.text)
        if not piece:
            continue
        if text and not (text.endswith("-") and text[-2:-1].isalpha()):
            text += " "
        starts.append((len(text), segment.line))
        text += piece
    return Joined(text, tuple(starts))


def parse_integer(text: str) -> int:
    """'1 152' -> 1152. Raises ValueError when ``text`` is not a grouped integer."""
    if not re.fullmatch(INTEGER, text):
        raise ValueError(f"not an integer: {text!r}")
    return int(re.sub(_GROUP_SPACE, "", text))


def parse_decimal(text: str) -> Decimal:
    """'10,7' -> Decimal('10.7'), '-0,4' -> Decimal('-0.4'). Raises ValueError otherwise."""
    if not re.fullmatch(DECIMAL, text):
        raise ValueError(f"not a French decimal: {text!r}")
    try:
        return Decimal(text.replace("\u2212", "-").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern above already rules this out
        raise ValueError(f"not a French decimal: {text!r}") from None
