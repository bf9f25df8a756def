"""SHACL validation compiled to SPARQL and run in Oxigraph: the default engine, pyshacl's results in seconds.

pyshacl re-parses a SHACL-SPARQL constraint for every focus node (measured: 30 ms each, so 27 minutes
for a national BMO file of 53,000 observations) and its core constraints took 100 s on that file. Here
each constraint of ``shapes/`` becomes ONE query over all its focus nodes, run by Oxigraph: a few
seconds. The supported subset is the one the project's shapes use (listed in :data:`CONSTRAINTS`);
:func:`compile_shapes` raises :class:`UnsupportedShapeError` on anything else, so the caller falls back
to pyshacl instead of silently skipping a rule. Results have the same focus node, path, constraint
component, severity, messages, value and source as pyshacl's (tests compare the two on every shapes
fixture). One difference stays: Oxigraph keeps numbers in canonical form, so a value ``2.0`` of the data
is reported as ``2``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.term import Node

from bassin_kg.store import to_oxigraph, to_rdflib
from bassin_kg.validate.report import Result, ResultPath, Severity, SourceLookup

RDFS_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"

#: constraint parameters handled here (sh:qualifiedValueShape goes with its counts)
CONSTRAINTS = {
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength, SH.pattern, SH.flags, SH.languageIn,
    SH["in"], SH["or"], SH["and"], SH["not"], SH.uniqueLang, SH.qualifiedValueShape, SH.qualifiedMinCount,
    SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint, SH.lessThanOrEquals, SH.sparql,
}  # fmt: skip
#: other SHACL terms a shape may carry that ask for no check
NON_CONSTRAINTS = {
    SH.path, SH.severity, SH.message, SH.name, SH.description, SH.order, SH.group, SH.deactivated,
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target, SH.property,
    SH.declare, SH.prefixes, SH.defaultValue,
}  # fmt: skip
#: what the pre-binding of $this looks at in a SHACL-SPARQL query (strings, IRIs and comments are skipped)
_SPARQL_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*"
    r"|(?P<open>\{)|(?P<close>\})|(?P<var>[?$][A-Za-z0-9_]+)|(?P<word>[A-Za-z_]+)"
)
_TEMPLATE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")


class UnsupportedShapeError(Exception):
    """A shape uses a SHACL feature this compiler does not handle (use pyshacl for it)."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a SELECT returning ?this (and ?value, ?path when known) per violation."""

    query: str
    component: URIRef
    source_shape: Node
    severity: Severity
    messages: tuple[Literal, ...]
    path: ResultPath | None
    #: True for SHACL-SPARQL constraints, whose messages take {?var} from the solution
    sparql: bool = False


