"""The validation report: results with severities, bilingual messages and the ``file:line`` they came from.

Both engines (:mod:`.fastshacl` and :mod:`.pyshacl_engine`) fill the same :class:`Report`. Each result
gives the ``file:line`` of its source record, found by following ``prov:wasDerivedFrom`` from the
focus node (:class:`SourceLookup`).
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.paths import Path as PropertyPath
from rdflib.term import Node

from bassin_kg.namespaces import BM, DEFAULT_BASE, PREFIXES

PROV = Namespace(PREFIXES["prov"])
#: namespace of the shapes themselves (fixed, like the ontology's)
BMSH = Namespace(DEFAULT_BASE + "def/shapes#")
#: how far to follow prov:wasDerivedFrom from a focus node (curated row, then the deck line it came from)
_SOURCE_DEPTH = 2

ResultPath = URIRef | PropertyPath


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
    #: the severity as written when the shapes use one of their own (the enum then says VIOLATION)
    severity_iri: URIRef | None = None

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

    @property
    def severity_term(self) -> URIRef:
        """sh:resultSeverity as the shapes wrote it (a custom severity is kept)."""
        return self.severity_iri or self.severity.iri

    def key(self) -> tuple[Node, ResultPath | None, URIRef]:
        """(focus node, path, constraint component): what tests compare."""
        return (self.focus_node, self.path, self.constraint_component)


@dataclass
class Report:
    """What a validation found.

    ``conforms`` is the project's verdict (no violation; warnings do not fail a build); the standard
    report's ``sh:conforms`` (:attr:`shacl_conforms`, :meth:`to_graph`) is false on any result.
    """

    results: list[Result] = field(default_factory=list)
    #: prefixes used to print IRIs as prefixed names
    prefixes: dict[str, str] = field(default_factory=dict)
    #: seconds spent validating (for the build report)
    elapsed: float = 0.0
    #: named node shape holding each anonymous property shape, to print where a rule is written
    shape_owners: dict[Node, Node] = field(default_factory=dict)
    #: the engine that produced the results: "fast" (shapes compiled to SPARQL) or "pyshacl"
    engine: str = "pyshacl"
    #: what the caller should tell the user (e.g. why the slower engine ran)
    notes: list[str] = field(default_factory=list)
    #: the shapes validated against: the standard report copies the blank-node shapes it names
    shapes_graph: Graph | None = None

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def shacl_conforms(self) -> bool:
        """SHACL's sh:conforms: true iff there is no result at all, whatever its severity."""
        return not self.results

    @property
    def engine_label(self) -> str:
        return ENGINE_LABELS.get(self.engine, self.engine)

    def to_graph(self) -> Graph:
        """The standard ``sh:ValidationReport`` (SHACL 3.6), with a comment naming the engine."""
        graph = _namespace_graph(self.prefixes)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.shacl_conforms)))
        graph.add((report, RDFS.comment, Literal(f"bassin-kg validate, engine: {self.engine_label}")))
        for note in self.notes:
            graph.add((report, RDFS.comment, Literal(note)))
        copied: set[Node] = set()
        for result in sorted(self.results, key=self._sort_key):
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.focusNode, result.focus_node))
            graph.add((node, SH.resultSeverity, result.severity_term))
            graph.add((node, SH.sourceConstraintComponent, result.constraint_component))
            graph.add((node, SH.sourceShape, result.source_shape))
            if result.path is not None:
                graph.add((node, SH.resultPath, _path_node(graph, result.path)))
            if result.value is not None:
                graph.add((node, SH.value, result.value))
            for message in result.messages:
                graph.add((node, SH.resultMessage, message))
            if isinstance(result.source_shape, BNode) and self.shapes_graph is not None:
                _copy_description(self.shapes_graph, result.source_shape, graph, copied)
        return graph

    def to_turtle(self) -> str:
        """The standard report in Turtle, headed by the engine that ran."""
        head = f"# SHACL validation report; engine: {self.engine_label}\n"
        head += "".join(f"# note: {note}\n" for note in self.notes)
        return head + self.to_graph().serialize(format="turtle")

    def to_json(self) -> str:
        """The results as JSON: terms in N-Triples form, paths in SPARQL syntax."""
        namespaces = Graph(bind_namespaces="none").namespace_manager

        def term(node: Node | None) -> str | None:
            return None if node is None else node.n3()

        body = {
            "conforms": self.shacl_conforms,
            "engine": self.engine,
            "notes": self.notes,
            "summary": self.summary(),
            "results": [
                {
                    "focusNode": term(r.focus_node),
                    "resultPath": None if r.path is None else r.path.n3(namespaces),
                    "value": term(r.value),
                    "sourceShape": term(r.source_shape),
                    "sourceConstraintComponent": str(r.constraint_component),
                    "resultSeverity": str(r.severity_term),
                    "resultMessage": [str(m) for m in r.messages],
                    "source": r.source,
                }
                for r in sorted(self.results, key=self._sort_key)
            ],
        }
        return json.dumps(body, ensure_ascii=False, indent=2) + "\n"

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

    def verdict(self) -> str:
        """'conforms' or 'conforms, 2 warning(s)': the validation line of summaries and manifests."""
        return "conforms" + (f", {len(self.warnings)} warning(s)" if self.warnings else "")

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


