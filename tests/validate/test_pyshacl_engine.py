"""The pyshacl wrapper: only the report's own results, the shapes' prefixes, severities as written.

Each test is a defect a W3C SHACL test run found (tests/validate/test_w3c.py runs the whole suite).
"""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import SH

from bassin_kg.validate import Severity, pyshacl_engine, validate_rdf

EX = Namespace("http://example.org/synthetic/")
PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/synthetic/> .
"""


def _graph(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle")


def test_nested_detail_results_are_not_results() -> None:
    # SYNTHETIC: sh:node fails; pyshacl also writes the inner minCount result, as sh:detail
    shapes = _graph(
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:node ex:Named .\n"
        "ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] ."
    )
    results, _ = pyshacl_engine.validate(_graph("ex:a ex:other 1 ."), shapes)
    assert [(r.focus_node, r.constraint_component) for r in results] == [(EX.a, SH.NodeConstraintComponent)]


def test_a_sparql_constraint_may_use_the_shapes_graph_prefixes() -> None:
    # SYNTHETIC: the query says ex: without sh:prefixes, as W3C sparql/node/prefixes-001 does through
    # owl:imports; the data graph declares no prefix at all
    shapes = _graph(
        'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select """'
        'SELECT $this WHERE { $this ex:p ?v }""" ] .'
    )
    data = Graph(bind_namespaces="none")
    data.add((EX.a, EX.p, Literal(1)))
    results, _ = pyshacl_engine.validate(data, shapes)
    assert [r.focus_node for r in results] == [EX.a]


def test_a_custom_severity_is_kept_and_a_warning_fails_the_standard_report() -> None:
    shapes = _graph(
        "ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ; "
        "sh:severity ex:Mine ] , [ sh:path ex:q ; sh:minCount 1 ; sh:severity sh:Warning ] ."
    )
    for engine in ("fast", "pyshacl"):
        report = validate_rdf(_graph("ex:a ex:r 1 ."), shapes, engine=engine)  # type: ignore[arg-type]
        severities = {r.path: r.severity_term for r in report.results}
        assert severities == {EX.p: EX.Mine, EX.q: SH.Warning}, engine
        # a custom severity counts as a violation for the project's verdict
        assert [r.severity for r in report.results if r.path == EX.p] == [Severity.VIOLATION]
        only_warning = validate_rdf(_graph("ex:a ex:p 1 ."), shapes, engine=engine)  # type: ignore[arg-type]
        assert only_warning.conforms, engine  # the project's verdict: a warning does not fail a build
        assert not only_warning.shacl_conforms, engine  # SHACL's: any result is non-conformance
        standard = only_warning.to_graph()
        assert (None, SH.conforms, Literal(False)) in standard
        assert URIRef(SH.Warning) in set(standard.objects(None, SH.resultSeverity))
