"""Named queries: ``queries/<name>.rq`` files with a small header, bound safely and run on the store.

Header lines at the top of each file (SPARQL comments, so the file stays a valid query)::

    # title: SWOT of an employment zone
    # description: forces, weaknesses, opportunities and threats of one zone
    # param: territoire ze2010 var=territory — INSEE code of the 2010 employment zone
    # param: limit integer default=10 — how many rows
    # example: territoire=3123
    # requires: acoss-effectifs-ze — the Urssaf employment series (said to users when it is absent)

A parameter ``name`` is the query variable ``?name``, or the variable ``var=`` names: the name users
see can be French while the query keeps its variable (and the variable's name stays accepted, so
older links keep working). Values are validated against their kind,
turned into RDF terms and injected as a ``VALUES`` block right after the first ``WHERE {``: raw input
never reaches the query text, only the N-Triples serialisation of a checked term. A parameter variable
must therefore be used in the outer group of the query (a ``VALUES`` outside a subquery does not
reach variables the subquery does not project).
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO, TypeVar

import pyoxigraph as ox

from bassin_kg import french_csv
from bassin_kg.errors import BassinKgError, DataError, StoreError, UsageError
from bassin_kg.namespaces import Iris
from bassin_kg.settings import Settings
from bassin_kg.store import open_read_only

XSD = "http://www.w3.org/2001/XMLSchema#"
FORMATS = ("table", "csv", "csv-fr", "tsv", "json")
_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_KEY = re.compile(r"^#\s*([a-z]+):\s*(.*)$")
_PARAM_LINE = re.compile(
    r"^(?P<name>\S+)\s+(?P<kind>\S+)(?:\s+var=(?P<var>\S+))?(?:\s+(?P<mode>optional|default=\S+))?"
    r"\s*(?:(?:—|--)\s*(?P<desc>.*))?$"
)
_REQUIRES_LINE = re.compile(r"^(?P<dataset>[a-z0-9]+(?:-[a-z0-9]+)*)\s*(?:(?:—|--)\s*(?P<desc>.*))?$")
_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_MAX_STRING = 500
_T = TypeVar("_T")


class ParameterError(UsageError):
    """A query parameter is unknown, missing or malformed (exit code 2)."""


class QueryTimeoutError(BassinKgError):
    """A query ran longer than its time limit."""

    exit_code = 1


# --- parameter kinds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamKind:
    """A closed kind of parameter value: how it looks and which RDF term it becomes."""

    name: str
    pattern: re.Pattern[str]
    #: the expected form, said to the user when a value does not match
    expected: str
    to_term: Callable[[str, Iris], ox.NamedNode | ox.Literal]


def _iri_term(make: Callable[[Iris, str], object]) -> Callable[[str, Iris], ox.NamedNode | ox.Literal]:
    return lambda value, iris: ox.NamedNode(str(make(iris, value)))


def _typed(datatype: str) -> Callable[[str, Iris], ox.NamedNode | ox.Literal]:
    return lambda value, iris: ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


KINDS: dict[str, ParamKind] = {
    k.name: k
    for k in [
        ParamKind(
            "string",
            re.compile(r"^[^\x00-\x1f\x7f]*$"),
            "un texte sans caractère de contrôle",
            _typed("string"),
        ),
        ParamKind(
            "integer",
            re.compile(r"^[+-]?[0-9]{1,18}$"),
            "un nombre entier, par exemple 10",
            _typed("integer"),
        ),
        ParamKind(
            "decimal",
            # a French decimal comma is accepted too (normalised to a dot by _to_term)
            re.compile(r"^[+-]?(?:[0-9]{1,18}(?:[.,][0-9]{0,18})?|[.,][0-9]{1,18})$"),
            "un nombre décimal, par exemple 12,5 ou 12.5",
            _typed("decimal"),
        ),
        ParamKind(
            "iri",
            re.compile(r"^https?://[^\s<>\"{}|^`\\]+$"),
            'une IRI absolue http(s), sans espace ni aucun des caractères <>"{}|^`\\',
            lambda value, iris: ox.NamedNode(value),
        ),
        ParamKind(
            "ze2010",
            re.compile(r"^[0-9]{4}$"),
            "un code de zone d'emploi 2010, 4 chiffres, par exemple 3123",
            _iri_term(Iris.ze2010),
        ),
        ParamKind(
            "ze2020",
            re.compile(r"^[0-9]{4}$"),
            "un code de zone d'emploi 2020, 4 chiffres, par exemple 3205",
            _iri_term(Iris.ze2020),
        ),
        ParamKind(
            "bassin-bmo",
            re.compile(r"^[0-9]{4}$"),
            "un code de bassin d'emploi BMO, 4 chiffres, par exemple 3225",
            _iri_term(Iris.bassin_bmo),
        ),
        ParamKind(
            "commune",
            re.compile(r"^(?:[0-9]{2}|2A|2B)[0-9]{3}$"),
            "un code INSEE de commune, 5 caractères, par exemple 62119",
            _iri_term(Iris.commune),
        ),
        ParamKind(
            "rome",
            re.compile(r"^[A-N][0-9]{4}$"),
            "un code ROME, une lettre de A à N et 4 chiffres, par exemple K1302",
            _iri_term(Iris.rome),
        ),
        ParamKind(
            "fap2009",
            re.compile(r"^[A-Z][0-9][A-Z][0-9]{2}$"),
            "un code FAP-2009, par exemple T2A60",
            _iri_term(Iris.fap2009),
        ),
        ParamKind(
            "fap2021",
            re.compile(r"^[A-Z][0-9][A-Z][0-9]{2}$"),
            "un code FAP-2021, par exemple T2A60",
            _iri_term(Iris.fap2021),
        ),
        ParamKind(
            "sector",
            re.compile(_SLUG),
            "un identifiant de secteur en minuscules avec tirets, par exemple automobile",
            _iri_term(Iris.sector),
        ),
        ParamKind(
            "actor",
            re.compile(_SLUG),
            "un identifiant d'acteur en minuscules avec tirets, par exemple critt-m2a",
            _iri_term(Iris.actor),
        ),
    ]
}


@dataclass(frozen=True)
class QueryParam:
    """One parameter of a named query: the variable ``?name`` bound to a value of ``kind``."""

    name: str
    kind: str
    description: str
    required: bool = True
    default: str | None = None
    #: the query variable it binds, when it is not ``?name``
    var: str | None = None

    @property
    def variable(self) -> str:
        return self.var or self.name


@dataclass(frozen=True)
class NamedQuery:
    """A query file of ``queries/`` with its parsed header."""

    name: str
    title: str
    description: str
    params: tuple[QueryParam, ...]
    text: str
    examples: tuple[dict[str, str], ...] = ()
    file: Path | None = field(default=None, compare=False)
    #: data sets (names under ``id/dataset/``) the query needs, with what to tell users when absent
    requires: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> QueryParam | None:
        return next((p for p in self.params if p.name == name), None)


# --- loading -------------------------------------------------------------------------------------


def load_queries(directory: Path) -> dict[str, NamedQuery]:
    """Every ``*.rq`` file of ``directory`` by name; a malformed header is a DataError at file:line."""
    if not directory.is_dir():
        raise DataError(
            "the named queries folder does not exist", file=directory, hint="run from the project root"
        )
    return {q.name: q for q in (load_query(path) for path in sorted(directory.glob("*.rq")))}


def load_query(path: Path) -> NamedQuery:
    """Parse one query file: its header, then a syntax check of the query (on an empty store)."""
    name = path.stem
    if not _NAME.match(name):
        raise DataError(
            "a query file name must be lower-case words joined by hyphens",
            file=path,
            value=name,
            hint="rename it, e.g. swot-territoire.rq",
        )
    text = path.read_text(encoding="utf-8")
    title: str | None = None
    descriptions: list[str] = []
    params: list[QueryParam] = []
    example_lines: list[tuple[int, str]] = []
    requires: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break  # the header ends at the first line of the query proper
        match = _HEADER_KEY.match(line)
        if match is None:
            continue  # a free comment
        key, value = match.group(1), match.group(2).strip()
        if key == "title":
            if title is not None:
                raise DataError("a second title line", file=path, line=number, hint="keep one '# title:'")
            title = value
        elif key == "description":
            descriptions.append(value)
        elif key == "param":
            param = _parse_param(value, path, number)
            if any(p.name == param.name for p in params):
                raise DataError(
                    "duplicate parameter", file=path, line=number, field="param", value=param.name
                )
            params.append(param)
        elif key == "example":
            example_lines.append((number, value))
        elif key == "requires":
            needed = _REQUIRES_LINE.match(value)
            if needed is None:
                raise DataError(
                    "malformed requires line",
                    file=path,
                    line=number,
                    value=value,
                    hint="write '# requires: <data set name> — <what it is, in French>'",
                )
            requires.append((needed.group("dataset"), (needed.group("desc") or "").strip()))
        else:
            raise DataError(
                f"unknown header key {key!r}",
                file=path,
                line=number,
                hint="known keys are title, description, param, example, requires",
            )
    if not title:
        raise DataError(
            "the query has no title", file=path, line=1, hint="add a '# title: …' line at the top"
        )
    examples = tuple(_parse_example(value, params, path, number) for number, value in example_lines)
    query = NamedQuery(
        name, title, " ".join(descriptions), tuple(params), text, examples, path, tuple(requires)
    )
    _check_syntax(query)
    return query


def _parse_param(value: str, path: Path, line: int) -> QueryParam:
    match = _PARAM_LINE.match(value)
    if match is None:
        raise DataError(
            "malformed param line",
            file=path,
            line=line,
            value=value,
            hint="write '# param: <name> <kind> [optional|default=<value>] — <description>'",
        )
    name, kind, mode = match.group("name"), match.group("kind"), match.group("mode")
    var = match.group("var")
    for checked in (name, var):
        if checked is not None and not _PARAM_NAME.match(checked):
            raise DataError(
                "a parameter name or var= must be a SPARQL variable name (letters, digits, _)",
                file=path,
                line=line,
                field="param",
                value=checked,
            )
    if kind not in KINDS:
        raise DataError(
            "unknown parameter kind",
            file=path,
            line=line,
            field=name,
            value=kind,
            hint="use one of " + ", ".join(sorted(KINDS)),
        )
    default = mode[len("default=") :] if mode and mode.startswith("default=") else None
    param = QueryParam(
        name, kind, (match.group("desc") or "").strip(), required=mode is None, default=default, var=var
    )
    if default is not None:
        try:
            _to_term(param, default, Iris())
        except ParameterError as exc:
            raise DataError(f"bad default: {exc}", file=path, line=line, field=name, value=default) from None
    return param


def _parse_example(value: str, params: list[QueryParam], path: Path, line: int) -> dict[str, str]:
    try:
        tokens = shlex.split(value)
    except ValueError as exc:
        raise DataError(f"malformed example: {exc}", file=path, line=line, value=value) from None
    example: dict[str, str] = {}
    known = {p.name: p for p in params}
    for token in tokens:
        name, sep, val = token.partition("=")
        if not sep:
            raise DataError("an example is name=value pairs", file=path, line=line, value=token)
        if name not in known:
            raise DataError("example names an unknown parameter", file=path, line=line, value=name)
        try:
            _to_term(known[name], val, Iris())
        except ParameterError as exc:
            raise DataError(f"bad example: {exc}", file=path, line=line, field=name, value=val) from None
        example[name] = val
    missing = [p.name for p in params if p.required and p.name not in example]
    if missing:
        raise DataError("example lacks required parameters", file=path, line=line, value=" ".join(missing))
    return example


def _check_syntax(query: NamedQuery) -> None:
    # pyoxigraph parses eagerly and evaluates lazily: on an empty store this only checks the syntax.
    try:
        ox.Store().query(query.text)
    except SyntaxError as exc:
        raise DataError(f"SPARQL syntax error: {exc}", file=query.file) from None
    body = "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("#"))
    for param in query.params:
        if not re.search(rf"[?$]{param.variable}\b", body):
            raise DataError(
                f"parameter {param.name!r} is not used as ?{param.variable} in the query",
                file=query.file,
                hint="a parameter binds the query variable of the same name",
            )
    if query.params and _where_brace(query.text) is None:
        raise DataError(
            "a query with parameters needs a 'WHERE {' where their VALUES block goes",
            file=query.file,
        )


# --- binding -------------------------------------------------------------------------------------


def _to_term(param: QueryParam, value: str, iris: Iris) -> ox.NamedNode | ox.Literal:
    kind = KINDS[param.kind]
    if len(value) > _MAX_STRING or not kind.pattern.fullmatch(value):
        raise ParameterError(
            f"paramètre « {param.name} » : la valeur {value!r} n'est pas {kind.expected}"
            + ("" if len(value) <= _MAX_STRING else f" (au plus {_MAX_STRING} caractères)")
        )
    if param.kind == "decimal":
        value = value.replace(",", ".")  # 90,5 as a French user writes it
    try:
        return kind.to_term(value, iris)
    except ValueError as exc:  # pyoxigraph rejects an IRI with illegal characters
        raise ParameterError(
            f"paramètre « {param.name} » : la valeur {value!r} n'est pas une IRI valide ({exc}) ; "
            f"attendu : {kind.expected}"
        ) from None


def canonical_values(query: NamedQuery, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` keyed by parameter name, a parameter given by its query variable's name accepted too.

    A parameter renamed in French (``territoire``) keeps answering to its variable (``territory``), so
    links made before the rename still work.
    """
    by_variable = {p.variable: p.name for p in query.params if p.var}
    result: dict[str, str] = {}
    for key, value in values.items():
        name = key if query.param(key) is not None else by_variable.get(key, key)
        if name in result:
            raise ParameterError(f"le paramètre « {name} » est donné deux fois (sous deux noms)")
        result[name] = value
    return result


