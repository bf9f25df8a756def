"""SHACL validation compiled to SPARQL and run in Oxigraph: the default engine, pyshacl's results in seconds.

pyshacl re-parses a SHACL-SPARQL constraint for every focus node (measured: 30 ms each, so 27 minutes
for a national BMO file of 53,000 observations) and its core constraints took 100 s on that file. Here
each constraint becomes ONE query over all its focus nodes, run by Oxigraph: a few seconds.

The compiler never answers for what it does not compile. It handles SHACL Core (but for a few forms,
see :data:`CONSTRAINTS`), SHACL-SPARQL constraints and SPARQL-based constraint components, with their
exact semantics: implicit class targets, instances of subclasses, literal focus nodes, nested shapes
(sh:node, sh:not, sh:and, sh:or, sh:xone, qualified value shapes, sh:property at any depth) compiled to
EXISTS expressions, terms compared as terms (sh:in), ill-formed literals failing sh:datatype.
:func:`compile_shapes` raises :class:`UnsupportedShapeError` on anything else (recursive shapes, a
datatype whose ill-formed literals Oxigraph keeps as well-formed, SPARQL forms whose pre-binding SHACL
leaves undefined, counts above :data:`_MAX_JOINED_COUNT` inside a nested shape…), and the caller runs
pyshacl. The W3C SHACL test suite checks it (tests/validate/test_w3c.py), and a comparison with pyshacl on
every shapes fixture of the project (tests/validate/test_fastshacl.py).

Oxigraph stores literals in canonical form (``"2.0"^^xsd:decimal`` as ``2``, ``"5"^^xsd:int`` as an
``xsd:integer``): :mod:`.exact` loads arbitrary data term for term and falls back when that would change
a term; the build and the ingest bulk-load their N-Triples and validate the graph as the published store
holds it (a value ``2.0`` is then reported as ``2``).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.namespace import XSD as XSD_NS
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.term import Node

from bassin_kg.store import to_oxigraph, to_rdflib
from bassin_kg.validate.report import Result, ResultPath, Severity, SourceLookup

RDFS_SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
RDFS_CLASS = URIRef("http://www.w3.org/2000/01/rdf-schema#Class")
OWL_IMPORTS = URIRef("http://www.w3.org/2002/07/owl#imports")
XSD = str(XSD_NS)
XSD_BOOLEAN = XSD_NS.boolean
RDFS_SUBCLASS_REF = RDFS.subClassOf

#: constraint parameters compiled here (each with the exact SHACL semantics, tests/validate/test_w3c.py)
CONSTRAINTS = {
    SH.minCount, SH.maxCount, SH.datatype, SH["class"], SH.nodeKind, SH.minInclusive, SH.maxInclusive,
    SH.minExclusive, SH.maxExclusive, SH.minLength, SH.maxLength, SH.pattern, SH.flags, SH.languageIn,
    SH["in"], SH["or"], SH["and"], SH["not"], SH.xone, SH.node, SH.hasValue, SH.uniqueLang,
    SH.qualifiedValueShape, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.qualifiedValueShapesDisjoint,
    SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH.closed, SH.ignoredProperties, SH.sparql,
}  # fmt: skip
#: other SHACL terms a shape may carry that ask for no check (sh:property is compiled on its own)
NON_CONSTRAINTS = {
    SH.path, SH.severity, SH.message, SH.name, SH.description, SH.order, SH.group, SH.deactivated,
    SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target, SH.property,
    SH.declare, SH.prefixes, SH.defaultValue,
}  # fmt: skip
_PATH_FORMS = (SH.inversePath, SH.alternativePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath)
#: datatypes whose ill-formed literals a SPARQL expression detects in Oxigraph: it parses the valid
#: lexical forms of these into values, and keeps an ill-formed literal as written, where a cast fails
_CHECKED_DATATYPES = {f"{XSD}{name}": f"<{XSD}{name}>" for name in ("boolean", "date", "dateTime", "time")}
_NUMERIC_DATATYPES = {f"{XSD}{name}" for name in ("integer", "decimal", "double", "float")}
#: datatypes every literal of which is well-formed
_FREE_DATATYPES = {f"{XSD}string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}
#: counts compiled as joins of distinct values inside a nested shape (larger ones are refused)
_MAX_JOINED_COUNT = 3
#: what the pre-binding of $this looks at in a SHACL-SPARQL query (strings, IRIs and comments are skipped)
_SPARQL_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
    r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\''
    r"|<[^<>\"{}|^`\\\x00-\x20]*>|#[^\n]*"
    r"|(?P<open>\{)|(?P<close>\})|(?P<var>[?$][A-Za-z0-9_]+)|(?P<word>[A-Za-z_]+)"
)
_TEMPLATE_VAR = re.compile(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}")
#: SHACL-SPARQL forbids these in a constraint's query (pre-binding would not be defined): refused
_FORBIDDEN_WORDS = {"MINUS", "VALUES", "SERVICE"}
#: parameters a shape may give several times, each value a constraint of its own; any other given twice
#: is refused (SHACL allows one value: pyshacl then rejects the shapes)
_REPEATABLE = {
    SH["class"], SH.node, SH["not"], SH["and"], SH["or"], SH.xone, SH.hasValue, SH.equals, SH.disjoint,
    SH.lessThan, SH.lessThanOrEquals,
}  # fmt: skip
#: components whose results have no sh:value (w3c/data-shapes#111), nor the focus node in its place
_NO_VALUE = {SH.HasValueConstraintComponent, SH.ClosedConstraintComponent}


class UnsupportedShapeError(Exception):
    """A shape uses a SHACL feature this compiler does not handle exactly (use pyshacl for it)."""


@dataclass(frozen=True)
class Check:
    """One compiled constraint: a SELECT returning ?this (and ?value, ?path when known) per result."""

    query: str
    component: URIRef
    source_shape: Node
    severity: Severity
    messages: tuple[Literal, ...]
    path: ResultPath | None
    #: True for SHACL-SPARQL constraints, whose messages take {?var} from the solution
    sparql: bool = False
    #: the severity IRI as written, when it is not one of SHACL's three
    severity_iri: URIRef | None = None
    #: True when each solution's ?path is the result path (sh:closed: the unexpected predicate)
    row_path: bool = False


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
    forms = [p for p in _PATH_FORMS if shapes.value(node, p) is not None]
    is_list = shapes.value(node, RDF.first) is not None
    if len(forms) + is_list != 1 or len(set(shapes.predicates(node))) != (2 if is_list else 1):
        # a node that is a list and an inverse path (W3C path-strange-*) is read by pyshacl
        raise UnsupportedShapeError(f"SHACL path {node} is not exactly one path form")
    if is_list:
        parts = [_path_sparql(shapes, p) for p in Collection(shapes, node)]
        if len(parts) < 2:
            raise UnsupportedShapeError(f"sequence path {node} with fewer than two members")
        return "(" + "/".join(t for t, _ in parts) + ")", SequencePath(*(p for _, p in parts))
    form = forms[0]
    inner = shapes.value(node, form)
    assert inner is not None
    if form == SH.inversePath:
        text, path = _path_sparql(shapes, inner)
        return f"^({text})", InvPath(path)
    if form == SH.alternativePath:
        parts = [_path_sparql(shapes, p) for p in Collection(shapes, inner)]
        if len(parts) < 2:
            raise UnsupportedShapeError(f"alternative path {node} with fewer than two members")
        return "(" + "|".join(t for t, _ in parts) + ")", AlternativePath(*(p for _, p in parts))
    modifier = {SH.zeroOrMorePath: "*", SH.oneOrMorePath: "+", SH.zeroOrOnePath: "?"}[form]
    text, path = _path_sparql(shapes, inner)
    return f"({text}){modifier}", MulPath(path, modifier)  # type: ignore[arg-type]


def _nullable(path: ResultPath) -> bool:
    """The path may match with length zero (a node is then its own value)."""
    if isinstance(path, MulPath):
        return path.mod != "+" or _nullable(path.path)
    if isinstance(path, InvPath):
        return _nullable(path.arg)
    if isinstance(path, SequencePath):
        return all(_nullable(p) for p in path.args)
    if isinstance(path, AlternativePath):
        return any(_nullable(p) for p in path.args)
    return False


@functools.cache
def _regex_supported(arguments: str) -> bool:
    """Oxigraph's REGEX accepts the pattern and flags (look-behind, for one, it does not)."""
    solutions = ox.Store().query(f'SELECT (REGEX("", {arguments}) AS ?ok) {{}}')
    assert isinstance(solutions, ox.QuerySolutions), "a SELECT query returns solutions"
    return any(solution["ok"] is not None for solution in solutions)


