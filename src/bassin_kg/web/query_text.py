"""Light lexical checks on SPARQL text, before it reaches the engine.

The engine parses the query for real; here we only need to find a few keywords (SERVICE, FROM, USING,
WITH, WHERE) that are *not* inside a string, an IRI or a comment. :func:`mask` blanks strings and
comments (keeping every offset) so plain regular expressions can then be used safely.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

# What is blanked (strings, comments) must be exactly what the engine reads as such, and nothing of
# what it reads as code: text hidden here is hidden from the SERVICE check. So IRIs are matched
# generously (with \u escapes, which Oxigraph decodes) and kept, and a backslash escape outside
# strings (``ex:a\#``, a prefixed name) is kept too, so that its ``#`` or quote starts nothing.
_LEXEMES = re.compile(
    r"""
    (?P<iri><[^<>\x00-\x20]*>)
  | (?P<escape>\\.)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '''(?:[^'\\]|\\.|'(?!''))*'''
             | "(?:[^"\\\n\r]|\\.)*"
             | '(?:[^'\\\n\r]|\\.)*')
  | (?P<comment>\#[^\n\r]*)
    """,
    re.VERBOSE | re.DOTALL,
)


def _keyword(word: str) -> str:
    # not part of a variable (?x / $x), a prefixed name (ex:from) or a longer word
    return rf"(?<![\w?$:.\-]){word}(?![\w:\-])"


_SERVICE = re.compile(
    _keyword("SERVICE") + r"(?:\s+SILENT)?\s*(?P<target><[^>]*>|[?$]\w+|[\w.\-]*:[^\s{]*)?", re.IGNORECASE
)
_PREFIX = re.compile(_keyword("PREFIX") + r"\s+(?P<name>[\w.\-]*):\s*(?P<iri><[^>]*>)", re.IGNORECASE)
_FROM = re.compile(_keyword("FROM"), re.IGNORECASE)
_USING_OR_WITH = re.compile(_keyword("(?:USING|WITH)"), re.IGNORECASE)
_WHERE = re.compile(_keyword("WHERE"), re.IGNORECASE)
_DELETE_BEFORE = re.compile(_keyword("DELETE") + r"\s*$", re.IGNORECASE)


class QueryTextError(ValueError):
    """The text breaks one of this endpoint's rules (not a syntax error: the engine reports those)."""


@functools.lru_cache(maxsize=16)
def mask(text: str) -> str:
    """``text`` with string contents and comments blanked out; IRIs and offsets are kept.

    Memoised: the checks of one request (nesting, SERVICE, FROM) each mask the same text.
    """

    def blank(match: re.Match[str]) -> str:
        lexeme = match.group(0)
        if match.lastgroup in ("iri", "escape"):
            return lexeme
        if match.lastgroup == "string":
            return lexeme[0] + " " * (len(lexeme) - 2) + lexeme[-1]
        return " " * len(lexeme)

    return _LEXEMES.sub(blank, text)


def has_from_clause(query: str) -> bool:
    """True when the query names its own dataset (FROM / FROM NAMED)."""
    return _FROM.search(mask(query)) is not None


@dataclass(frozen=True)
class ServiceCall:
    target: str  # as written: <iri>, ?var or prefixed name
    iri: str | None  # the resolved IRI when the target is one


def service_calls(text: str) -> list[ServiceCall]:
    """Every SERVICE clause of ``text``, with its target resolved when it is an IRI or prefixed name."""
    masked = mask(text)
    matches = list(_SERVICE.finditer(masked))
    if not matches:
        return []  # the common case: no need to read the prefixes
    prefixes = {m.group("name"): m.group("iri")[1:-1] for m in _PREFIX.finditer(masked)}
    calls: list[ServiceCall] = []
    for match in matches:
        target = match.group("target") or ""
        iri: str | None = None
        if target.startswith("<"):
            iri = _unescape(target[1:-1])
        elif ":" in target and target[0] not in "?$":
            prefix, _, local = target.partition(":")
            if prefix in prefixes:
                iri = _unescape(prefixes[prefix]) + _LOCAL_ESCAPE.sub(r"\1", local)
        calls.append(ServiceCall(target, iri))
    return calls


_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\([_~.\-!$&'()*+,;=/?#@%])")


def _unescape(iri: str) -> str:
    """The IRI the engine will call: ``\u002f`` is ``/`` (SPARQL 1.1 §19.2), ``\u0040`` is ``@``."""

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _UCHAR.sub(char, iri)


#: deeper nesting of { } ( ) [ ] than any real query, and far below what overflows the parser's stack
#: (Oxigraph crashed at 5,000 nested groups in 2025-11)
MAX_NESTING = 200


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Refuse a query or update nested more than ``limit`` levels deep (brackets outside strings)."""
    masked = mask(text)
    if sum(masked.count(bracket) for bracket in "{([") <= limit:
        return  # fewer opening brackets than the limit: no need to follow the depth
    depth = deepest = 0
    for char in masked:
        if char in "{([":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    raise QueryTextError(
                        f"the query is nested more than {limit} levels deep (groups, parentheses or "
                        "brackets); flatten it"
                    )
        elif char in "})]":
            depth -= 1


def check_services(text: str, allowlist: Sequence[str]) -> None:
    """Refuse SERVICE clauses unless each one reaches an allow-listed host."""
    calls = service_calls(text)
    if not calls:
        return
    if not allowlist:
        raise QueryTextError(
            "SERVICE (federated query) is not allowed on this endpoint; "
            "run the query against the remote endpoint directly"
        )
    allowed = {host.lower() for host in allowlist}
    for call in calls:
        if call.iri is None:
            raise QueryTextError(
                f"SERVICE {call.target or '(no target)'} is refused: the target must be a written IRI "
                f"whose host is one of: {', '.join(sorted(allowed))}"
            )
        parts = urlsplit(call.iri)
        host = (parts.hostname or "").lower()
        if host not in allowed and parts.netloc.lower() not in allowed:
            raise QueryTextError(
                f"SERVICE <{call.iri}> is refused: host {host or '(none)'!r} is not in the allow-list "
                f"({', '.join(sorted(allowed))})"
            )


def add_using(update: str, using: Sequence[str], using_named: Sequence[str]) -> str:
    """Apply ``using-graph-uri`` / ``using-named-graph-uri`` to each DELETE/INSERT … WHERE operation.

    SPARQL 1.1 Protocol §2.2.3: these parameters act as USING / USING NAMED clauses; an update that
    already has USING, USING NAMED or WITH together with them is an error.
    """
    if not using and not using_named:
        return update
    masked = mask(update)
    if _USING_OR_WITH.search(masked):
        raise QueryTextError(
            "using-graph-uri / using-named-graph-uri cannot be combined with USING or WITH in the update; "
            "keep one of the two"
        )
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]) + " "
    inserts: list[int] = []
    for match in _WHERE.finditer(masked):
        if _depth(masked, match.start()) != 0:
            continue  # a WHERE of a sub-query
        if _DELETE_BEFORE.search(masked, 0, match.start()):
            raise QueryTextError(
                "using-graph-uri / using-named-graph-uri do not apply to the DELETE WHERE short form; "
                "write DELETE { … } WHERE { … } instead"
            )
        inserts.append(match.start())
    for position in reversed(inserts):
        update = update[:position] + clause + update[position:]
    return update


def _depth(masked: str, end: int) -> int:
    # braces never occur in IRIs, and strings/comments are blanked: counting them is enough
    return masked.count("{", 0, end) - masked.count("}", 0, end)