def bind(query: NamedQuery, values: Mapping[str, str], iris: Iris) -> str:
    """The query text with ``values`` checked, converted and injected as a ``VALUES`` block."""
    values = canonical_values(query, values)
    unknown = sorted(set(values) - {p.name for p in query.params})
    if unknown:
        known = ", ".join(p.name for p in query.params) or "aucun"
        raise ParameterError(
            f"la requête « {query.name} » n'a pas de paramètre {', '.join(f'« {u} »' for u in unknown)} ;"
            f" ses paramètres : {known}"
        )
    names: list[str] = []
    terms: list[str] = []
    for param in query.params:
        value = values.get(param.name, param.default)
        if value is None:
            if param.required:
                raise ParameterError(
                    f"la requête « {query.name} » a besoin du paramètre « {param.name} »"
                    f" ({KINDS[param.kind].expected}) ; donnez-le sous la forme {param.name}=VALEUR"
                )
            continue
        names.append("?" + param.variable)
        # str() of a pyoxigraph term is its N-Triples form, with quotes and newlines escaped
        terms.append(str(_to_term(param, value, iris)))
    if not names:
        return query.text
    position = _where_brace(query.text)
    if position is None:  # load_query refuses such files; a hand-made NamedQuery may still lack it
        raise DataError("the query has no 'WHERE {' to put its parameters in", file=query.file)
    block = f"\n  VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }}\n"
    return query.text[:position] + block + query.text[position:]