def _int(value: Node, what: str) -> int:
    if not isinstance(value, Literal) or not isinstance(value.value, int) or isinstance(value.value, bool):
        raise UnsupportedShapeError(f"{what} {value} is not an integer")
    return value.value


def _component(predicate: URIRef) -> URIRef:
    name = str(predicate)[len(str(SH)) :]
    special = {
        "class": "ClassConstraintComponent",
        "in": "InConstraintComponent",
        "or": "OrConstraintComponent",
        "and": "AndConstraintComponent",
        "not": "NotConstraintComponent",
        "sparql": "SPARQLConstraintComponent",
        "qualifiedMinCount": "QualifiedMinCountConstraintComponent",
        "qualifiedMaxCount": "QualifiedMaxCountConstraintComponent",
    }
    local = special.get(name, name[0].upper() + name[1:] + "ConstraintComponent")
    return SH[local]


def compile_shapes(shapes: Graph, present: Callable[[Node], bool] | None = None) -> list[Check]:
    """Every constraint of every shape with targets, as one query each.

    Raises :class:`UnsupportedShapeError` on anything not compiled exactly; the caller then runs pyshacl.
    ``present`` tells whether a term occurs in the data (without it, any sh:targetNode may be absent).
    """
    return _Compiler(shapes, present).compile()


def literal_constants(shapes: Graph) -> set[Literal]:
    """Literals of the shapes compared as RDF terms (sh:in, sh:hasValue, sh:targetNode).

    Oxigraph stores a literal in canonical form (``"2.0"^^xsd:decimal`` as ``2``): a caller checks these
    are kept as written before trusting the compiled checks.
    """
    found: set[Literal] = set()
    for predicate in (SH.hasValue, SH.targetNode):
        found |= {v for v in shapes.objects(None, predicate) if isinstance(v, Literal)}
    for members in shapes.objects(None, SH["in"]):
        found |= {v for v in Collection(shapes, members) if isinstance(v, Literal)}
    for parameter in shapes.objects(None, SH.parameter):  # a SPARQL-based component's, as written
        path = shapes.value(parameter, SH.path)
        if isinstance(path, URIRef):
            found |= {v for v in shapes.objects(None, path) if isinstance(v, Literal)}
    return found


