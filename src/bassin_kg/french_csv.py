"""CSV as French Excel reads it: ``;`` between fields, a decimal comma, UTF-8 with a byte-order mark.

French Excel splits a line on ``;`` (``,`` is its decimal separator) and reads a file as Windows-1252
unless it starts with a BOM. ``--format csv`` and ``format=csv`` stay RFC 4180 / SPARQL 1.1 CSV for
programs; this variant (``csv-fr``) is for people opening the file in a spreadsheet.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

NAME = "csv-fr"
MEDIA_TYPE = "text/csv; charset=utf-8"
BOM = "\ufeff"
XSD = "http://www.w3.org/2001/XMLSchema#"
_DECIMALS = {XSD + t for t in ("decimal", "double", "float")}
_NEEDS_QUOTES = frozenset(';"\r\n')

Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None


def cell(term: Term) -> str:
    """One value as a French spreadsheet reads it: IRIs and text as they are, ``12.5`` as ``12,5``."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        if term.datatype.value in _DECIMALS:
            return term.value.replace(".", ",")
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return str(term)


def _field(value: str) -> str:
    if any(c in _NEEDS_QUOTES for c in value) or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value


def to_french_csv(headers: Sequence[str], rows: Sequence[Sequence[Term]]) -> str:
    """The table as text: BOM, then ``;``-separated lines ending in CRLF (Excel's own line end)."""
    lines = [";".join(_field(h) for h in headers)]
    lines += [";".join(_field(cell(t)) for t in row) for row in rows]
    return BOM + "\r\n".join(lines) + "\r\n"


def from_sparql_json(body: bytes, headers: Sequence[str] | None = None) -> str:
    """A SPARQL JSON result (SELECT or ASK) as French CSV; ``headers`` replace the variable names."""
    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    if isinstance(parsed, ox.QueryBoolean):
        return to_french_csv(headers or ["réponse"], [[ox.Literal("vrai" if bool(parsed) else "faux")]])
    variables = [v.value for v in parsed.variables]
    rows = [[solution[v] for v in variables] for solution in parsed]
    return to_french_csv(headers or variables, rows)
