"""The compiled SHACL validator reports exactly what pyshacl reports, on valid and broken data."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, SKOS, XSD

from bassin_kg.convert import ConvertContext, occupations, territories
from bassin_kg.ingest import bmo
from bassin_kg.ingest.fastshacl import UnsupportedShapeError, compile_shapes, validate_rdflib
from bassin_kg.namespaces import BM, SDMX_ATT, Iris
from bassin_kg.settings import Settings
from bassin_kg.validate import load_shapes, validate_graph

ROOT = Path(__file__).resolve().parents[2]
SHAPES = ROOT / "shapes"
IRIS = Iris()
EX = Namespace("http://example.org/synthetic/")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes(SHAPES)


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


def _same_as_pyshacl(graph: Graph, shapes: Graph) -> int:
    fast = validate_rdflib(graph, shapes)
    slow = validate_graph(graph, SHAPES)
    assert fast.tuples() == slow.tuples()
    assert fast.conforms == slow.conforms
    return len(fast.violations)


def test_valid_data_conforms_in_both(data: Graph, shapes: Graph) -> None:
    assert _same_as_pyshacl(data, shapes) == 0


def test_broken_data_gives_the_same_results(data: Graph, shapes: Graph) -> None:
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
    assert _same_as_pyshacl(broken, shapes) >= 9


def test_results_name_the_source_line(data: Graph, shapes: Graph) -> None:
    broken = Graph()
    broken += data
    obs = IRIS.observation("bmo-2024", "bassin-bmo-3220", "A0X40")
    broken.add((obs, BM.projetsDifficiles, Literal(-1, datatype=XSD.integer)))
    report = validate_rdflib(broken, shapes)
    sources = {r.source for r in report.violations}
    assert sources == {"data/sources/bmo/bmo2024_bassin_minier_extract.csv:2"}


def test_unsupported_feature_is_refused_not_skipped() -> None:
    # SYNTHETIC shapes using sh:node, which the compiler does not handle
    shapes = Graph().parse(
        data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <http://example.org/synthetic/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:node ex:Other .
        """,
        format="turtle",
    )
    with pytest.raises(UnsupportedShapeError, match="node"):
        compile_shapes(shapes)


def test_every_project_shape_compiles(shapes: Graph) -> None:
    checks = compile_shapes(shapes)
    assert checks
    assert all(URIRef(str(c.component)).startswith("http://www.w3.org/ns/shacl#") for c in checks)