class _Compiler:
    """Compiles the shapes of one shapes graph; keeps the fresh-variable counter and the recursion guard."""

    def __init__(self, shapes: Graph, present: Callable[[Node], bool] | None = None) -> None:
        self.shapes = shapes
        self._present = present
        self._fresh = itertools.count()
        self._stack: list[Node] = []
        self._components: list[_Component] = []
        #: a focus node of the shape being compiled may be absent from the data (sh:targetNode)
        self._pinned = False

    def _path(self, node: Node) -> tuple[str, ResultPath]:
        """The SPARQL form of a SHACL path; refused when a zero-length match would be lost.

        Oxigraph evaluates ``?x p* ?y`` to nothing when ?x is bound to a term absent from the data,
        where SPARQL (and SHACL) give ?x itself: only sh:targetNode brings such focus nodes.
        """
        text, path = _path_sparql(self.shapes, node)
        if self._pinned and _nullable(path):
            raise UnsupportedShapeError(
                f"a path that may be of length zero ({text}) from a sh:targetNode absent from the data"
            )
        return text, path

    def var(self, stem: str) -> str:
        return f"?{stem}_{next(self._fresh)}"

    # --- the shapes graph ---------------------------------------------------------------------------
    def compile(self) -> list[Check]:
        shapes = self.shapes
        self._components = [
            _Component.read(shapes, c) for c in sorted(set(shapes.subjects(SH.parameter)), key=str)
        ]
        for predicate in (SH.rule, SH.entailment, SH.shapesGraph):
            if any(shapes.subject_objects(predicate)):
                raise UnsupportedShapeError(str(predicate))
        candidates = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(
            shapes.subjects(RDF.type, SH.PropertyShape)
        )
        for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            candidates |= set(shapes.subjects(predicate, None))
        checks: list[Check] = []
        for shape in sorted(candidates, key=str):
            found = self._targets(shape)
            if found is None:
                continue
            targets, prefixes = found
            present = self._present
            self._pinned = any(
                present is None or not present(n) for n in shapes.objects(shape, SH.targetNode)
            )
            header = "".join(line + "\n" for line in prefixes)
            checks.extend(
                dataclasses.replace(c, query=header + c.query) for c in self.shape_checks(shape, targets)
            )
        return checks

    def _is_class(self, node: Node) -> bool:
        """``node`` is a SHACL instance of rdfs:Class in the shapes graph (an implicit class target)."""
        for cls in self.shapes.objects(node, RDF.type):
            if cls == RDFS_CLASS or (cls, RDFS_SUBCLASS_REF, RDFS_CLASS) in self.shapes:
                return True
            if any(c == RDFS_CLASS for c in self.shapes.transitive_objects(cls, RDFS_SUBCLASS_REF)):
                return True
        return False

    def _targets(self, shape: Node) -> tuple[str, list[str]] | None:
        """The SPARQL group binding ?this to the shape's focus nodes, and the prefixes it needs."""
        shapes = self.shapes
        blocks: list[str] = []
        prefixes: list[str] = []
        classes = list(shapes.objects(shape, SH.targetClass))
        if isinstance(shape, URIRef) and self._is_class(shape):
            classes.append(shape)  # implicit class target
        for cls in classes:
            # from the class down its subclasses, then their instances: twice as fast as a/subClassOf*
            blocks.append(f"?target_class {RDFS_SUBCLASS}* {_n3(cls)} . ?this a ?target_class .")
        nodes = list(shapes.objects(shape, SH.targetNode))
        if nodes:
            blocks.append(f"VALUES ?this {{ {' '.join(_n3(n) for n in nodes)} }}")
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
            prefixes.extend(self._prefix_lines(target))
        if not blocks:
            return None
        if len(blocks) == 1:
            # a focus node may come twice (two types): every check tolerates it (DISTINCT, COUNT DISTINCT)
            return f"{{ {blocks[0]} }}", prefixes
        union = " UNION ".join(f"{{ {b} }}" for b in blocks)
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}", prefixes

    def _prefix_lines(self, holder: Node) -> list[str]:
        """PREFIX lines of the sh:declare of ``holder``'s sh:prefixes, following owl:imports."""
        lines: list[str] = []
        seen: set[Node] = set()
        todo = list(self.shapes.objects(holder, SH.prefixes))
        while todo:
            declared = todo.pop()
            if declared in seen:
                continue
            seen.add(declared)
            todo.extend(self.shapes.objects(declared, OWL_IMPORTS))
            for declaration in self.shapes.objects(declared, SH.declare):
                prefix = self.shapes.value(declaration, SH.prefix)
                namespace = self.shapes.value(declaration, SH.namespace)
                lines.append(f"PREFIX {prefix}: <{namespace}>")
        return sorted(set(lines))

    def _severity(self, node: Node) -> tuple[Severity, URIRef | None]:
        iri = self.shapes.value(node, SH.severity) or SH.Violation
        severity = Severity.from_iri(iri)
        return severity, (iri if isinstance(iri, URIRef) and iri != severity.iri else None)

    def _messages(self, node: Node) -> tuple[Literal, ...]:
        return tuple(m for m in self.shapes.objects(node, SH.message) if isinstance(m, Literal))

    def _check_kind(self, shape: Node) -> None:
        if (shape, RDF.type, SH.NodeShape) in self.shapes and (shape, SH.path, None) in self.shapes:
            raise UnsupportedShapeError(f"sh:path on the node shape {shape}")
        if len(set(self.shapes.objects(shape, SH.path))) > 1:
            raise UnsupportedShapeError(f"two sh:path on shape {shape}")

    def _deactivated(self, shape: Node) -> bool:
        return self.shapes.value(shape, SH.deactivated) == Literal(True)

    def _parameters(self, shape: Node) -> tuple[list[tuple[URIRef, Node]], dict[URIRef, Node]]:
        """The shape's constraints (one per value: two sh:class are two constraints), and its parameters
        by name (for the companions: sh:flags, sh:qualifiedMinCount…); anything not compiled is refused.
        """
        pairs: list[tuple[URIRef, Node]] = []
        found: dict[URIRef, Node] = {}
        for predicate, value in self.shapes.predicate_objects(shape):
            if predicate == RDF.type or predicate in NON_CONSTRAINTS or predicate == SH.sparql:
                continue
            if predicate == SH.select and (shape, SH.sparql, shape) in self.shapes:
                continue  # the shape is its own SPARQL constraint (W3C sparql/node/sparql-002)
            if predicate not in CONSTRAINTS:
                if str(predicate).startswith(str(SH)):
                    raise UnsupportedShapeError(f"{predicate} on shape {shape}")
                continue
            if predicate in found and predicate not in _REPEATABLE:
                raise UnsupportedShapeError(f"{predicate} given twice on shape {shape}")
            found[predicate] = value  # type: ignore[index]
            pairs.append((predicate, value))  # type: ignore[arg-type]
        return sorted(pairs), found

    # --- top-level checks: one query per constraint, one row per result -----------------------------
    def shape_checks(self, shape: Node, targets: str) -> Iterator[Check]:
        """The checks of ``shape`` over the focus nodes ``targets`` binds to ?this, then its sh:property."""
        if self._deactivated(shape):
            return
        if shape in self._stack:
            raise UnsupportedShapeError(f"recursive shape {shape}")
        self._check_kind(shape)
        self._stack.append(shape)
        try:
            path_node = self.shapes.value(shape, SH.path)
            path = self._path(path_node) if path_node is not None else None
            yield from self._constraint_checks(shape, targets, path)
            for child in sorted(self.shapes.objects(shape, SH.property), key=str):
                if path is None:
                    yield from self.shape_checks(child, targets)
                else:
                    # sh:property of a property shape: its focus nodes are the value nodes
                    up = self.var("up")
                    values = (
                        f"{{ SELECT DISTINCT ?this WHERE {{ {{ SELECT (?this AS {up}) WHERE {targets} }} "
                        f"{up} {path[0]} ?this }} }}"
                    )
                    yield from self.shape_checks(child, values)
        finally:
            self._stack.pop()

    def _constraint_checks(
        self, shape: Node, targets: str, path: tuple[str, ResultPath] | None
    ) -> Iterator[Check]:
        pairs, params = self._parameters(shape)
        severity, severity_iri = self._severity(shape)
        messages = self._messages(shape)
        result_path = path[1] if path is not None else None

        def check(query: str, predicate: URIRef, *, row_path: bool = False) -> Check:
            return Check(
                query,
                _component(predicate),
                shape,
                severity,
                messages,
                None if row_path else result_path,
                severity_iri=severity_iri,
                row_path=row_path,
            )

        # the value nodes: the focus node itself for a node shape, the path's values for a property shape
        if path is None:
            values = f"{targets} BIND (?this AS ?value)"
        else:
            values = f"{targets} ?this {path[0]} ?value ."
        for predicate, value in pairs:
            if predicate in (SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount, SH.ignoredProperties):
                continue  # read with sh:pattern, sh:qualifiedValueShape, sh:closed
            if predicate == SH.qualifiedValueShapesDisjoint:
                continue
            condition = self.value_condition(shape, predicate, value, "?value", params)
            if condition is not None:
                failing = f"FILTER (!COALESCE({condition}, false))"
                yield check(f"SELECT DISTINCT ?this ?value WHERE {{ {values} {failing} }}", predicate)
                continue
            if path is None:
                yield from self._node_level(shape, predicate, value, targets, params, check)
            else:
                yield from self._property_level(shape, predicate, value, targets, path[0], params, check)
        for constraint in self.shapes.objects(shape, SH.sparql):
            yield self._sparql_check(shape, constraint, targets, path)
        for component in self._components:
            check_ = self._component_check(component, shape, targets, path, severity, severity_iri)
            if check_ is not None:
                yield check_

    def _component_check(
        self,
        component: _Component,
        shape: Node,
        targets: str,
        path: tuple[str, ResultPath] | None,
        severity: Severity,
        severity_iri: URIRef | None,
    ) -> Check | None:
        """The constraint of a SPARQL-based constraint component on ``shape``, if it has its parameters."""
        values = component.values(self.shapes, shape)
        if values is None:
            return None
        validator = component.validator(self.shapes, node_shape=path is None)
        if validator is None:
            return None  # SHACL: a component without a validator for this kind of shape is ignored
        binds = "".join(f" BIND ({_n3(v)} AS ?{name})" for name, v in values.items())
        select = self.shapes.value(validator, SH.select)
        ask = self.shapes.value(validator, SH.ask)
        text = str(select if select is not None else ask)
        text = self._substitute(text, shape, path, validator)
        names = frozenset({"this", *values})
        if select is not None:
            projected = " ".join("?" + n for n in values)
            binding = f"{{ SELECT DISTINCT ?this {projected} WHERE {{ {targets}{binds} }} }}"
            query = _prebind(text, binding, validator, names)
        else:
            # an ASK validator is asked for each value node: the pairs it says false to are the results
            value_nodes = "BIND (?this AS ?value)" if path is None else f"?this {path[0]} ?value ."
            binding = (
                f"{{ SELECT DISTINCT ?this ?value {' '.join('?' + n for n in values)} "
                f"WHERE {{ {targets} {value_nodes}{binds} }} }}"
            )
            asked = re.sub(r"^\s*ASK\b", "SELECT DISTINCT ?this ?value", text, count=1, flags=re.IGNORECASE)
            if asked == text:
                raise UnsupportedShapeError(f"the sh:ask of {validator} does not start with ASK")
            true_pairs = _prebind(asked, binding, validator, names | {"value"})
            query = f"SELECT DISTINCT ?this ?value WHERE {{ {binding} MINUS {{ {true_pairs} }} }}"
        prefixes = self._prefix_lines(validator)
        messages = self._messages(validator) or self._messages(component.node)
        return Check(
            "\n".join([*prefixes, query]),
            component.node,
            shape,
            severity,
            messages,
            path[1] if path is not None else None,
            sparql=True,
            severity_iri=severity_iri,
        )

    def _substitute(self, text: str, shape: Node, path: tuple[str, ResultPath] | None, holder: Node) -> str:
        """``text`` with $currentShape and $PATH written out; $shapesGraph is refused."""
        if "$shapesGraph" in text or "?shapesGraph" in text:
            raise UnsupportedShapeError(f"$shapesGraph in {holder}")
        if "$currentShape" in text or "?currentShape" in text:
            if not isinstance(shape, URIRef):
                raise UnsupportedShapeError(f"$currentShape of a blank node shape in {holder}")
            text = re.sub(r"[?$]currentShape\b", _n3(shape), text)
        if re.search(r"[?$]PATH\b", text):
            if path is None:
                raise UnsupportedShapeError(f"$PATH in {holder} of node shape {shape}")
            text = re.sub(r"[$?]PATH\b", path[0], text)
        return text

    def _node_level(
        self,
        shape: Node,
        predicate: URIRef,
        value: Node,
        targets: str,
        params: dict[URIRef, Node],
        check: Callable[..., Check],
    ) -> Iterator[Check]:
        if predicate == SH.hasValue:
            yield check(
                f"SELECT DISTINCT ?this WHERE {{ {targets} FILTER (!sameTerm(?this, {_n3(value)})) }}",
                predicate,
            )
        elif predicate == SH.equals:
            other = _n3(value)
            # each UNION branch is evaluated on its own: each binds ?this through the targets
            yield check(
                f"SELECT DISTINCT ?this ?value WHERE {{ {{ {targets} "
                f"FILTER NOT EXISTS {{ ?this {other} ?this }} BIND (?this AS ?value) }} "
                f"UNION {{ {targets} ?this {other} ?value FILTER (!sameTerm(?value, ?this)) }} }}",
                predicate,
            )
        elif predicate == SH.disjoint:
            yield check(
                f"SELECT DISTINCT ?this ?value WHERE {{ {targets} ?this {_n3(value)} ?this "
                "BIND (?this AS ?value) }",
                predicate,
            )
        elif predicate == SH.closed:
            if value != Literal(True):
                return
            allowed = self._closed_allowed(shape, params)
            yield check(
                f"SELECT DISTINCT ?this ?path ?value WHERE {{ {targets} ?this ?path ?value "
                f"FILTER (?path NOT IN ({', '.join(allowed)})) }}",
                predicate,
                row_path=True,
            )
        else:
            raise UnsupportedShapeError(f"{predicate} on node shape {shape}")

    def _closed_allowed(self, shape: Node, params: dict[URIRef, Node]) -> list[str]:
        allowed = {
            p
            for child in self.shapes.objects(shape, SH.property)
            if isinstance(p := self.shapes.value(child, SH.path), URIRef)
        }
        ignored = params.get(SH.ignoredProperties)
        if ignored is not None:
            allowed |= {p for p in Collection(self.shapes, ignored) if isinstance(p, URIRef)}
        # a never-matching IRI keeps NOT IN () well-formed
        return sorted(_n3(p) for p in allowed) or ["<urn:bassin-kg:nothing>"]

    def _property_level(
        self,
        shape: Node,
        predicate: URIRef,
        value: Node,
        targets: str,
        path: str,
        params: dict[URIRef, Node],
        check: Callable[..., Check],
    ) -> Iterator[Check]:
        if predicate == SH.minCount:
            count = _int(value, "sh:minCount")
            if count == 1:
                yield check(
                    f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} ?v }} }}", predicate
                )
            elif count > 1:
                yield check(
                    f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?v }} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {count})",
                    predicate,
                )
        elif predicate == SH.maxCount:
            count = _int(value, "sh:maxCount")
            if count == 0:
                query = f"SELECT DISTINCT ?this WHERE {{ {targets} ?this {path} ?v }}"
            elif count == 1:
                # a self-join is four times faster than grouping every focus node
                query = (
                    f"SELECT DISTINCT ?this WHERE {{ {targets} ?this {path} ?v . ?this {path} ?w . "
                    "FILTER (!sameTerm(?v, ?w)) }"
                )
            else:
                query = (
                    f"SELECT ?this WHERE {{ {targets} ?this {path} ?v }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {count})"
                )
            yield check(query, predicate)
        elif predicate == SH.uniqueLang:
            # only "true" itself turns it on: "1"^^xsd:boolean does not (W3C uniqueLang-002)
            if isinstance(value, Literal) and value.datatype == XSD_BOOLEAN and str(value) == "true":
                # one result per language used twice (SHACL), not per focus node
                yield check(
                    f"SELECT DISTINCT ?this ?lang WHERE {{ {targets} ?this {path} ?a . ?this {path} ?b . "
                    'FILTER (!sameTerm(?a, ?b) && isLiteral(?a) && LANG(?a) != "" && LANG(?a) = LANG(?b)) '
                    "BIND (LANG(?a) AS ?lang) }",
                    predicate,
                )
        elif predicate == SH.hasValue:
            yield check(
                f"SELECT ?this WHERE {{ {targets} FILTER NOT EXISTS {{ ?this {path} {_n3(value)} }} }}",
                predicate,
            )
        elif predicate in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            other = _n3(value)
            if predicate == SH.equals:
                body = (
                    f"{{ ?this {path} ?value FILTER NOT EXISTS {{ ?this {other} ?value }} }} UNION "
                    f"{{ ?this {other} ?value FILTER NOT EXISTS {{ ?this {path} ?value }} }}"
                )
            elif predicate == SH.disjoint:
                body = f"?this {path} ?value . ?this {other} ?value ."
            else:
                operator = "<" if predicate == SH.lessThan else "<="
                failing = f"FILTER (!COALESCE(?value {operator} ?o, false))"
                body = f"?this {path} ?value . ?this {other} ?o . {failing}"
            yield check(f"SELECT DISTINCT ?this ?value WHERE {{ {targets} {body} }}", predicate)
        elif predicate == SH.qualifiedValueShape:
            conforms = self._qualified_condition(shape, value, "?v")
            for bound_predicate, comparison in ((SH.qualifiedMinCount, "<"), (SH.qualifiedMaxCount, ">")):
                bound = params.get(bound_predicate)
                if bound is None:
                    continue
                limit = _int(bound, str(bound_predicate))
                qualified = f"OPTIONAL {{ ?this {path} ?v . FILTER ({conforms}) }}"
                yield check(
                    f"SELECT ?this WHERE {{ {targets} {qualified} }} "
                    f"GROUP BY ?this HAVING (COUNT(DISTINCT ?v) {comparison} {limit})",
                    bound_predicate,
                )
        else:
            raise UnsupportedShapeError(f"{predicate} on property shape {shape}")

    def _qualified_condition(self, shape: Node, value_shape: Node, var: str) -> str:
        """``var`` conforms to the qualified value shape and, when asked, to none of its siblings'."""
        conforms = self.conforms(value_shape, var)
        if self.shapes.value(shape, SH.qualifiedValueShapesDisjoint) != Literal(True):
            return conforms
        siblings = {
            sibling_shape
            for parent in self.shapes.subjects(SH.property, shape)
            for sibling in self.shapes.objects(parent, SH.property)
            if sibling != shape
            for sibling_shape in self.shapes.objects(sibling, SH.qualifiedValueShape)
        }
        others = [self.conforms(s, var) for s in sorted(siblings, key=str)]
        return "(" + " && ".join([conforms, *(f"!{o}" for o in others)]) + ")"

    # --- value constraints: an expression true when one value node satisfies the constraint ----------
    def value_condition(
        self, shape: Node, predicate: URIRef, value: Node, var: str, params: dict[URIRef, Node]
    ) -> str | None:
        """A SPARQL expression true when ``var`` satisfies the constraint (None: not a value constraint)."""
        if predicate == SH.datatype:
            return self._datatype(value, var)
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
        comparisons = {
            SH.minInclusive: "<=",
            SH.maxInclusive: ">=",
            SH.minExclusive: "<",
            SH.maxExclusive: ">",
        }
        if predicate in comparisons:
            if not isinstance(value, Literal):
                raise UnsupportedShapeError(f"{predicate} {value} is not a literal")
            return f"({_n3(value)} {comparisons[predicate]} {var})"
        if predicate in (SH.minLength, SH.maxLength):
            operator = ">=" if predicate == SH.minLength else "<="
            return f"(!isBlank({var}) && STRLEN(STR({var})) {operator} {_int(value, str(predicate))})"
        if predicate == SH.pattern:
            flags = params.get(SH.flags)
            extra = f", {Literal(str(flags)).n3()}" if flags is not None else ""
            regex = f"{Literal(str(value)).n3()}{extra}"
            if not _regex_supported(regex):
                # an error would count every value as a violation
                raise UnsupportedShapeError(f"sh:pattern {value}, which Oxigraph's REGEX does not take")
            return f"(!isBlank({var}) && REGEX(STR({var}), {regex}))"
        if predicate == SH.languageIn:
            tags = list(Collection(self.shapes, value))
            tests = [f"LANGMATCHES(LANG({var}), {Literal(str(tag)).n3()})" for tag in tags]
            return f"(isLiteral({var}) && ({' || '.join(tests) or 'false'}))"
        if predicate == SH["in"]:
            # sh:in compares RDF terms: IN would compare values (1 = 1.0)
            members = [f"sameTerm({var}, {_n3(v)})" for v in Collection(self.shapes, value)]
            return "(" + (" || ".join(members) or "false") + ")"
        if predicate in (SH["or"], SH["and"], SH.xone):
            members = [self.conforms(s, var) for s in Collection(self.shapes, value)]
            if predicate == SH.xone:
                return "((" + " + ".join([f"IF({m}, 1, 0)" for m in members] or ["0"]) + ") = 1)"
            joiner, empty = (" || ", "false") if predicate == SH["or"] else (" && ", "true")
            return "(" + (joiner.join(members) or empty) + ")"
        if predicate == SH["not"]:
            return f"(!{self.conforms(value, var)})"
        if predicate == SH.node:
            return self.conforms(value, var)
        return None

    def _datatype(self, value: Node, var: str) -> str:
        if not isinstance(value, URIRef):
            raise UnsupportedShapeError(f"sh:datatype {value} is not an IRI")
        same = f"(isLiteral({var}) && DATATYPE({var}) = {_n3(value)}"
        if str(value) in _NUMERIC_DATATYPES:
            # Oxigraph keeps an ill-formed literal ("aldi"^^xsd:integer) as written: not a number
            return f"{same} && isNumeric({var}))"
        cast = _CHECKED_DATATYPES.get(str(value))
        if cast is not None:
            # the cast of an ill-formed literal fails (an error, so false)
            return f"{same} && sameTerm({cast}(STR({var})), {var}))"
        if str(value) in _FREE_DATATYPES or not str(value).startswith((XSD, str(RDF), str(RDFS))):
            return same + ")"
        # other XSD and RDF datatypes have ill-formed literals Oxigraph does not tell apart, and pyshacl
        # reads rdfs:Literal and rdfs:Datatype its own way
        raise UnsupportedShapeError(f"sh:datatype {value}")

    # --- conformance of a node to a whole shape (sh:node, sh:not, sh:and, sh:or, sh:xone, qualified) -----
    def conforms(self, shape: Node, var: str) -> str:
        """Expression: ``var`` conforms to ``shape`` (no result at any severity)."""
        if self._deactivated(shape):
            return "true"
        if shape in self._stack:
            raise UnsupportedShapeError(f"recursive shape {shape}")
        if any(self.shapes.objects(shape, SH.sparql)) or any(
            c.values(self.shapes, shape) is not None for c in self._components
        ):
            raise UnsupportedShapeError(f"a SPARQL constraint in a shape used as a value shape ({shape})")
        self._check_kind(shape)
        self._stack.append(shape)
        try:
            pairs, params = self._parameters(shape)
            path_node = self.shapes.value(shape, SH.path)
            parts = (
                self._node_conforms(shape, pairs, params, var)
                if path_node is None
                else self._property_conforms(shape, pairs, params, var, self._path(path_node)[0])
            )
        finally:
            self._stack.pop()
        return "(" + (" && ".join(f"COALESCE({p}, false)" for p in parts) or "true") + ")"

    def _node_conforms(
        self, shape: Node, pairs: list[tuple[URIRef, Node]], params: dict[URIRef, Node], var: str
    ) -> list[str]:
        parts: list[str] = []
        for predicate, value in pairs:
            if predicate in (SH.flags, SH.ignoredProperties):
                continue
            condition = self.value_condition(shape, predicate, value, var, params)
            if condition is not None:
                parts.append(condition)
            elif predicate == SH.hasValue:
                parts.append(f"sameTerm({var}, {_n3(value)})")
            elif predicate == SH.equals:
                o = self.var("o")
                parts.append(
                    f"(EXISTS {{ {var} {_n3(value)} {var} }} && "
                    f"NOT EXISTS {{ {var} {_n3(value)} {o} FILTER (!sameTerm({o}, {var})) }})"
                )
            elif predicate == SH.disjoint:
                parts.append(f"NOT EXISTS {{ {var} {_n3(value)} {var} }}")
            elif predicate == SH.closed:
                if value == Literal(True):
                    p, o = self.var("p"), self.var("o")
                    allowed = ", ".join(self._closed_allowed(shape, params))
                    parts.append(f"NOT EXISTS {{ {var} {p} {o} FILTER ({p} NOT IN ({allowed})) }}")
            else:
                raise UnsupportedShapeError(f"{predicate} on node shape {shape} used as a value shape")
        for child in self.shapes.objects(shape, SH.property):
            parts.append(self.conforms(child, var))
        return parts

    def _property_conforms(
        self, shape: Node, pairs: list[tuple[URIRef, Node]], params: dict[URIRef, Node], var: str, path: str
    ) -> list[str]:
        parts: list[str] = []
        y = self.var("y")
        value_tests: list[str] = []
        for predicate, value in pairs:
            if predicate in (
                SH.flags,
                SH.qualifiedMinCount,
                SH.qualifiedMaxCount,
                SH.qualifiedValueShapesDisjoint,
            ):
                continue
            condition = self.value_condition(shape, predicate, value, y, params)
            if condition is not None:
                value_tests.append(f"!COALESCE({condition}, false)")
            elif predicate == SH.minCount:
                parts.append(self._at_least(var, path, _int(value, "sh:minCount")))
            elif predicate == SH.maxCount:
                parts.append(f"!{self._at_least(var, path, _int(value, 'sh:maxCount') + 1)}")
            elif predicate == SH.hasValue:
                parts.append(f"EXISTS {{ {var} {path} {_n3(value)} }}")
            elif predicate == SH.uniqueLang:
                if isinstance(value, Literal) and value.datatype == XSD_BOOLEAN and str(value) == "true":
                    a, b = self.var("a"), self.var("b")
                    parts.append(
                        f"NOT EXISTS {{ {var} {path} {a} . {var} {path} {b} . FILTER (!sameTerm({a}, {b}) && "
                        f'isLiteral({a}) && LANG({a}) != "" && LANG({a}) = LANG({b})) }}'
                    )
            elif predicate in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
                other, o = _n3(value), self.var("o")
                if predicate == SH.equals:
                    parts.append(
                        f"(NOT EXISTS {{ {var} {path} {y} FILTER NOT EXISTS {{ {var} {other} {y} }} }} && "
                        f"NOT EXISTS {{ {var} {other} {y} FILTER NOT EXISTS {{ {var} {path} {y} }} }})"
                    )
                elif predicate == SH.disjoint:
                    parts.append(f"NOT EXISTS {{ {var} {path} {y} . {var} {other} {y} }}")
                else:
                    operator = "<" if predicate == SH.lessThan else "<="
                    parts.append(
                        f"NOT EXISTS {{ {var} {path} {y} . {var} {other} {o} . "
                        f"FILTER (!COALESCE({y} {operator} {o}, false)) }}"
                    )
            elif predicate == SH.qualifiedValueShape:
                for bound_predicate, negate in ((SH.qualifiedMinCount, ""), (SH.qualifiedMaxCount, "!")):
                    bound = params.get(bound_predicate)
                    if bound is None:
                        continue
                    count = _int(bound, str(bound_predicate)) + (1 if negate else 0)
                    parts.append(negate + self._at_least(var, path, count, shape_node=value, owner=shape))
            else:
                raise UnsupportedShapeError(f"{predicate} on property shape {shape} used as a value shape")
        for child in self.shapes.objects(shape, SH.property):
            value_tests.append(f"!{self.conforms(child, y)}")
        if value_tests:
            parts.append(f"NOT EXISTS {{ {var} {path} {y} FILTER ({' || '.join(value_tests)}) }}")
        return parts

    def _at_least(
        self, var: str, path: str, count: int, *, shape_node: Node | None = None, owner: Node | None = None
    ) -> str:
        """Expression: ``var`` has at least ``count`` distinct values (conforming to ``shape_node``)."""
        if count <= 0:
            return "true"
        if count > _MAX_JOINED_COUNT:
            raise UnsupportedShapeError(f"a count of {count} inside a value shape")
        names = [self.var("c") for _ in range(count)]
        triples = " ".join(f"{var} {path} {n} ." for n in names)
        tests = [f"!sameTerm({a}, {b})" for i, a in enumerate(names) for b in names[i + 1 :]]
        if shape_node is not None:
            assert owner is not None
            tests.extend(self._qualified_condition(owner, shape_node, n) for n in names)
        filter_ = f" FILTER ({' && '.join(tests)})" if tests else ""
        return f"EXISTS {{ {triples}{filter_} }}"

    # --- SHACL-SPARQL constraints ---------------------------------------------------------------------
    def _sparql_check(
        self, shape: Node, constraint: Node, targets: str, path: tuple[str, ResultPath] | None
    ) -> Check:
        select = self.shapes.value(constraint, SH.select)
        if select is None:
            raise UnsupportedShapeError(f"SHACL-SPARQL constraint {constraint} without sh:select")
        text = self._substitute(str(select), shape, path, constraint)
        body = _prebind(text, f"{{ SELECT DISTINCT ?this WHERE {{ {targets} }} }}", constraint)
        prefixes = self._prefix_lines(constraint)
        if self._deactivated(constraint):
            body = "SELECT ?this WHERE { FILTER (false) }"
        severity, severity_iri = self._severity(constraint)
        return Check(
            "\n".join([*prefixes, body]),
            SH.SPARQLConstraintComponent,
            shape,
            severity,
            self._messages(constraint),
            path[1] if path is not None else None,
            sparql=True,
            severity_iri=severity_iri,
        )


