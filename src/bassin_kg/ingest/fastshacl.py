"""SHACL validation compiled to SPARQL and run in Oxigraph, for graphs too large for pyshacl.

pyshacl re-parses a SHACL-SPARQL constraint for every focus node (measured: 30 ms each, so 27 minutes
for a national BMO file of 53,000 observations) and its core constraints took 100 s on that file. Here
each constraint of ``shapes/`` becomes ONE query over all its focus nodes, run by Oxigraph: a few
seconds. The supported subset is the one the project's shapes use (listed in :data:`CONSTRAINTS`);
:func:`compile_shapes` raises :class:`UnsupportedShapeError` on anything else, so a caller can fall back to
pyshacl instead of silently skipping a rule. Results are :class:`bassin_kg.validate.Result` objects
with the same focus node, path and constraint component as pyshacl reports (tests compare the two).
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

from bassin_kg.namespaces import BM, PREFIXES
from bassin_kg.validate import Report, Result, ResultPath, Severity

PROV_DERIVED = URIRef(PREFIXES["prov"] + "wasDerivedFrom")
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
_WHERE = re.compile(r"\bWHERE\s*\{", re.IGNORECASE)
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
    match = _WHERE.search(text)
    if match is None:
        raise UnsupportedShapeError(f"no WHERE clause in {constraint}")
    # binding ?this to the targets inside the WHERE group gives the pre-bound $this of SHACL-SPARQL
    distinct = f"{{ SELECT DISTINCT ?this WHERE {{ {targets} }} }}"
    body = text[: match.end()] + f" {distinct} " + text[match.end() :]
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
def _to_rdflib(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise UnsupportedShapeError(f"unsupported term {term!r}")


def run_checks(store: ox.Store, checks: Iterable[Check]) -> Report:
    """Run each check on the store's default graph; the report's results name their source records."""
    results: list[Result] = []
    for check in checks:
        solutions = store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions), "a SELECT query returns solutions"
        names = {v.value for v in solutions.variables}
        for solution in solutions:
            focus_term = solution["this"]
            if focus_term is None:
                continue
            focus = _to_rdflib(focus_term)
            value_term = solution["value"] if "value" in names else None
            value = _to_rdflib(value_term) if value_term is not None else None
            path: ResultPath | None = check.path
            if check.sparql and "path" in names and solution["path"] is not None:
                found = _to_rdflib(solution["path"])
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
                    source=_source(store, focus_term),
                )
            )
    prefixes = dict(PREFIXES)
    prefixes["sh"] = str(SH)
    return Report(results=results, prefixes=prefixes)


def _fill(message: Literal, solution: ox.QuerySolution, names: set[str]) -> Literal:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        term = solution[name] if name in names else None
        return term.value if isinstance(term, ox.NamedNode | ox.Literal) else match.group(0)

    return Literal(_TEMPLATE_VAR.sub(replace, str(message)), lang=message.language)


def _source(store: ox.Store, focus: object) -> str | None:
    if not isinstance(focus, ox.NamedNode):
        return None
    query = (
        f"SELECT ?file ?line WHERE {{ <{focus.value}> <{PROV_DERIVED}> ?record . "
        f"?record <{BM.fichier}> ?file ; <{BM.ligne}> ?line }} ORDER BY ?file ?line"
    )
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    found = []
    for solution in solutions:
        file, line = solution["file"], solution["line"]
        if file is not None and line is not None:
            found.append(f"{file.value}:{line.value}")
    return ", ".join(found) if found else None


def validate_ntriples(data: bytes, shapes: Graph, *, ontology: Graph | None = None) -> Report:
    """Validate N-Triples ``data`` (plus the ontology, for the Data Cube structures) in a memory store."""
    checks = compile_shapes(shapes)
    store = ox.Store()
    store.bulk_load(data, ox.RdfFormat.N_TRIPLES)
    if ontology is not None:
        store.bulk_load(ontology.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return run_checks(store, checks)


def validate_rdflib(data: Graph, shapes: Graph, *, ontology: Graph | None = None) -> Report:
    """Same as :func:`validate_ntriples` for an rdflib graph."""
    return validate_ntriples(data.serialize(format="nt", encoding="utf-8"), shapes, ontology=ontology)