# --- terms and paths ------------------------------------------------------------------------------------
def _n3(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3()
    raise UnsupportedShapeError(f"blank node {term} used as a constant")


def _path_sparql(shapes: Graph, node: Node) -> tuple[str, ResultPath]:
    if isinstance(node, URIRef):
        return f"<{node}>", node
    inverse = shapes.value(node, SH.inversePath)
    if inverse is not None:
        text, path = _path_sparql(shapes, inverse)
        return f"^({text})", InvPath(path)
    alternatives = shapes.value(node, SH.alternativePath)
    if alternatives is not None:
        parts = [_path_sparql(shapes, p) for p in Collection(shapes, alternatives)]
        return "(" + "|".join(t for t, _ in parts) + ")", AlternativePath(*(p for _, p in parts))
    for predicate, modifier in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"), (SH.zeroOrOnePath, "?")):
        inner = shapes.value(node, predicate)
        if inner is not None:
            text, path = _path_sparql(shapes, inner)
            return f"({text}){modifier}", MulPath(path, modifier)  # type: ignore[arg-type]
    if shapes.value(node, RDF.first) is not None:
        parts = [_path_sparql(shapes, p) for p in Collection(shapes, node)]
        return "(" + "/".join(t for t, _ in parts) + ")", SequencePath(*(p for _, p in parts))
    raise UnsupportedShapeError(f"unknown SHACL path form {node}")


# --- conformance of one value node to node-level constraints -----------------------------------------
def _condition(shapes: Graph, shape: Node, predicate: URIRef, value: Node, var: str) -> str | None:
    """A SPARQL expression true when ``var`` satisfies the constraint (None: not a value constraint)."""
    if predicate == SH.datatype:
        return f"(isLiteral({var}) && DATATYPE({var}) = {_n3(value)})"
    if predicate == SH["class"]:
        return f"EXISTS {{ {var} a/{RDFS_SUBCLASS}* {_n3(value)} }}"
    if predicate == SH.nodeKind:
        kinds = {
            SH.IRI: f"isIRI({var})",
            SH.Literal: f"isLiteral({var})",
            SH.BlankNode: f"isBlank({var})",
            SH.BlankNodeOrIRI: f"(isBlank({var}) || isIRI({var}))",
            SH.BlankNodeOrLiteral: f"(isBlank({var}) || isLiteral({var}))",
            SH.IRIOrLiteral: f"(isIRI({var}) || isLiteral({var}))",
        }
        if value not in kinds:
            raise UnsupportedShapeError(f"sh:nodeKind {value}")
        return kinds[value]  # type: ignore[index]
    comparisons = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
    if predicate in comparisons:
        return f"({var} {comparisons[predicate]} {_n3(value)})"
    if predicate == SH.minLength:
        return f"(!isBlank({var}) && STRLEN(STR({var})) >= {int(value)})"  # type: ignore[call-overload]
    if predicate == SH.maxLength:
        return f"(!isBlank({var}) && STRLEN(STR({var})) <= {int(value)})"  # type: ignore[call-overload]
    if predicate == SH.pattern:
        flags = shapes.value(shape, SH.flags)
        extra = f", {Literal(str(flags)).n3()}" if flags is not None else ""
        return f"(!isBlank({var}) && REGEX(STR({var}), {Literal(str(value)).n3()}{extra}))"
    if predicate == SH.languageIn:
        tests = [f"LANGMATCHES(LANG({var}), {Literal(str(tag)).n3()})" for tag in Collection(shapes, value)]
        return f"(isLiteral({var}) && ({' || '.join(tests) or 'false'}))"
    if predicate == SH["in"]:
        return f"({var} IN ({', '.join(_n3(v) for v in Collection(shapes, value))}))"
    if predicate == SH["or"]:
        members = [_conforms(shapes, s, var) for s in Collection(shapes, value)]
        return "(" + " || ".join(members) + ")"
    if predicate == SH["and"]:
        members = [_conforms(shapes, s, var) for s in Collection(shapes, value)]
        return "(" + " && ".join(members) + ")"
    if predicate == SH["not"]:
        return f"(!{_conforms(shapes, value, var)})"
    return None


def _conforms(shapes: Graph, shape: Node, var: str) -> str:
    """Expression: ``var`` conforms to ``shape`` (node-level value constraints only)."""
    parts: list[str] = []
    for predicate, value in shapes.predicate_objects(shape):
        if predicate in NON_CONSTRAINTS or predicate == SH.flags or predicate == RDF.type:
            continue
        if predicate in (SH.property, SH.sparql) or predicate not in CONSTRAINTS:
            raise UnsupportedShapeError(f"{predicate} inside a value shape")
        condition = _condition(shapes, shape, predicate, value, var)  # type: ignore[arg-type]
        if condition is None:
            raise UnsupportedShapeError(f"{predicate} inside a value shape")
        parts.append(f"COALESCE({condition}, false)")
    return "(" + (" && ".join(parts) if parts else "true") + ")"


# --- targets and shapes ----------------------------------------------------------------------------------
def _prefix_lines(shapes: Graph, holder: Node) -> list[str]:
    lines = []
    for declared in shapes.objects(holder, SH.prefixes):
        for declaration in shapes.objects(declared, SH.declare):
            prefix, namespace = shapes.value(declaration, SH.prefix), shapes.value(declaration, SH.namespace)
            lines.append(f"PREFIX {prefix}: <{namespace}>")
    return lines


def _targets(shapes: Graph, shape: Node) -> tuple[str, list[str]] | None:
    """The SPARQL group binding ?this to the shape's focus nodes, and the prefixes it needs."""
    blocks: list[str] = []
    prefixes: list[str] = []
    for cls in shapes.objects(shape, SH.targetClass):
        # from the class down its subclasses, then their instances: twice as fast as a/subClassOf*
        blocks.append(f"?target_class {RDFS_SUBCLASS}* {_n3(cls)} . ?this a ?target_class .")
    for node in shapes.objects(shape, SH.targetNode):
        blocks.append(f"VALUES ?this {{ {_n3(node)} }}")
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        blocks.append(f"?this {_n3(predicate)} ?target_o .")
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        blocks.append(f"?target_s {_n3(predicate)} ?this .")
    for target in shapes.objects(shape, SH.target):
        select = shapes.value(target, SH.select)
        if (target, RDF.type, SH.SPARQLTarget) not in shapes or select is None:
            raise UnsupportedShapeError(
                f"sh:target {target} of {shape} is not a sh:SPARQLTarget with sh:select"
            )
        blocks.append(f"{{ {select} }}")
        prefixes.extend(_prefix_lines(shapes, target))
    if not blocks:
        return None
    if len(blocks) == 1:
        # a focus node may come twice (two types): every check below tolerates it (DISTINCT, COUNT DISTINCT)
        return f"{{ {blocks[0]} }}", prefixes
    union = " UNION ".join(f"{{ {b} }}" for b in blocks)
    return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}", prefixes


