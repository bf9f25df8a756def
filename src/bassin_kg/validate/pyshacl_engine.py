"""pyshacl, the reference engine: slower, but the whole of SHACL (with SHACL Advanced Features).

The shapes' SPARQL targets need SHACL-AF, so pyshacl runs with ``advanced=True``; pyshacl runs a SPARQL
constraint once per focus node, so its text is parsed once (:class:`_QueryCachingGraph`). Only the
report's own results are read: the ``sh:detail`` results nested in them (sh:node, sh:not…) explain a
result, they are not results of the validation.
"""

from __future__ import annotations

import re
import time
import warnings
from typing import Any
from typing import Literal as Literal_

from pyshacl import validate as shacl_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result as SPARQLResult
from rdflib.store import Store
from rdflib.term import IdentifiedNode, Node

from bassin_kg.errors import DataError
from bassin_kg.validate.report import Result, ResultPath, Severity, SourceLookup

_TEMPLATE_VAR = re.compile(r"(\{[?$][A-Za-z_][A-Za-z0-9_]*\})")


def validate(data: Graph, shapes: Graph, *, ontology: Graph | None = None) -> tuple[list[Result], float]:
    """pyshacl's results on ``data`` (with ``ontology`` added to a copy), and the seconds it took.

    A shapes graph pyshacl rejects (ill-formed SHACL, a SPARQL query SHACL forbids) is a
    :class:`~bassin_kg.errors.DataError`.
    """
    target = _validation_graph(data, ontology, shapes)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            # pyshacl warns about shapes it reads leniently; under `pytest -W error` that would abort
            warnings.simplefilter("ignore")
            _conforms, results_graph, _text = shacl_validate(
                target,
                shacl_graph=shapes,
                inference="none",
                # SHACL Advanced Features for the SPARQL targets of shapes/ (one query per rule, not per node)
                advanced=True,
                allow_warnings=True,
                # the shapes hold no rules, so nothing is written to the data graph: no need for a copy
                inplace=True,
            )
    except ReportableRuntimeError as exc:
        raise DataError(
            f"the shapes are not valid SHACL: {exc.message}",
            hint="fix the shapes (pyshacl, the reference validator, rejects them)",
        ) from None
    elapsed = time.perf_counter() - start
    if isinstance(results_graph, ReportableRuntimeError):  # pyshacl returns, not raises, some failures
        raise DataError(
            f"the shapes cannot be validated against: {results_graph.message}",
            hint="fix the shapes (pyshacl, the reference validator, rejects them)",
        )
    if not isinstance(results_graph, Graph):  # pragma: no cover - pyshacl returns a Graph unless serialised
        raise TypeError(f"pyshacl returned {type(results_graph).__name__}, expected an rdflib Graph")
    lookup = SourceLookup(data.objects)
    results = [
        _result(results_graph, node, lookup)
        for report in results_graph.subjects(RDF.type, SH.ValidationReport)
        for node in results_graph.objects(report, SH.result)
    ]
    return results, elapsed


class _QueryCachingGraph(Graph):
    """A graph that parses each distinct SPARQL text once.

    pyshacl hands rdflib the query text of a SPARQL constraint for every focus node; rdflib's parser
    then dominates the run time (0.1 s per parse for a long query). The bindings still change per call.
    """

    def __init__(
        self,
        store: Store | str = "default",
        identifier: IdentifiedNode | str | None = None,
        *,
        namespaces: dict[str, str] | None = None,
    ) -> None:
        super().__init__(store=store, identifier=identifier)
        self._prepared: dict[str, Query] = {}
        #: prefixes a query may use without declaring them: rdflib's Graph.query would take the data
        #: graph's; the shapes graph's are added (W3C sparql/node/prefixes-001 relies on them)
        self._namespaces = namespaces or {}

    def query(self, query_object: str | Query, *args: Any, **kwargs: Any) -> SPARQLResult:
        if isinstance(query_object, str):
            prepared = self._prepared.get(query_object)
            if prepared is None:
                namespaces = {**self._namespaces, **{p: str(n) for p, n in self.namespaces()}}
                namespaces.update(kwargs.get("initNs") or {})
                prepared = self._prepared[query_object] = prepareQuery(query_object, initNs=namespaces)
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


def _validation_graph(data: Graph, ontology: Graph | None, shapes: Graph) -> Graph:
    """The graph pyshacl reads: a view on ``data``'s triples, or a copy when the ontology is added."""
    namespaces = {prefix: str(ns) for prefix, ns in shapes.namespaces() if prefix}
    if ontology is None and type(data) is Graph:
        return _QueryCachingGraph(store=data.store, identifier=data.identifier, namespaces=namespaces)
    combined = _QueryCachingGraph(namespaces=namespaces)
    for prefix, ns in data.namespace_manager.namespaces():
        combined.bind(prefix, ns, override=False)
    for triple in data.triples((None, None, None)):
        combined.add(triple)
    if ontology is not None:
        for triple in ontology.triples((None, None, None)):
            combined.add(triple)
    return combined


def _result(graph: Graph, node: Node, lookup: SourceLookup) -> Result:
    focus = _one(graph, node, SH.focusNode)
    assert focus is not None, "a SHACL result always has a focus node"
    component = _one(graph, node, SH.sourceConstraintComponent)
    path_node = _one(graph, node, SH.resultPath)
    severity_iri = _one(graph, node, SH.resultSeverity) or SH.Violation
    severity = Severity.from_iri(severity_iri)
    return Result(
        severity=severity,
        focus_node=focus,
        path=_to_path(graph, path_node) if path_node is not None else None,
        value=_one(graph, node, SH.value),
        constraint_component=component if isinstance(component, URIRef) else SH.ConstraintComponent,
        source_shape=_one(graph, node, SH.sourceShape) or BNode(),
        messages=_messages(graph, node),
        source=lookup.source_of(focus),
        severity_iri=severity_iri
        if isinstance(severity_iri, URIRef) and severity_iri != severity.iri
        else None,
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
