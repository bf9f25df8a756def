"""Light lexical checks on SPARQL text, before it reaches the engine.

The engine parses the query for real; here we only need to find a few keywords (SERVICE, LOAD, FROM,
USING, WITH, WHERE) that are *not* inside a string, an IRI or a comment. :func:`mask` blanks strings and
comments (keeping every offset) so plain regular expressions can then be used safely.

These checks run on the event loop, so each one is linear in the length of the text: every repeated
part of a pattern is possessive (``*+``, ``++``) or stops at white space, so a lexeme that does not
close (``PREFIX a: <`` thirty thousand times) is read once, not once per place it could start.
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
    (?P<iri><[^<>\x00-\x20]*+>)
  | (?P<escape>\\.)
  | (?P<string>\"\"\"(?:[^"\\]++|\\.|"(?!""))*+\"\"\"
             | '''(?:[^'\\]++|\\.|'(?!''))*+'''
             | "(?:[^"\\\n\r]++|\\.)*+"
             | '(?:[^'\\\n\r]++|\\.)*+')
  | (?P<comment>\#[^\n\r]*+)
    """,
    re.VERBOSE | re.DOTALL,
)


def _keyword(word: str) -> str:
    # not part of a variable (?x / $x), a prefixed name (ex:from) or a longer word
    return rf"(?<![\w?$:.\-]){word}(?![\w:\-])"


# a target IRI stops at white space (the engine reads none in an IRI): an unclosed ``<`` is read up to
# the next blank, not to the end of the text
_IRI_TARGET = r"<[^<>\x00-\x20]*+>"
_SERVICE = re.compile(
    _keyword("SERVICE")
    + rf"(?:\s++SILENT(?![\w:\-]))?+\s*+(?P<target>{_IRI_TARGET}|[?$]\w++|[\w.\-]*+:[^\s{{]*+)?+",
    re.IGNORECASE,
)
_LOAD = re.compile(
    _keyword("LOAD") + rf"(?:\s++SILENT(?![\w:\-]))?+\s*+(?P<target>{_IRI_TARGET}|[\w.\-]*+:[^\s{{]*+)?+",
    re.IGNORECASE,
)
_PREFIX = re.compile(
    _keyword("PREFIX") + rf"\s++(?P<name>[\w.\-]*+):\s*+(?P<iri>{_IRI_TARGET})", re.IGNORECASE
)
_FROM = re.compile(_keyword("FROM"), re.IGNORECASE)
_USING_OR_WITH = re.compile(_keyword("(?:USING|WITH)"), re.IGNORECASE)
_WHERE = re.compile(_keyword("WHERE"), re.IGNORECASE)
_DELETE_BEFORE = re.compile(_keyword("DELETE"), re.IGNORECASE)


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


def service_calls(text: str, *, pattern: re.Pattern[str] = _SERVICE) -> list[ServiceCall]:
    """Every SERVICE clause of ``text``, with its target resolved when it is an IRI or prefixed name.

    ``pattern``: ``_LOAD`` finds the documents an update's LOAD operations fetch instead.
    """
    masked = mask(text)
    matches = list(pattern.finditer(masked))
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


def load_calls(text: str) -> list[ServiceCall]:
    """Every LOAD operation of an update, with the document it fetches (as :func:`service_calls`)."""
    return service_calls(text, pattern=_LOAD)


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
#: operators, groups and clauses in one query or update (see :func:`check_size`): the project's named
#: queries use under 100; Oxigraph 0.5's parser or evaluator overflows its stack on 3,000 nested
#: groups, 3,000 BINDs in a group, 20,000 ``!``, ``+1``, ``&&``, UNION or ``/`` in a row (2026-12)
MAX_OPERATORS = 1000

# What builds one more level of the engine's parse tree, each counted once by :func:`check_size`:
# brackets, the clauses that join a group to the one before it, and the operators of expressions and
# property paths (a chain of them is a tree as deep as the chain is long). What cannot nest is read
# in runs, as one match: names, variables, numbers, punctuation and IRIs without operator characters.
_NAME_CHAR = r"[\w\-.:%\u00B7\u00C0-\uFFFF]|\\."
_CLAUSES = r"UNION|MINUS|OPTIONAL|BIND|FILTER|SERVICE|GRAPH|EXISTS"
_INERT = (
    r"(?:\s++|[,;.]|[?$]\w++|<[^<>\x00-\x20!&|=+*/\-(]*+>"
    rf"|(?!(?i:{_CLAUSES}|VALUES|DATA)(?![\w\-:]))(?:[A-Za-z_\u00C0-\uFFFF]|:)(?:{_NAME_CHAR})*+"
    r"|\d(?:[\w.]|[eE][+-])*+"
    # blanked strings, comments and closing brackets: nothing starts there
    r"|[^\w\s{(\[!^/|*+\-=<>&?$:.,;]++|&(?!&)|[?$](?!\w))++"
)
_UNITS = re.compile(
    rf"(?P<inert>{_INERT})"
    r"|(?P<iri><[^<>\x00-\x20]*+>)"
    rf"|(?P<block>(?i:VALUES|DATA)(?![\w\-:]))"
    rf"|(?P<unit>(?i:{_CLAUSES})(?![\w\-:])|&&|\|\||[{{(\[!^/|*+\-=<>])"
    r"|(?P<other>.)",
    re.DOTALL,
)
_BRACES = re.compile(r"[{}]")
_BRACKETS = re.compile(r"[{}()\[\]]")
#: operator characters an IRI may hold before they count (``http://a/b-c/?x=1&y=2`` has 7)
_IRI_OPERATORS = 32