#: what each engine is, for the reports
ENGINE_LABELS = {
    "fast": "fast (shapes compiled to SPARQL, run in Oxigraph)",
    "pyshacl": "pyshacl (the reference SHACL engine)",
}


def _path_node(graph: Graph, path: ResultPath) -> Node:
    """A property path written as SHACL writes it (sh:inversePath, RDF lists, sh:zeroOrMorePath…)."""
    if isinstance(path, URIRef):
        return path
    node = BNode()
    if isinstance(path, InvPath):
        graph.add((node, SH.inversePath, _path_node(graph, path.arg)))
    elif isinstance(path, SequencePath):
        Collection(graph, node, [_path_node(graph, p) for p in path.args])
    elif isinstance(path, AlternativePath):
        members = BNode()
        Collection(graph, members, [_path_node(graph, p) for p in path.args])
        graph.add((node, SH.alternativePath, members))
    elif isinstance(path, MulPath):
        modifier = {"*": SH.zeroOrMorePath, "+": SH.oneOrMorePath, "?": SH.zeroOrOnePath}[path.mod]
        graph.add((node, modifier, _path_node(graph, path.path)))
    else:  # pragma: no cover - the engines build only these path forms
        raise TypeError(f"unknown property path {path!r}")
    return node


def _copy_description(source: Graph, node: Node, target: Graph, copied: set[Node]) -> None:
    """Copy ``node``'s triples, and those of the blank nodes they reach (a blank-node shape)."""
    if node in copied:
        return
    copied.add(node)
    for predicate, value in source.predicate_objects(node):
        target.add((node, predicate, value))
        if isinstance(value, BNode):
            _copy_description(source, value, target, copied)


def _is_simple_local(local: str) -> bool:
    return all(c.isalnum() or c in "-_." for c in local) and not local.endswith(".")


def _namespace_graph(prefixes: dict[str, str]) -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, ns in prefixes.items():
        graph.bind(prefix, ns, override=True)
    return graph


def report_prefixes(data: Graph | None = None) -> dict[str, str]:
    """The project's prefixes, the shapes' (bmsh:, sh:), then those ``data`` binds to other namespaces."""
    prefixes = dict(PREFIXES)
    prefixes["bmsh"] = str(BMSH)
    prefixes["sh"] = str(SH)
    if data is not None:
        for prefix, ns in data.namespace_manager.namespaces():
            if prefix and str(ns) not in prefixes.values():
                prefixes.setdefault(prefix, str(ns))
    return prefixes


def shape_owners(shapes: Graph) -> dict[Node, Node]:
    """Anonymous property shapes (and SPARQL constraints) -> the named shape that lists them.

    Both engines name a result's shape by the shapes graph's own node (pyshacl keeps blank node ids
    when it copies a shape into its results), so the ids match.
    """
    owners: dict[Node, Node] = {}
    for predicate in (SH.property, SH.sparql):
        for owner, child in shapes.subject_objects(predicate):
            if isinstance(child, BNode) and isinstance(owner, URIRef):
                owners[child] = owner
    return owners


class SourceLookup:
    """Finds ``file:line`` for a node by following ``prov:wasDerivedFrom`` to source records.

    ``objects(subject, predicate)`` reads the data (an rdflib graph's ``objects``, or the same over an
    Oxigraph store), so both engines print the same sources.
    """

    def __init__(self, objects: Callable[[Node, URIRef], Iterable[Node]]) -> None:
        self.objects = objects
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
            for record in self.objects(node, PROV.wasDerivedFrom)
            if (text := self._record_text(record, depth=_SOURCE_DEPTH - 1)) is not None
        )
        return ", ".join(texts) if texts else None

    def _record_text(self, record: Node, *, depth: int) -> str | None:
        file = self._one(record, BM.fichier)
        if file is None:
            return None
        line = self._one(record, BM.ligne)
        end = self._one(record, BM.ligneFin)
        text = f"{file}:{line}" if line is not None else str(file)
        if end is not None and end != line:
            text += f"-{end}"
        if depth > 0:
            parents = sorted(
                parent_text
                for parent in self.objects(record, PROV.wasDerivedFrom)
                if (parent_text := self._record_text(parent, depth=depth - 1)) is not None
            )
            if parents:
                text += f" (from {', '.join(parents)})"
        return text

    def _one(self, subject: Node, predicate: URIRef) -> Node | None:
        # the least of several values (a record with two files is invalid): the same in either engine
        return min(self.objects(subject, predicate), key=str, default=None)
