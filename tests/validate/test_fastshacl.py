"""The fast engine (shapes compiled to SPARQL) reports exactly what pyshacl reports, on valid and broken data.

Every shapes fixture of tests/shapes/ (each profile's valid and invalid examples, validated with
tests/shapes/context.ttl) goes through both engines, and so does the committed BMO extract, whole and
damaged on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS, XSD
from rdflib.term import Node

from bassin_kg.namespaces import BM, SDMX_ATT, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources import bmo, occupations, territories
from bassin_kg.sources.base import ConvertContext
from bassin_kg.validate import Report, Result, load_shapes, validate_graph
from bassin_kg.validate.fastshacl import UnsupportedShapeError, compile_shapes

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
FIXTURES = ROOT / "tests" / "shapes"
IRIS = Iris()
EX = Namespace("http://example.org/synthetic/")


def _value(node: Node | None) -> object:
    """A value as compared across engines: Oxigraph keeps numbers in canonical form ("2.0" -> "2")."""
    if isinstance(node, Literal) and node.value is not None and not isinstance(node.value, str):
        return (node.value, node.datatype)
    return node


def _described(report: Report, result: Result) -> tuple[object, ...]:
    """Everything a rendered result shows: what, where, how serious, the messages, the value, the shape."""
    shape = report.shape_owners.get(result.source_shape, result.source_shape)
    return (
        result.key(),
        result.severity,
        result.messages and result.message,
        result.source,
        _value(result.value),
        None if isinstance(shape, BNode) else shape,  # a nested shape's blank node id is per parse
    )


def assert_same_results(graph: Graph, *, ontology: Graph | None = None) -> Report:
    fast = validate_graph(graph, SHAPES, ontology=ontology)
    reference = validate_graph(graph, SHAPES, ontology=ontology, engine="pyshacl")
    assert (fast.engine, reference.engine) == ("fast", "pyshacl")
    assert fast.tuples() == reference.tuples()
    assert len(fast.results) == len(reference.results)
    assert {_described(fast, r) for r in fast.results} == {
        _described(reference, r) for r in reference.results
    }
    assert fast.conforms == reference.conforms
    return fast


# --- every shapes fixture -----------------------------------------------------------------------------
def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*/*.ttl")), ids=fixture_id)
def test_both_engines_agree_on_every_shapes_fixture(path: Path) -> None:
    graph = Graph()
    graph.parse(FIXTURES / "context.ttl", format="turtle")
    graph.parse(path, format="turtle")
    report = assert_same_results(graph)
    assert report.conforms is path.name.startswith("valid-") or report.violations == []


def test_every_profile_is_compared() -> None:
    profiles = {p.parent.name for p in FIXTURES.glob("*/invalid-*.ttl")}
    assert profiles == {"territory", "swot", "occupation", "actor", "observation", "provenance"}


# --- the committed BMO extract ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data() -> Graph:
    """The committed BMO extract with the FAP-2021 scheme and the basin's territories."""
    ctx = ConvertContext(Settings(root=ROOT), IRIS)
    graph = Graph()
    for part in [*bmo.convert(ctx), *territories.convert(ctx)]:
        graph += part.graph
    fap2021_part, _scheme = occupations.convert_fap2021(ctx)
    graph += fap2021_part.graph
    for code in territories.BASIN_ZE2010:
        # the deck graph gives these zones their label (MODEL.md); it is not loaded here
        graph.add((IRIS.ze2010(code), SKOS.prefLabel, Literal(f"zone {code}", lang="fr")))
    return graph


def test_valid_data_conforms_in_both(data: Graph) -> None:
    assert assert_same_results(data).results == []