@dataclass(frozen=True)
class _Component:
    """A SPARQL-based constraint component: its parameters (predicate, variable name, optional)."""

    node: URIRef
    parameters: tuple[tuple[URIRef, str, bool], ...]

    @classmethod
    def read(cls, shapes: Graph, node: Node) -> _Component:
        if not isinstance(node, URIRef):
            raise UnsupportedShapeError(f"constraint component {node} is a blank node")
        parameters = []
        for parameter in shapes.objects(node, SH.parameter):
            path = shapes.value(parameter, SH.path)
            if not isinstance(path, URIRef):
                raise UnsupportedShapeError(f"parameter {parameter} of {node} without an IRI sh:path")
            name = re.split(r"[#/:]", str(path))[-1]
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise UnsupportedShapeError(f"parameter {path} of {node}: no SPARQL variable name")
            optional = shapes.value(parameter, SH.optional) == Literal(True)
            parameters.append((path, name, optional))
        return cls(node, tuple(sorted(parameters)))

    def values(self, shapes: Graph, shape: Node) -> dict[str, Node] | None:
        """Variable name -> value of each parameter ``shape`` gives; None if a mandatory one is missing."""
        found: dict[str, Node] = {}
        for path, name, optional in self.parameters:
            given = list(shapes.objects(shape, path))
            if len(given) > 1:
                raise UnsupportedShapeError(f"parameter {path} of {self.node} given twice on {shape}")
            if given:
                found[name] = given[0]
            elif not optional:
                return None
        return found

    def validator(self, shapes: Graph, *, node_shape: bool) -> Node | None:
        """The validator for a node or property shape: the specific one, else the ASK one."""
        specific = shapes.value(self.node, SH.nodeValidator if node_shape else SH.propertyValidator)
        if specific is not None and shapes.value(specific, SH.select) is None:
            raise UnsupportedShapeError(f"validator {specific} of {self.node} without sh:select")
        found = specific if specific is not None else shapes.value(self.node, SH.validator)
        if found is not None and shapes.value(found, SH.select if specific is not None else SH.ask) is None:
            raise UnsupportedShapeError(f"validator {found} of {self.node} without its query")
        return found


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


