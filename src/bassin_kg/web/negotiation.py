"""Content negotiation: the result formats we serve, ``Accept`` parsing with q-values, and ``format=``.

RFC 9110 §12.5.1: each offered type takes the q-value of the *most specific* media range that matches
it, so ``text/*;q=0.5, text/csv;q=0`` excludes CSV while accepting TSV. Among equally acceptable types
the server's order of preference decides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

Kind = Literal["solutions", "graph"]


@dataclass(frozen=True)
class Format:
    """One serialisation: its short name (``format=`` value), media type and accepted aliases."""

    name: str
    media_type: str
    kind: Kind
    #: other media types a client may send for the same thing (``application/json``…)
    aliases: tuple[str, ...] = ()
    #: other short names for ``format=``
    short_names: tuple[str, ...] = ()

    @property
    def content_type(self) -> str:
        # text/* types carry their charset explicitly; every serialisation we write is UTF-8
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


#: SELECT / ASK result formats, in order of preference (the first one answers ``*/*``)
SOLUTION_FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "solutions", ("application/json",), ("srj",)),
    Format("xml", "application/sparql-results+xml", "solutions", ("application/xml", "text/xml"), ("srx",)),
    Format("csv", "text/csv", "solutions"),
    Format("tsv", "text/tab-separated-values", "solutions"),
)

#: CONSTRUCT / DESCRIBE (and Graph Store) formats, in order of preference
GRAPH_FORMATS: tuple[Format, ...] = (
    Format("ttl", "text/turtle", "graph", ("application/x-turtle",), ("turtle",)),
    Format("nt", "application/n-triples", "graph", (), ("ntriples", "n-triples")),
    Format("nq", "application/n-quads", "graph", (), ("nquads", "n-quads")),
    Format("rdfxml", "application/rdf+xml", "graph", ("application/xml", "text/xml"), ("rdf", "owl")),
    Format("jsonld", "application/ld+json", "graph", ("application/json",), ("json-ld",)),
)

#: ``format=`` names that mean the natural JSON / XML of whatever the query returns
_SHARED_NAMES = {"json": ("json", "jsonld"), "xml": ("xml", "rdfxml")}


class NegotiationError(ValueError):
    """A ``format=`` value or an ``Accept`` header we cannot read: a client error (400)."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    @property
    def specificity(self) -> int:
        if self.type == "*":
            return 0
        return 1 if self.subtype == "*" else 2

    def matches(self, media_type: str) -> bool:
        main, _, sub = media_type.partition("/")
        return self.type in ("*", main) and self.subtype in ("*", sub)


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an ``Accept`` header; missing or empty means ``*/*``."""
    if header is None or not header.strip():
        return [MediaRange("*", "*", 1.0)]
    ranges: list[MediaRange] = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        media = parts[0].lower()
        if not media:
            continue
        main, slash, sub = media.partition("/")
        if not slash or not main or not sub:
            # tolerate the common bare '*' some clients send
            if media == "*":
                main, sub = "*", "*"
            else:
                raise NegotiationError(
                    f"Accept header entry {media!r} is not a media range like 'text/turtle' or 'text/*'"
                )
        q = 1.0
        for param in parts[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = math.nan
                # float() also reads "NaN" and "inf": not numbers a q-value may be (RFC 9110 §12.4.2)
                if not math.isfinite(q):
                    raise NegotiationError(
                        f"Accept header q-value {value.strip()!r} of {media!r} is not a number from 0 to 1"
                    ) from None
                q = min(max(q, 0.0), 1.0)
        ranges.append(MediaRange(main, sub, q))
    return ranges


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """q-value of ``media_type``: that of the most specific matching range (0 if none matches)."""
    best: MediaRange | None = None
    for media_range in ranges:
        if media_range.matches(media_type) and (best is None or media_range.specificity > best.specificity):
            best = media_range
    return best.q if best is not None else 0.0


def negotiate(accept: str | None, offers: Sequence[Format]) -> Format | None:
    """The best offer for ``accept``, or None when nothing offered is acceptable."""
    ranges = parse_accept(accept)
    best: Format | None = None
    best_q = 0.0
    for offer in offers:
        # an alias only counts when the client names it exactly: 'application/*' must not pick it twice
        q = quality(ranges, offer.media_type)
        for alias in offer.aliases:
            if any(r.specificity == 2 and r.matches(alias) for r in ranges):
                q = max(q, quality(ranges, alias))
        if q > best_q:
            best, best_q = offer, q
    return best


def by_format_param(value: str, offers: Sequence[Format]) -> Format | None:
    """The offer a ``format=`` value names (short name or media type), or None if it names another kind."""
    wanted = value.strip().lower()
    names = _SHARED_NAMES.get(wanted, (wanted,))
    for offer in offers:
        if offer.name in names or wanted in offer.short_names:
            return offer
        media = wanted.split(";")[0].strip()
        if media == offer.media_type or media in offer.aliases:
            return offer
    return None


def check_format_param(value: str, kinds: Iterable[Sequence[Format]]) -> None:
    """Raise :class:`NegotiationError` when ``format=`` names no format we know at all."""
    if not any(by_format_param(value, offers) for offers in kinds):
        raise NegotiationError(
            f"format={value!r} is not a format this endpoint serves; use one of "
            + ", ".join(sorted({f.name for f in SOLUTION_FORMATS + GRAPH_FORMATS} | {"json", "xml"}))
            + " or a media type"
        )


def choose(accept: str | None, format_param: str | None, offers: Sequence[Format]) -> Format | None:
    """``format=`` wins over ``Accept``; None means nothing acceptable among ``offers``."""
    if format_param:
        return by_format_param(format_param, offers)
    return negotiate(accept, offers)


def available(offers: Iterable[Format]) -> str:
    """The media types of ``offers``, for a 406 message."""
    return ", ".join(f.media_type for f in offers)


def find(name: str) -> Format:
    """The format with this short name (internal lookups)."""
    for fmt in SOLUTION_FORMATS + GRAPH_FORMATS:
        if fmt.name == name:
            return fmt
    raise KeyError(name)