def _severity(shapes: Graph, shape: Node) -> Severity:
    return Severity.from_iri(shapes.value(shape, SH.severity) or SH.Violation)


def _messages(shapes: Graph, node: Node) -> tuple[Literal, ...]:
    return tuple(m for m in shapes.objects(node, SH.message) if isinstance(m, Literal))


def compile_shapes(shapes: Graph) -> list[Check]:
    """Every constraint of every shape with targets, as one query each."""
    checks: list[Check] = []
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
        node_shapes |= set(shapes.subjects(predicate, None))
    for shape in sorted(node_shapes, key=str):
        if shapes.value(shape, SH.deactivated) == Literal(True):
            continue
        found = _targets(shapes, shape)
        if found is None:
            continue
        targets, prefixes = found
        compiled: list[Check] = []
        if shapes.value(shape, SH.path) is not None:
            compiled.extend(_property_checks(shapes, shape, targets))
        else:
            compiled.extend(_node_checks(shapes, shape, targets))
        for prop in shapes.objects(shape, SH.property):
            if shapes.value(prop, SH.deactivated) == Literal(True):
                continue
            compiled.extend(_property_checks(shapes, prop, targets))
        header = "".join(line + "\n" for line in prefixes)
        checks.extend(dataclasses.replace(c, query=header + c.query) for c in compiled)
    return checks


def _unsupported(shapes: Graph, shape: Node) -> None:
    for predicate in shapes.predicates(shape):
        if predicate == RDF.type or predicate in CONSTRAINTS or predicate in NON_CONSTRAINTS:
            continue
        if str(predicate).startswith(str(SH)):
            raise UnsupportedShapeError(f"{predicate} on shape {shape}")


def _node_checks(shapes: Graph, shape: Node, targets: str) -> Iterator[Check]:
    _unsupported(shapes, shape)
    severity, messages = _severity(shapes, shape), _messages(shapes, shape)
    for predicate, value in shapes.predicate_objects(shape):
        if predicate == SH.sparql:
            yield _sparql_check(shapes, shape, value, targets)
            continue
        if predicate not in CONSTRAINTS:
            continue
        condition = _condition(shapes, shape, predicate, value, "?this")  # type: ignore[arg-type]
        if condition is None:
            raise UnsupportedShapeError(f"{predicate} on node shape {shape}")
        query = f"SELECT DISTINCT ?this WHERE {{ {targets} FILTER (!COALESCE({condition}, false)) }}"
        yield Check(query, _component(predicate), shape, severity, messages, None)  # type: ignore[arg-type]


