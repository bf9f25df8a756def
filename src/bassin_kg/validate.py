"""Check a graph against the SHACL shapes of ``shapes/`` and report what is wrong and where it came from.

The report keeps severities apart (a warning never makes the graph non-conforming) and gives each result
the ``file:line`` of its source record, found by following ``prov:wasDerivedFrom`` from the focus node.

No inference is run: the shapes target every SWOT subclass explicitly. Rules that apply to a subset of a
class (the deck's occupations, one dataset's observations) use SPARQL targets, so pyshacl runs with SHACL
Advanced Features on; SPARQL constraints are kept to small classes, since pyshacl runs them once per
focus node (see ``_QueryCachingGraph``).
"""

from __future__ import annotations

import enum
import functools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from typing import Literal as Literal_

import pyoxigraph as ox
from pyshacl import validate as shacl_validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as PropertyPath
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result as SPARQLResult
from rdflib.store import Store
from rdflib.term import IdentifiedNode, Node

from bassin_kg.errors import DataError, StoreError
from bassin_kg.namespaces import BM, DEFAULT_BASE, PREFIXES

PROV = Namespace(PREFIXES["prov"])
#: namespace of the shapes themselves (fixed, like the ontology's)
BMSH = Namespace(DEFAULT_BASE + "def/shapes#")
#: how far to follow prov:wasDerivedFrom from a focus node (curated row, then the deck line it came from)
_SOURCE_DEPTH = 2

ResultPath = URIRef | PropertyPath
_TEMPLATE_VAR = re.compile(r"(\{[?$][A-Za-z_][A-Za-z0-9_]*\})")