def _prebind(text: str, targets: str, constraint: Node, names: frozenset[str] = frozenset({"this"})) -> str:
    """The query with ``targets`` (a group binding ?this to the focus nodes) joined into its groups.

    ``names`` are the variables ``targets`` binds (a validator's also binds ?value and its parameters).

    SHACL-SPARQL pre-binds $this: every group of the query sees it bound. SPARQL evaluates groups
    bottom-up, so a UNION branch ``{ FILTER NOT EXISTS { $this a ?c } }`` would see it unbound. Joining
    the targets into every group that uses ?this (not into EXISTS bodies: they are evaluated with it
    bound) gives the same solutions, for all focus nodes in one query. SHACL forbids the forms where
    this would differ (MINUS, VALUES, subqueries that do not return $this): they are refused, and so
    is any subquery and any ``AS ?this``.
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
            word = match.group().upper() if kind == "word" else ""
            if word in _FORBIDDEN_WORDS or (stack[-1].empty and word == "SELECT"):
                # SHACL-SPARQL leaves pre-binding undefined there (W3C unsupported-sparql-*, pre-binding-006)
                raise UnsupportedShapeError(f"{word} in the query of {constraint}")
            if kind == "var" and previous == "AS" and match.group()[1:] in names | {"this", "value", "PATH"}:
                raise UnsupportedShapeError(f"a pre-bound variable assigned with AS in {constraint}")
            stack[-1].empty = False
            if kind == "var" and match.group()[1:] in names:
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


# --- running -------------------------------------------------------------------------------------------
class TermMap:
    """How data terms map to the store's and back: the identity, unless the data was loaded term by term.

    :func:`bassin_kg.validate.exact.load_exact` keeps the data's own blank nodes and literals (rdflib
    forms, unnormalised) so that results name the very terms of the data.
    """

    def to_store(self, node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        return to_oxigraph(node)

    def from_store(self, term: object) -> Node:
        return to_rdflib(term)


def run_checks(store: ox.Store, checks: Iterable[Check], terms: TermMap | None = None) -> list[Result]:
    """Run each check on the store's default graph; the results name their source records."""
    mapping = terms or TermMap()
    lookup = SourceLookup(lambda subject, predicate: _objects(store, mapping, subject, predicate))
    results: list[Result] = []
    for check in checks:
        solutions = store.query(check.query)
        assert isinstance(solutions, ox.QuerySolutions), "a SELECT query returns solutions"
        names = {v.value for v in solutions.variables}
        for solution in solutions:
            focus_term = solution["this"]
            if focus_term is None:
                continue
            focus = mapping.from_store(focus_term)
            value_term = solution["value"] if "value" in names else None
            value = mapping.from_store(value_term) if value_term is not None else None
            if value is None and (check.sparql or check.path is None) and check.component not in _NO_VALUE:
                value = focus  # SHACL: the value of a node-level or unbound-?value result is the focus node
            path: ResultPath | None = check.path
            if (check.sparql or check.row_path) and "path" in names and solution["path"] is not None:
                found = mapping.from_store(solution["path"])
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
                    severity_iri=check.severity_iri,
                )
            )
    return results


def _objects(store: ox.Store, terms: TermMap, subject: Node, predicate: URIRef) -> list[Node]:
    if not isinstance(subject, URIRef | BNode):
        return []
    node = terms.to_store(subject)
    assert not isinstance(node, ox.Literal)
    quads = store.quads_for_pattern(node, ox.NamedNode(str(predicate)), None, ox.DefaultGraph())
    return [terms.from_store(quad.object) for quad in quads]


def _fill(message: Literal, solution: ox.QuerySolution, names: set[str]) -> Literal:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        term = solution[name] if name in names else None
        return term.value if isinstance(term, ox.NamedNode | ox.Literal) else match.group(0)

    return Literal(_TEMPLATE_VAR.sub(replace, str(message)), lang=message.language)
