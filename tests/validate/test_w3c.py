"""The W3C SHACL test suite (121 tests), run through the public entry point the CLI uses.

The suite is ``tests/fixtures/w3c-shacl-tests/tests/``, a copy of https://github.com/w3c/data-shapes
``data-shapes-test-suite/tests`` (its README gives the origin and licence; the files are unchanged).
Each ``sht:Validate`` test reads its data and shapes with :func:`bassin_kg.validate.read_rdf` and
validates them with :func:`bassin_kg.validate.validate_rdf`, the two calls of ``bassin-kg validate
--data … --shapes …``; the standard report (:meth:`Report.to_graph`, what ``--format turtle`` prints)
must then match the expected one: ``sh:conforms``, and the set of (focus node, path, value, source
shape, constraint component, severity) of its results. Messages are not compared. A test whose
expected result is ``sht:Failure`` must raise. The engine that ran is counted: the fast compiler must
answer for most tests itself, and never wrongly (a wrong compiled answer fails the test like any other).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from bassin_kg.errors import DataError
from bassin_kg.validate import Report, read_rdf, validate_rdf
from bassin_kg.validate.pyshacl_engine import _to_path
from bassin_kg.validate.report import ResultPath

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "tests" / "fixtures" / "w3c-shacl-tests" / "tests"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
#: pyshacl, the fallback, does not support $shapesGraph; the compiler refuses it too
EXPECTED_FAILURES = {"sparql/pre-binding/shapesGraph-001"}
#: how many tests each engine answers (the compiler's share is the point of tests/validate/test_fastshacl.py)
ENGINES = {"fast": 105, "pyshacl": 8}

Row = tuple[Node, ResultPath | None, Node | None, Node, Node, Node]


@dataclass(frozen=True)
class W3CTest:
    name: str
    #: the manifest file and its graph (most tests keep their data and shapes in it)
    file: Path
    manifest: Graph
    node: URIRef
    data: Path
    shapes: Path

    @property
    def expected(self) -> Node:
        result = self.manifest.value(self.node, MF.result)
        assert result is not None, f"{self.name} has no mf:result"
        return result


def _file(uri: Node) -> Path:
    assert str(uri).startswith("file://"), uri
    return Path(str(uri)[len("file://") :])


def _collect() -> list[W3CTest]:
    """Every test of the suite, following mf:include from the top manifest."""
    found: list[W3CTest] = []

    def walk(path: Path) -> None:
        graph = read_rdf([path])
        manifest = URIRef(path.as_uri())
        for included in graph.objects(manifest, MF.include):
            walk(_file(included))
        for entries in graph.objects(manifest, MF.entries):
            for node in Collection(graph, entries):
                assert isinstance(node, URIRef)
                action = graph.value(node, MF.action)
                data, shapes = graph.value(action, SHT.dataGraph), graph.value(action, SHT.shapesGraph)
                assert data is not None, node
                assert shapes is not None, node
                name = str(node)[len(SUITE.as_uri()) + 1 :]
                found.append(W3CTest(name, path, graph, node, _file(data), _file(shapes)))

    if SUITE.is_dir():
        walk(SUITE / "manifest.ttl")
        # TEST-LIST.txt counts sparql/component/nodeValidator-001 (mf:status sht:proposed), which no
        # manifest includes: every test file of the tree is read
        reached = {t.file for t in found}
        for path in sorted(SUITE.glob("*/*/*.ttl")):
            if (
                path not in reached
                and path.stem != "manifest"
                and not path.stem.endswith(("-data", "-shapes"))
            ):
                graph = read_rdf([path])
                if (URIRef(path.as_uri()), MF.entries, None) in graph:
                    walk(path)
    return sorted(found, key=lambda t: t.name)


TESTS = _collect()


def _graph(test: W3CTest, path: Path) -> Graph:
    # the manifest's own file is read once: the expected report then names the data's very blank nodes
    return test.manifest if path == test.file else read_rdf([path])


def _rows(graph: Graph, report: Node) -> set[Row]:
    rows: set[Row] = set()
    for result in graph.objects(report, SH.result):
        path = graph.value(result, SH.resultPath)
        rows.add(
            (
                graph.value(result, SH.focusNode),  # type: ignore[arg-type]
                _to_path(graph, path) if path is not None else None,
                graph.value(result, SH.value),
                graph.value(result, SH.sourceShape),  # type: ignore[arg-type]
                graph.value(result, SH.sourceConstraintComponent),  # type: ignore[arg-type]
                graph.value(result, SH.resultSeverity),  # type: ignore[arg-type]
            )
        )
    return rows


def _check(test: W3CTest) -> Report:
    data, shapes = _graph(test, test.data), _graph(test, test.shapes)
    if test.expected == SHT.Failure:
        with pytest.raises(DataError):
            validate_rdf(data, shapes)
        return Report(engine="refused")
    report = validate_rdf(data, shapes)
    standard = report.to_graph()
    (report_node,) = standard.subjects(RDF.type, SH.ValidationReport)
    expected_conforms = test.manifest.value(test.expected, SH.conforms)
    assert standard.value(report_node, SH.conforms) == expected_conforms, report.notes
    assert _rows(standard, report_node) == _rows(test.manifest, test.expected), report.notes
    return report


def test_the_suite_is_there() -> None:
    assert len(TESTS) == 121, f"expected the 121 tests of the W3C SHACL suite in {SUITE}"


@pytest.mark.parametrize(
    "test",
    [
        pytest.param(t, marks=pytest.mark.xfail(strict=True, reason="$shapesGraph: pyshacl fails it too"))
        if t.name in EXPECTED_FAILURES
        else t
        for t in TESTS
    ],
    ids=lambda t: t.name,
)
def test_w3c(test: W3CTest) -> None:
    _check(test)


def test_the_compiler_answers_most_tests_itself() -> None:
    """Which engine ran each test (the fast compiler, or pyshacl after a refusal), run after the suite."""
    engines: Counter[str] = Counter()
    for test in TESTS:
        if test.name in EXPECTED_FAILURES:
            continue
        engines[_check(test).engine] += 1
    assert engines["refused"] == 7  # the sht:Failure tests
    assert {k: v for k, v in engines.items() if k != "refused"} == ENGINES