class TooComplexError(QueryTextError):
    """The text would build a parse tree deeper than the engine can take."""


def check_nesting(text: str, limit: int = MAX_NESTING, operators: int = MAX_OPERATORS) -> None:
    """Refuse a query or update nested more than ``limit`` levels deep, or with more than ``operators``
    operators, groups and clauses (:func:`check_size`)."""
    masked = mask(text)
    if sum(masked.count(bracket) for bracket in "{([") > limit:
        # more opening brackets than the limit: follow the depth, bracket by bracket
        depth = 0
        for bracket in _BRACKETS.finditer(masked):
            depth += 1 if bracket.group(0) in "{([" else -1
            if depth > limit:
                raise TooComplexError(
                    f"the query is nested more than {limit} levels deep (groups, parentheses or "
                    "brackets); flatten it"
                )
    check_size(masked, operators)


def check_size(masked: str, limit: int = MAX_OPERATORS) -> None:
    """Refuse a masked text holding more than ``limit`` operators, brackets and group clauses.

    Brackets are not the only nesting: ``!!!…x``, ``1 +1 +1…``, ``{} UNION {} UNION…``, ``:p/:p/…``
    or a group of thousands of BINDs are each as deep a tree for the engine's parser as that many
    brackets, without one bracket. Counting them all over the text bounds every kind at once, in one
    linear pass that stops at the first unit over the limit. The data blocks of VALUES and INSERT/DELETE
    DATA hold no expression (a ``-1`` there is a number), so they are skipped.
    """
    units = 0
    position = 0
    length = len(masked)
    while position < length:
        match = _UNITS.match(masked, position)
        assert match is not None  # the last alternative matches any character
        position = match.end()
        kind = match.lastgroup
        if kind == "unit":
            units += 1
        elif kind == "iri":
            # in an expression ``?a<!!!…x>?b`` is a comparison, not an IRI: a run of operators hidden in
            # what looks like an IRI counts beyond the few that real IRIs have (their / - = & …)
            units += max(0, sum(match.group(0).count(c) for c in "!&|=+*/-(") - _IRI_OPERATORS)
        elif kind == "block":
            position = _end_of_block(masked, position)
        if units > limit:
            raise TooComplexError(
                f"the query has more than {limit} operators, groups and clauses (each one a level of the "
                "engine's parse tree); split it into smaller queries"
            )


def _end_of_block(masked: str, position: int) -> int:
    """Where the ``{ … }`` data block that starts after ``position`` ends (the end of the text if open)."""
    depth = 0
    for brace in _BRACES.finditer(masked, position):
        depth += 1 if brace.group(0) == "{" else -1
        if depth <= 0:
            return brace.end()
    return len(masked)


def check_services(text: str, allowlist: Sequence[str]) -> None:
    """Refuse SERVICE clauses and LOAD operations unless each one reaches an allow-listed host.

    LOAD fetches a document as SERVICE does, so the same allow-list keeps the server from being used
    as a proxy towards hosts it can reach (its own network, 127.0.0.1).
    """
    for keyword, pattern, what in (
        ("SERVICE", _SERVICE, "SERVICE (federated query)"),
        ("LOAD", _LOAD, "LOAD of a remote document"),
    ):
        calls = service_calls(text, pattern=pattern)
        if not calls:
            continue
        if not allowlist:
            raise QueryTextError(
                f"{what} is not allowed on this endpoint; "
                + (
                    "run the query against the remote endpoint directly"
                    if keyword == "SERVICE"
                    else "download the document and send its triples with INSERT DATA or the Graph Store"
                )
            )
        allowed = {host.lower() for host in allowlist}
        for call in calls:
            if call.iri is None:
                raise QueryTextError(
                    f"{keyword} {call.target or '(no target)'} is refused: the target must be a written "
                    f"IRI whose host is one of: {', '.join(sorted(allowed))}"
                )
            parts = urlsplit(call.iri)
            host = (parts.hostname or "").lower()
            if host not in allowed and parts.netloc.lower() not in allowed:
                raise QueryTextError(
                    f"{keyword} <{call.iri}> is refused: host {host or '(none)'!r} is not in the "
                    f"allow-list ({', '.join(sorted(allowed))})"
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
    # brace depth followed along the text in one pass (braces never occur in IRIs, and strings and
    # comments are blanked): counting from the start at each WHERE would be quadratic
    depth, counted = 0, 0
    for match in _WHERE.finditer(masked):
        depth += masked.count("{", counted, match.start()) - masked.count("}", counted, match.start())
        counted = match.start()
        if depth != 0:
            continue  # a WHERE of a sub-query
        if _ends_with_delete(masked, match.start()):
            raise QueryTextError(
                "using-graph-uri / using-named-graph-uri do not apply to the DELETE WHERE short form; "
                "write DELETE { … } WHERE { … } instead"
            )
        inserts.append(match.start())
    for position in reversed(inserts):
        update = update[:position] + clause + update[position:]
    return update


def _ends_with_delete(masked: str, end: int) -> bool:
    """True when the keyword DELETE comes just before ``end`` (white space aside)."""
    # the blanks before a WHERE are read once for that WHERE only: linear over all of them
    position = end
    while position > 0 and masked[position - 1].isspace():
        position -= 1
    return _DELETE_BEFORE.fullmatch(masked, max(0, position - 7), position) is not None