class Severity(enum.Enum):
    """SHACL severities, most serious first."""

    VIOLATION = "Violation"
    WARNING = "Warning"
    INFO = "Info"

    @property
    def iri(self) -> URIRef:
        return SH[self.value]

    @classmethod
    def from_iri(cls, iri: Node) -> Severity:
        for severity in cls:
            if severity.iri == iri:
                return severity
        # SHACL allows custom severities; treat them as the most serious so they are not missed.
        return cls.VIOLATION

    def plural(self, count: int) -> str:
        word = self.value.lower()
        return f"{count} {word}" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, with the source record of its focus node."""

    severity: Severity
    focus_node: Node
    path: ResultPath | None
    value: Node | None
    constraint_component: URIRef
    source_shape: Node
    #: the result's messages, one per language (the shapes give French and English)
    messages: tuple[Literal, ...] = ()
    #: ``file:line`` of the focus node's source record(s), ``None`` if it has no provenance
    source: str | None = None

    @property
    def message(self) -> str:
        """French then English message, joined; other languages follow."""
        order = {"fr": 0, "en": 1}
        ordered = sorted(self.messages, key=lambda m: (order.get(m.language or "", 2), str(m)))
        return " | ".join(str(m) for m in ordered)

    def message_in(self, language: str) -> str | None:
        for message in self.messages:
            if message.language == language:
                return str(message)
        return None

    def key(self) -> tuple[Node, ResultPath | None, URIRef]:
        """(focus node, path, constraint component): what tests compare."""
        return (self.focus_node, self.path, self.constraint_component)


@dataclass
class Report:
    """What a validation found. ``conforms`` is true iff there is no violation."""

    results: list[Result] = field(default_factory=list)
    #: prefixes used to print IRIs as prefixed names
    prefixes: dict[str, str] = field(default_factory=dict)
    #: seconds spent in pyshacl (for the build report)
    elapsed: float = 0.0
    #: named node shape holding each anonymous property shape, to print where a rule is written
    shape_owners: dict[Node, Node] = field(default_factory=dict)

    @property
    def conforms(self) -> bool:
        return not self.violations

    def by_severity(self, severity: Severity) -> list[Result]:
        return [r for r in self.results if r.severity is severity]

    @property
    def violations(self) -> list[Result]:
        return self.by_severity(Severity.VIOLATION)

    @property
    def warnings(self) -> list[Result]:
        return self.by_severity(Severity.WARNING)

    @property
    def infos(self) -> list[Result]:
        return self.by_severity(Severity.INFO)

    def tuples(self) -> set[tuple[Node, ResultPath | None, URIRef]]:
        """The set of (focus node, path, constraint component) of every result."""
        return {r.key() for r in self.results}

    def summary(self) -> str:
        """'3 violations, 1 warning' (infos only when there are some)."""
        parts = [Severity.VIOLATION.plural(len(self.violations)), Severity.WARNING.plural(len(self.warnings))]
        if self.infos:
            parts.append(Severity.INFO.plural(len(self.infos)))
        return ", ".join(parts)

    def render(self) -> str:
        """Readable text: the counts, then each result grouped by severity, with its source file:line."""
        head = "conforms" if self.conforms else "does NOT conform"
        lines = [f"SHACL validation: {head} ({self.summary()})"]
        for severity in Severity:
            group = sorted(self.by_severity(severity), key=self._sort_key)
            if not group:
                continue
            lines.append("")
            lines.append(f"{severity.value}s ({len(group)}):")
            for result in group:
                lines.extend(self._render_result(result))
        return "\n".join(lines) + "\n"

    # rendering helpers -----------------------------------------------------------------------------
    @functools.cached_property
    def _namespaces(self) -> Graph:
        return _namespace_graph(self.prefixes)

    def _sort_key(self, result: Result) -> tuple[str, str, str, str]:
        return (
            result.source or "~",
            self.short(result.focus_node),
            self._path_text(result.path),
            result.message,
        )

    def _render_result(self, result: Result) -> list[str]:
        where = result.source or "no source record"
        head = f"  - {self.short(result.focus_node)}  {self._path_text(result.path)}"
        if result.value is not None and result.value != result.focus_node:
            head += f"  value {self.short(result.value)}"
        head += f"  [{where}]"
        out = [head]
        french, english = result.message_in("fr"), result.message_in("en")
        if french or english:
            if french:
                out.append(f"      fr: {french}")
            if english:
                out.append(f"      en: {english}")
        elif result.messages:
            out.append(f"      {result.message}")
        shape = self.shape_owners.get(result.source_shape, result.source_shape)
        out.append(f"      ({self.short(result.constraint_component)} in {self.short(shape)})")
        return out

    def _path_text(self, path: ResultPath | None) -> str:
        if path is None:
            return "-"
        if isinstance(path, URIRef):
            return self.short(path)
        return path.n3(self._namespaces.namespace_manager)

    def short(self, node: Node) -> str:
        """A prefixed name when a known prefix fits, else the N-Triples form."""
        if isinstance(node, URIRef):
            text = str(node)
            best = ""
            for prefix, ns in self.prefixes.items():
                if text.startswith(ns) and len(ns) > len(self.prefixes.get(best, "")):
                    local = text[len(ns) :]
                    if local and _is_simple_local(local):
                        best = prefix
            if best:
                return f"{best}:{text[len(self.prefixes[best]) :]}"
            return f"<{text}>"
        if isinstance(node, Literal):
            return node.n3(self._namespaces.namespace_manager)
        if isinstance(node, BNode):
            return f"_:{node}"
        return str(node)


def _is_simple_local(local: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in local) and not local.endswith(".")


def _namespace_graph(prefixes: dict[str, str]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, ns in prefixes.items():
        graph.bind(prefix, ns, override=True)
    return graph


# --- shapes -----------------------------------------------------------------------------------------
def shape_files(shapes_dir: Path) -> list[Path]:
    """The Turtle files of ``shapes_dir``, sorted; a missing or empty folder is an error."""
    if not shapes_dir.is_dir():
        raise DataError(
            "shapes folder not found",
            file=shapes_dir,
            hint="run from the project root or pass --root; the shapes live in <root>/shapes/",
        )
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise DataError("no *.ttl shapes file in the shapes folder", file=shapes_dir)
    return files


def load_shapes(shapes_dir: Path) -> Graph:
    """All ``shapes_dir/*.ttl`` files in one graph."""
    shapes = Graph()
    for path in shape_files(shapes_dir):
        try:
            shapes.parse(path, format="turtle")
        except BadSyntax as exc:
            raise DataError(
                f"shapes file is not valid Turtle: {exc.message}",
                file=path,
                line=exc.lines + 1,
                hint="fix the syntax; every shapes file must parse on its own",
            ) from None
    return shapes


# --- validation -------------------------------------------------------------------------------------
def validate_graph(data: Graph, shapes_dir: Path, *, ontology: Graph | None = None) -> Report:
    """Validate ``data`` against every shape of ``shapes_dir``; ``data`` is not modified.

    ``ontology``, when given, is added to a copy of the data, so that ``sh:class`` also accepts
    instances of subclasses; the shapes do not need it since their targets are explicit.
    """
    shapes = load_shapes(shapes_dir)
    target = _validation_graph(data, ontology)
    start = time.perf_counter()
    _conforms, results_graph, _text = shacl_validate(
        target,
        shacl_graph=shapes,
        inference="none",
        # SHACL Advanced Features for the SPARQL targets of shapes/ (one query per rule, not per node)
        advanced=True,
        allow_warnings=True,
        # the shapes hold no rules, so nothing is written to the data graph: no need for pyshacl's copy
        inplace=True,
    )
    elapsed = time.perf_counter() - start
    if not isinstance(results_graph, Graph):  # pragma: no cover - pyshacl returns a Graph unless serialised
        raise TypeError(f"pyshacl returned {type(results_graph).__name__}, expected an rdflib Graph")
    prefixes = dict(PREFIXES)
    prefixes["bmsh"] = str(BMSH)
    prefixes["sh"] = str(SH)
    for prefix, ns in data.namespace_manager.namespaces():
        if prefix and str(ns) not in prefixes.values():
            prefixes.setdefault(prefix, str(ns))
    lookup = _SourceLookup(data)
    results = [
        _result(results_graph, node, lookup) for node in results_graph.subjects(RDF.type, SH.ValidationResult)
    ]
    return Report(results=results, prefixes=prefixes, elapsed=elapsed, shape_owners=_shape_owners(shapes))


def _shape_owners(shapes: Graph) -> dict[Node, Node]:
    """Anonymous property shapes (and SPARQL constraints) -> the named shape that lists them.

    pyshacl keeps blank node ids when it copies a shape into the results, so the ids match.
    """
    owners: dict[Node, Node] = {}
    for predicate in (SH.property, SH.sparql):
        for owner, child in shapes.subject_objects(predicate):
            if isinstance(child, BNode) and isinstance(owner, URIRef):
                owners[child] = owner
    return owners


class _QueryCachingGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    pyshacl hands rdflib the query text of a SPARQL constraint for every focus node; rdflib's parser
    then dominates the run time (0.1 s per parse for a long query). The bindings still change per call.
    """

    def __init__(
        self, store: Store | str = "default", identifier: IdentifiedNode | str | None = None
    ) -> None:
        super().__init__(store=store, identifier=identifier)
        self._prepared: dict[str, Query] = {}

    def query(self, query_object: str | Query, *args: Any, **kwargs: Any) -> SPARQLResult:
        if isinstance(query_object, str):
            prepared = self._prepared.get(query_object)
            if prepared is None:
                prepared = self._prepared[query_object] = prepareQuery(query_object)
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


def _validation_graph(data: Graph, ontology: Graph | None) -> Graph:
    """The graph pyshacl reads: a view on ``data``'s triples, or a copy when the ontology is added."""
    if ontology is None and type(data) is Graph:
        return _QueryCachingGraph(store=data.store, identifier=data.identifier)
    combined = _QueryCachingGraph()
    for prefix, ns in data.namespace_manager.namespaces():
        combined.bind(prefix, ns, override=False)
    for triple in data.triples((None, None, None)):
        combined.add(triple)
    if ontology is not None:
        for triple in ontology.triples((None, None, None)):
            combined.add(triple)
    return combined


def _result(graph: Graph, node: Node, lookup: _SourceLookup) -> Result:
    focus = _one(graph, node, SH.focusNode)
    assert focus is not None, "a SHACL result always has a focus node"
    component = _one(graph, node, SH.sourceConstraintComponent)
    path_node = _one(graph, node, SH.resultPath)
    return Result(
        severity=Severity.from_iri(_one(graph, node, SH.resultSeverity) or SH.Violation),
        focus_node=focus,
        path=_to_path(graph, path_node) if path_node is not None else None,
        value=_one(graph, node, SH.value),
        constraint_component=component if isinstance(component, URIRef) else SH.ConstraintComponent,
        source_shape=_one(graph, node, SH.sourceShape) or BNode(),
        messages=_messages(graph, node),
        source=lookup.source_of(focus),
    )


def _messages(graph: Graph, node: Node) -> tuple[Literal, ...]:
    """The result's messages, each with its language tag.

    pyshacl drops the tag of a SPARQL constraint's message when it fills in ``{?var}``; the tag is
    recovered from the template (sh:message of the source constraint) the message was made from.
    """
    found = [m for m in graph.objects(node, SH.resultMessage) if isinstance(m, Literal)]
    templates: list[Literal] = []
    constraint = _one(graph, node, SH.sourceConstraint)
    if constraint is not None:
        templates = [
            t for t in graph.objects(constraint, SH.message) if isinstance(t, Literal) and t.language
        ]
    tagged = [_tag_language(m, templates) for m in found]
    return tuple(sorted(tagged, key=lambda m: (m.language or "", str(m))))


def _tag_language(message: Literal, templates: list[Literal]) -> Literal:
    if message.language or not templates:
        return message
    for template in templates:
        pattern = "".join(
            ".*?" if part.startswith("{") else re.escape(part) for part in _TEMPLATE_VAR.split(str(template))
        )
        if re.fullmatch(pattern, str(message), flags=re.DOTALL):
            return Literal(str(message), lang=template.language)
    return message


def _one(graph: Graph, subject: Node, predicate: URIRef) -> Node | None:
    return next(iter(graph.objects(subject, predicate)), None)


def _to_path(graph: Graph, node: Node) -> ResultPath:
    """A SHACL property path (as written in the results graph) as an rdflib path."""
    if isinstance(node, URIRef):
        return node
    inverse = _one(graph, node, SH.inversePath)
    if inverse is not None:
        return InvPath(_to_path(graph, inverse))
    alternatives = _one(graph, node, SH.alternativePath)
    if alternatives is not None:
        return AlternativePath(*(_to_path(graph, p) for p in Collection(graph, alternatives)))
    modifiers: tuple[tuple[URIRef, Literal_["*", "+", "?"]], ...] = (
        (SH.zeroOrMorePath, "*"),
        (SH.oneOrMorePath, "+"),
        (SH.zeroOrOnePath, "?"),
    )
    for predicate, modifier in modifiers:
        inner = _one(graph, node, predicate)
        if inner is not None:
            return MulPath(_to_path(graph, inner), modifier)
    if _one(graph, node, RDF.first) is not None:
        return SequencePath(*(_to_path(graph, p) for p in Collection(graph, node)))
    raise DataError("unknown SHACL path form in the validation results", value=str(node))


class _SourceLookup:
    """Finds ``file:line`` for a node by following ``prov:wasDerivedFrom`` to source records."""

    def __init__(self, data: Graph) -> None:
        self.data = data
        self._cache: dict[Node, str | None] = {}

    def source_of(self, node: Node) -> str | None:
        if node not in self._cache:
            self._cache[node] = self._compute(node)
        return self._cache[node]

    def _compute(self, node: Node) -> str | None:
        if isinstance(node, Literal):
            return None
        # A source record that fails its own shape is its own source.
        own = self._record_text(node, depth=_SOURCE_DEPTH - 1)
        if own is not None:
            return own
        texts = sorted(
            text
            for record in self.data.objects(node, PROV.wasDerivedFrom)
            if (text := self._record_text(record, depth=_SOURCE_DEPTH - 1)) is not None
        )
        return ", ".join(texts) if texts else None

    def _record_text(self, record: Node, *, depth: int) -> str | None:
        file = _one(self.data, record, BM.fichier)
        if file is None:
            return None
        line = _one(self.data, record, BM.ligne)
        end = _one(self.data, record, BM.ligneFin)
        text = f"{file}:{line}" if line is not None else str(file)
        if end is not None and end != line:
            text += f"-{end}"
        if depth > 0:
            parents = sorted(
                parent_text
                for parent in self.data.objects(record, PROV.wasDerivedFrom)
                if (parent_text := self._record_text(parent, depth=depth - 1)) is not None
            )
            if parents:
                text += f" (from {', '.join(parents)})"
        return text


# --- stores -----------------------------------------------------------------------------------------
def validate_store(store_path: Path, shapes_dir: Path) -> Report:
    """Validate the union of every named graph of the Oxigraph store at ``store_path``."""
    return validate_graph(load_store_graph(store_path), shapes_dir)


def load_store_graph(store_path: Path) -> Graph:
    """Every quad of the store (opened read-only) as one rdflib graph: the union of its named graphs.

    Iterating the quads and converting each distinct term once was measured about twice as fast as
    dumping N-Quads and parsing them with rdflib (300 000 triples: 6 s against 12 s).
    """
    if not store_path.is_dir():
        raise StoreError(
            f"no store at {store_path}: run `bassin-kg build` first, "
            "or pass --store PATH to an Oxigraph store"
        )
    try:
        store = ox.Store.read_only(str(store_path))
    except OSError as exc:
        raise StoreError(f"cannot open the Oxigraph store at {store_path}: {exc}") from None
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns, override=True)
    graph.addN((s, p, o, graph) for s, p, o in _triples(store))
    return graph


def _triples(store: ox.Store) -> Iterator[tuple[Node, Node, Node]]:
    cache: dict[object, Node] = {}

    def convert(term: object) -> Node:
        found = cache.get(term)
        if found is None:
            found = cache[term] = _to_rdflib(term)
        return found

    for quad in store.quads_for_pattern(None, None, None, None):
        yield convert(quad.subject), convert(quad.predicate), convert(quad.object)


def _to_rdflib(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise StoreError(f"unsupported RDF term in the store: {term!r} (RDF-star triples are not used here)")