def _property_checks(shapes: Graph, shape: Node, targets: str) -> Iterator[Check]:
    _unsupported(shapes, shape)
    path_node = shapes.value(shape, SH.path)
    if path_node is None:
        raise UnsupportedShapeError(f"property shape {shape} without sh:path")
    path, result_path = _path_sparql(shapes, path_node)
    severity, messages = _severity(shapes, shape), _messages(shapes, shape)

    def check(query: str, predicate: URIRef) -> Check:
        return Check(query, _component(predicate), shape, severity, messages, result_path)

    for predicate, value in shapes.predicate_objects(shape):
        if predicate not in CONSTRAINTS or predicate in (SH.flags, SH.qualifiedValueShapesDisjoint):
            continue
        if predicate == SH.minCount:
            count = int(value)  # type: ignore[call-overload]
            if count == 1:
                yield check(
                    f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} ?v }} }}",
                    SH.minCount,
                )
            elif count > 1:
                yield check(
                    f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?v }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {count})",
                    SH.minCount,
                )
        elif predicate == SH.maxCount:
            count = int(value)  # type: ignore[call-overload]
            if count == 0:
                query = f"SELECT DISTINCT ?this WHERE {{ {targets} ?this {path} ?v }}"
            elif count == 1:
                # a self-join is four times faster than grouping every focus node
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {targets} ?this {path} ?v . ?this {path} ?w . "
                    "FILTER (?v != ?w) }"
                )
            else:
                query = (
                    f"SELECT ?this WHERE {{ {targets} ?this {path} ?v }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {count})"
                )
            yield check(query, SH.maxCount)
        elif predicate == SH.uniqueLang:
            if value == Literal(True):
                yield check(
                    f"SELECT DISTINCT ?this WHERE {{ {targets} ?this {path} ?a . ?this {path} ?b . "
                    'FILTER (?a != ?b && isLiteral(?a) && LANG(?a) != "" && LANG(?a) = LANG(?b)) }',
                    SH.uniqueLang,
                )
        elif predicate == SH.lessThanOrEquals:
            yield check(
                f"SELECT DISTINCT ?this ?value WHERE {{ {targets} ?this {path} ?value . "
                f"?this {_n3(value)} ?other . FILTER (!COALESCE(?value <= ?other, false)) }}",
                SH.lessThanOrEquals,
            )
        elif predicate == SH.qualifiedValueShape:
            yield from _qualified(shapes, shape, value, targets, path, check)
        elif predicate in (SH.qualifiedMinCount, SH.qualifiedMaxCount):
            continue  # handled with sh:qualifiedValueShape
        elif predicate == SH.sparql:
            raise UnsupportedShapeError(f"sh:sparql on property shape {shape}")
        else:
            condition = _condition(shapes, shape, predicate, value, "?value")  # type: ignore[arg-type]
            if condition is None:
                raise UnsupportedShapeError(f"{predicate} on property shape {shape}")
            yield check(
                f"SELECT DISTINCT ?this ?value WHERE {{ {targets} ?this {path} ?value . "
                f"FILTER (!COALESCE({condition}, false)) }}",
                predicate,  # type: ignore[arg-type]
            )


def _qualified(
    shapes: Graph,
    shape: Node,
    value_shape: Node,
    targets: str,
    path: str,
    make: Callable[[str, URIRef], Check],
) -> Iterator[Check]:
    conforms = _conforms(shapes, value_shape, "?v")
    for predicate, comparison in ((SH.qualifiedMinCount, "<"), (SH.qualifiedMaxCount, ">")):
        bound = shapes.value(shape, predicate)
        if bound is None:
            continue
        yield make(
            f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?v . FILTER ({conforms}) }} }} "
            f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) {comparison} {int(bound)})",  # type: ignore[call-overload]
            predicate,
        )


def _sparql_check(shapes: Graph, shape: Node, constraint: Node, targets: str) -> Check:
    select = shapes.value(constraint, SH.select)
    if select is None:
        raise UnsupportedShapeError(f"SHACL-SPARQL constraint {constraint} without sh:select")
    text = str(select)
    if "$PATH" in text or "$currentShape" in text or "$shapesGraph" in text:
        raise UnsupportedShapeError(f"pre-bound variable other than $this in {constraint}")
    body = _prebind(text, f"{{ SELECT DISTINCT ?this WHERE {{ {targets} }} }}", constraint)
    prefixes = _prefix_lines(shapes, constraint)
    if shapes.value(constraint, SH.deactivated) == Literal(True):
        body = "SELECT ?this WHERE { FILTER (false) }"
    return Check(
        "\n".join([*prefixes, body]),
        SH.SPARQLConstraintComponent,
        shape,
        _severity(shapes, constraint),
        _messages(shapes, constraint),
        None,
        sparql=True,
    )


@dataclass
class _Group:
    """A ``{ … }`` group of a SPARQL query, as :func:`_prebind` sees it."""

    start: int
    #: the body of EXISTS / NOT EXISTS: evaluated with the enclosing solution's ?this already bound
    in_exists: bool
    #: ``{ SELECT … }``: a subquery, bound through its own WHERE group
    subquery: bool = False
    mentions_this: bool = False
    empty: bool = True