_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_STRING = re.compile(
    r"\"\"\"(?:[^\"\\]|\\.|\"(?!\"\"))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'"
)
_WHERE = re.compile(r"WHERE\s*\{", re.IGNORECASE)


def _where_brace(text: str) -> int | None:
    """Offset just after the ``{`` of the first ``WHERE {`` outside comments, strings and IRIs."""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if char in "\"'":
            string = _STRING.match(text, i)
            i = string.end() if string else i + 1
            continue
        if char == "<":
            iri = _IRIREF.match(text, i)
            i = iri.end() if iri else i + 1
            continue
        if char in "wW" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_?$:")):
            where = _WHERE.match(text, i)
            if where:
                return where.end()
        i += 1
    return None


# --- running -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelectResult:
    """The rows of a SELECT query, read in full (so they can be formatted more than once)."""

    variables: tuple[str, ...]
    rows: tuple[tuple[ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None, ...], ...]

    def solutions(self) -> ox.QuerySolutions:
        """A fresh pyoxigraph solution iterator over the rows, for its serialisers."""
        # TSV carries every term in its N-Triples form, so the round trip is lossless.
        lines = ["\t".join("?" + v for v in self.variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in self.rows]
        parsed = ox.parse_query_results("\n".join(lines) + "\n", ox.QueryResultsFormat.TSV)
        assert isinstance(parsed, ox.QuerySolutions)
        return parsed


QueryResult = SelectResult | bool | tuple[ox.Triple, ...]


def run_query(store: ox.Store, text: str, *, timeout: float | None = None) -> QueryResult:
    """Run ``text`` with the default graph as the union of the named graphs and read all results.

    ``timeout`` is checked between rows: pyoxigraph 0.5 cannot interrupt a single evaluation step.
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        results = store.query(text, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise UsageError(f"SPARQL syntax error: {exc}") from None
    except OSError as exc:
        raise StoreError(f"cannot read the store: {exc}") from None
    if isinstance(results, ox.QueryBoolean):
        return bool(results)
    if isinstance(results, ox.QueryTriples):
        return tuple(_within(results, deadline, timeout))
    variables = tuple(v.value for v in results.variables)
    rows = tuple(tuple(solution[v] for v in variables) for solution in _within(results, deadline, timeout))
    return SelectResult(variables, rows)


def _within(items: Iterable[_T], deadline: float | None, timeout: float | None) -> Iterator[_T]:
    for item in items:
        if deadline is not None and time.monotonic() >= deadline:
            raise QueryTimeoutError(f"the query ran longer than {timeout} s; narrow it or raise the timeout")
        yield item


# --- formatting ----------------------------------------------------------------------------------

_RESULT_FORMATS = {
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
    "json": ox.QueryResultsFormat.JSON,
}
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long")}


def format_results(results: QueryResult, fmt: str) -> str:
    """Results as text: ``table`` (aligned, for people), ``csv``, ``tsv`` or ``json`` (SPARQL results),
    or ``csv-fr`` (``;``, decimal comma, BOM: for French spreadsheets, see :mod:`bassin_kg.french_csv`)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if isinstance(results, tuple):
        # a CONSTRUCT or DESCRIBE: triples have one plain form, N-Triples
        return "".join(f"{t} .\n" for t in results)
    if fmt == "table":
        return _table(results)
    if fmt == french_csv.NAME:
        if isinstance(results, bool):
            return french_csv.to_french_csv(["réponse"], [[ox.Literal("vrai" if results else "faux")]])
        return french_csv.to_french_csv(results.variables, results.rows)
    if isinstance(results, bool):
        boolean = ox.parse_query_results(
            '{"head":{},"boolean":%s}' % ("true" if results else "false"), ox.QueryResultsFormat.JSON
        )
        if fmt == "json":
            return _serialize(boolean, fmt)
        return ("true" if results else "false") + "\n"
    return _serialize(results.solutions(), fmt)


def _serialize(results: ox.QuerySolutions | ox.QueryBoolean, fmt: str) -> str:
    data = results.serialize(format=_RESULT_FORMATS[fmt])
    assert data is not None
    text = data.decode("utf-8")
    return text if fmt != "json" else text + "\n"


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal | ox.NamedNode):
        return term.value
    return str(term)


