"""Recognising the queries whose cost is bounded before they run: one triple pattern about one subject.

``SELECT ?p ?o WHERE { <s> ?p ?o }`` — "what does the graph say about this resource" — is the most common
query a linked-data endpoint gets, and its evaluation is one index range scan: at most as many rows as
the subject has outgoing triples. Such a query cannot run away, so it needs no killable worker process
(see :mod:`bassin_kg.web.serving.engine`) and is answered in the HTTP process from a copy of the store in
memory, which removes the hand-off to a worker (most of its cost).

:func:`is_subject_lookup` accepts only that shape and refuses everything else, including what it does
not understand; a refused query simply goes to the workers, so erring on the side of refusal costs
nothing but speed. Accepted::

    Prologue (BASE / PREFIX declarations)
    SELECT [DISTINCT | REDUCED] (?vars… | *) [WHERE] { S P O [.] } [LIMIT n] [OFFSET n]
    ASK [WHERE] { S P O [.] }
    CONSTRUCT WHERE { S P O [.] } [LIMIT n] [OFFSET n]

where S is an IRI (``<…>`` or a prefixed name), P a variable, an IRI or ``a``, and O a variable, an IRI
or a literal. No FROM (a dataset clause), property path, blank node, FILTER, OPTIONAL, VALUES, GROUP
BY, ORDER BY or sub-query: their cost is not bounded by the subject's triples.
"""

from __future__ import annotations

import re

# The grammar above as one regular expression (the lexemes follow SPARQL 1.1 §19.8, simplified so that
# they match less, never more: anything unusual — escapes in names, long strings — is refused).
# white space and comments, possessive (Python 3.11): a run is never re-split, so no backtracking blow-up
_WS = r"(?:\s++|\#[^\n\r]*+)*+"
_IRI = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_NAME_START = r"A-Za-z\u00C0-\uFFFF"
_PREFIX = rf"(?:[{_NAME_START}](?:[\w.\-\u00B7\u00C0-\uFFFF]*[\w\-\u00B7\u00C0-\uFFFF])?)?:"
_PNAME = rf"{_PREFIX}(?:[\w\-\u00B7\u00C0-\uFFFF]+)?(?![\w.:\\])"
_VAR = r"[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+"
_STRING = r"(?:\"(?:[^\"\\\n\r]|\\.)*\"(?!\")|'(?:[^'\\\n\r]|\\.)*'(?!'))"
_LITERAL = rf"{_STRING}(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:{_IRI}|{_PNAME}))?"
_NUMBER = r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?![\w:.])"
_SUBJECT = rf"(?:{_IRI}|{_PNAME})"
_PREDICATE = rf"(?:{_VAR}|{_IRI}|{_PNAME}|a(?![\w:]))"
_OBJECT = rf"(?:{_VAR}|{_IRI}|{_PNAME}|{_LITERAL}|{_NUMBER}|(?i:true|false)(?![\w:]))"
_PATTERN = rf"\{{{_WS}{_SUBJECT}{_WS}{_PREDICATE}{_WS}{_OBJECT}{_WS}(?:\.{_WS})?\}}"
_KW = r"(?![\w:])"  # a keyword ends where a name could not go on
_PROLOGUE = rf"(?:(?i:BASE){_KW}{_WS}{_IRI}{_WS}|(?i:PREFIX){_KW}{_WS}{_PREFIX}{_WS}{_IRI}{_WS})*"
_WHERE = rf"(?:(?i:WHERE){_KW}{_WS})?"
_LIMIT = rf"(?i:LIMIT){_KW}{_WS}\d+{_KW}{_WS}"
_OFFSET = rf"(?i:OFFSET){_KW}{_WS}\d+{_KW}{_WS}"
_MODIFIERS = rf"(?:{_LIMIT}(?:{_OFFSET})?|{_OFFSET}(?:{_LIMIT})?)?"
_PROJECTION = rf"(?:\*{_WS}|(?:{_VAR}{_WS})+)"
_SELECT = (
    rf"(?i:SELECT){_KW}{_WS}(?:(?i:DISTINCT|REDUCED){_KW}{_WS})?"
    rf"{_PROJECTION}{_WHERE}{_PATTERN}{_WS}{_MODIFIERS}"
)
_ASK = rf"(?i:ASK){_KW}{_WS}{_WHERE}{_PATTERN}{_WS}"
_CONSTRUCT = rf"(?i:CONSTRUCT){_KW}{_WS}(?i:WHERE){_KW}{_WS}{_PATTERN}{_WS}{_MODIFIERS}"
_LOOKUP = re.compile(rf"{_WS}{_PROLOGUE}(?:{_SELECT}|{_ASK}|{_CONSTRUCT})", re.DOTALL)

#: longer texts are not worth matching: no lookup is that long
MAX_LENGTH = 4000


def is_subject_lookup(query: str) -> bool:
    """True when ``query`` is one triple pattern with a written subject IRI (see the module's doc)."""
    return len(query) <= MAX_LENGTH and _LOOKUP.fullmatch(query) is not None