def _prebind(text: str, targets: str, constraint: Node) -> str:
    """The query with ``targets`` (a group binding ?this to the focus nodes) joined into its groups.

    SHACL-SPARQL pre-binds $this: every group of the query sees it bound. SPARQL evaluates groups
    bottom-up, so a UNION branch ``{ FILTER NOT EXISTS { $this a ?c } }`` would see it unbound. Joining
    the targets into every group that uses ?this (not into EXISTS bodies: they are evaluated with it
    bound) gives the same solutions, for all focus nodes in one query. SHACL forbids the forms where
    this would differ (MINUS, VALUES, subqueries that do not return $this).
    """
    groups: list[_Group] = []
    stack: list[_Group] = []
    previous = ""
    for match in _SPARQL_TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "open":
            inside = bool(stack) and (stack[-1].in_exists or previous == "EXISTS")
            if stack:
                stack[-1].empty = False
            group = _Group(match.end(), inside)
            stack.append(group)
            groups.append(group)
        elif kind == "close":
            if not stack:
                raise UnsupportedShapeError(f"unbalanced braces in the query of {constraint}")
            stack.pop()
        elif stack:
            if stack[-1].empty and kind == "word" and match.group().upper() == "SELECT":
                stack[-1].subquery = True
            stack[-1].empty = False
            if kind == "var" and match.group()[1:] == "this":
                for group in stack:
                    group.mentions_this = True
        previous = match.group().upper() if kind == "word" else ""
    if not groups or stack:
        raise UnsupportedShapeError(f"no WHERE group, or unbalanced braces, in the query of {constraint}")
    # groups[0] is the WHERE group: it always binds ?this (the solutions must have it)
    starts = [
        g.start
        for i, g in enumerate(groups)
        if not g.subquery and not g.in_exists and (i == 0 or g.mentions_this)
    ]
    for start in reversed(starts):
        text = f"{text[:start]} {targets} {text[start:]}"
    return text


def _component(predicate: URIRef) -> URIRef:
    name = str(predicate)[len(str(SH)) :]
    special = {
        "class": "ClassConstraintComponent",
        "in": "InConstraintComponent",
        "or": "OrConstraintComponent",
        "and": "AndConstraintComponent",
        "not": "NotConstraintComponent",
        "sparql": "SPARQLConstraintComponent",
    }
    local = special.get(name, name[0].upper() + name[1:] + "ConstraintComponent")
    return SH[local]


# --- running -------------------------------------------------------------------------------------------
def run_checks(store: ox.Store, checks: Iterable[Check]) -> list[Result]:
    """Run each check on the store's default graph; the results name their source records."""
    lookup = SourceLookup(lambda subject, predicate: _objects(store, subject, predicate))
    results: list[Result] = []
    for check in checks:
        solutions = store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions), "a SELECT query returns solutions"
        names = {v.value for v in solutions.variables}
        for solution in solutions:
            focus_term = solution["this"]
            if focus_term is None:
                continue
            focus = to_rdflib(focus_term)
            value_term = solution["value"] if "value" in names else None
            value = to_rdflib(value_term) if value_term is not None else None
            if value is None and (check.sparql or check.path is None):
                value = focus  # SHACL: the value of a node-level or unbound-?value result is the focus node
            path: ResultPath | None = check.path
            if check.sparql and "path" in names and solution["path"] is not None:
                found = to_rdflib(solution["path"])
                path = found if isinstance(found, URIRef) else None
            messages = check.messages
            if check.sparql:
                messages = tuple(_fill(m, solution, names) for m in messages)
            results.append(
                Result(
                    severity=check.severity,
                    focus_node=focus,
                    path=path,
                    value=value,
                    constraint_component=check.component,
                    source_shape=check.source_shape,
                    messages=messages,
                    source=lookup.source_of(focus),
                )
            )
    return results


def _objects(store: ox.Store, subject: Node, predicate: URIRef) -> list[Node]:
    if not isinstance(subject, URIRef | BNode):
        return []
    node = to_oxigraph(subject)
    assert not isinstance(node, ox.Literal)
    quads = store.quads_for_pattern(node, ox.NamedNode(str(predicate)), None, ox.DefaultGraph())
    return [to_rdflib(quad.object) for quad in quads]


def _fill(message: Literal, solution: ox.QuerySolution, names: set[str]) -> Literal:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        term = solution[name] if name in names else None
        return term.value if isinstance(term, ox.NamedNode | ox.Literal) else match.group(0)

    return Literal(_TEMPLATE_VAR.sub(replace, str(message)), lang=message.language)