def _is_number(term: object) -> bool:
    return isinstance(term, ox.Literal) and term.datatype.value in _NUMERIC


def _table(results: SelectResult | bool) -> str:
    if isinstance(results, bool):
        return ("yes" if results else "no") + "\n"
    header = list(results.variables)
    cells = [[_cell(t) for t in row] for row in results.rows]
    # numbers are right-aligned so that their digits line up
    numeric = [
        bool(results.rows) and all(row[i] is None or _is_number(row[i]) for row in results.rows)
        for i in range(len(header))
    ]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]

    def line(values: list[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * w for w in widths)]
    out += [line([c.replace("\n", " ") for c in row]) for row in cells]
    count = len(results.rows)
    out.append(f"({count} row{'' if count == 1 else 's'})")
    return "\n".join(out) + "\n"


# --- command line --------------------------------------------------------------------------------


def list_queries(settings: Settings, out: TextIO) -> int:
    """``bassin-kg query --list``: each named query with its title and parameters."""
    queries = load_queries(settings.root / "queries")
    for query in sorted(queries.values(), key=lambda q: q.name):
        out.write(f"{query.name}\n    {query.title}\n")
        for param in query.params:
            optional = f"défaut {param.default}" if param.default else "facultatif"
            how = "obligatoire" if param.required else optional
            out.write(f"    --param {param.name}=…  {KINDS[param.kind].expected} ({how})\n")
    return 0


def run_cli_query(settings: Settings, name: str, params: Mapping[str, str], *, fmt: str, out: TextIO) -> int:
    """``bassin-kg query NAME --param k=v``: load, bind, run on the built store, print."""
    queries = load_queries(settings.root / "queries")
    query = queries.get(name)
    if query is None:
        raise UsageError(f"no query named {name!r}; available: {', '.join(sorted(queries)) or 'none'}")
    text = bind(query, params, Iris(settings.base_iri))
    store = open_read_only(settings.store_path)
    results = run_query(store, text, timeout=settings.query_timeout)
    out.write(format_results(results, fmt))
    return 0