def test_broken_data_gives_the_same_results(data: Graph) -> None:
    broken = Graph()
    broken += data
    obs = IRIS.observation("bmo-2024", "bassin-bmo-3220", "A0X40")
    secret = IRIS.observation("bmo-2024", "bassin-bmo-3225", "A0X41")
    # SYNTHETIC damage, one per kind of constraint
    broken.remove((obs, BM.projetsRecrutement, None))  # minCount (no obsStatus)
    broken.add((obs, BM.projetsDifficiles, Literal("beaucoup")))  # datatype, maxCount
    broken.add((obs, BM.partProjetsDifficiles, Literal("150.0", datatype=XSD.decimal)))  # maxInclusive
    broken.add((secret, SDMX_ATT.obsStatus, Literal("secret")))  # nodeKind, maxCount
    concept = IRIS.fap2021("A0X40")
    broken.add((concept, SKOS.prefLabel, Literal("Autre", lang="fr")))  # uniqueLang
    broken.add((EX.actor, RDF.type, BM.Acteur))  # sh:or at node level, minCount
    broken.add((EX.record, RDF.type, BM.EnregistrementSource))  # minCount of file and line
    broken.add((EX.record, BM.ligne, Literal(9, datatype=XSD.integer)))
    broken.add((EX.record, BM.ligneFin, Literal(3, datatype=XSD.integer)))  # lessThanOrEquals
    assert len(assert_same_results(broken).violations) >= 9


def test_results_name_the_source_line(data: Graph) -> None:
    broken = Graph()
    broken += data
    obs = IRIS.observation("bmo-2024", "bassin-bmo-3220", "A0X40")
    broken.add((obs, BM.projetsDifficiles, Literal(-1, datatype=XSD.integer)))
    report = validate_graph(broken, SHAPES)
    sources = {r.source for r in report.violations}
    assert sources == {"data/sources/bmo/bmo2024_bassin_minier_extract.csv:2"}


# --- the compiler ---------------------------------------------------------------------------------------
SYNTHETIC_PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/synthetic/> .
"""


def test_unsupported_feature_is_refused_not_skipped() -> None:
    # SYNTHETIC shapes using sh:node, which the compiler does not handle
    shapes = Graph().parse(
        data=SYNTHETIC_PREFIXES + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:Other .",
        format="turtle",
    )
    with pytest.raises(UnsupportedShapeError, match="node"):
        compile_shapes(shapes)


def test_unsupported_shapes_fall_back_to_pyshacl_and_say_so(tmp_path: Path) -> None:
    # SYNTHETIC shapes: sh:node is not compiled, so pyshacl runs, and finds the violation
    (tmp_path / "node.ttl").write_text(
        SYNTHETIC_PREFIXES
        + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:Named .\n"
        + "ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ] .\n",
        encoding="utf-8",
    )
    data = Graph()
    data.add((EX.thing, RDF.type, EX.C))
    report = validate_graph(data, tmp_path)
    assert report.engine == "pyshacl"
    assert len(report.notes) == 1
    assert "node" in report.notes[0]
    assert (EX.thing, None, URIRef("http://www.w3.org/ns/shacl#NodeConstraintComponent")) in report.tuples()
    assert not report.conforms


def test_this_is_bound_in_every_group_of_a_sparql_constraint(tmp_path: Path) -> None:
    # SYNTHETIC: $this used only inside a UNION branch's NOT EXISTS, which SPARQL evaluates on its own;
    # the '{' and '$this' inside the string literal are left alone
    (tmp_path / "union.ttl").write_text(
        SYNTHETIC_PREFIXES
        + '''ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:sparql [ sh:message "ex:p missing or odd" ; sh:select """
                SELECT $this ?value WHERE {
                    { FILTER NOT EXISTS { $this <http://example.org/synthetic/p> ?any } }
                    UNION
                    { $this <http://example.org/synthetic/p> ?value . FILTER (?value = "{ $this }") }
                }""" ] .
        ''',
        encoding="utf-8",
    )
    data = Graph()
    for thing in (EX.without, EX.braces, EX.fine):
        data.add((thing, RDF.type, EX.C))
    data.add((EX.braces, EX.p, Literal("{ $this }")))
    data.add((EX.fine, EX.p, Literal("ok")))
    fast = validate_graph(data, tmp_path)
    reference = validate_graph(data, tmp_path, engine="pyshacl")
    component = URIRef("http://www.w3.org/ns/shacl#SPARQLConstraintComponent")
    assert (
        fast.tuples() == reference.tuples() == {(EX.without, None, component), (EX.braces, None, component)}
    )
    assert {r.value for r in fast.results} == {EX.without, Literal("{ $this }")}


def test_every_project_shape_compiles() -> None:
    checks = compile_shapes(load_shapes(SHAPES))
    assert checks
    assert all(URIRef(str(c.component)).startswith("http://www.w3.org/ns/shacl#") for c in checks)
