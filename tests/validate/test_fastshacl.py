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
from rdflib.paths import MulPath
from rdflib.term import Node

from bassin_kg.namespaces import BM, SDMX_ATT, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources import bmo, occupations, territories
from bassin_kg.sources.base import ConvertContext
from bassin_kg.validate import Report, Result, load_shapes, validate_graph, validate_ntriples, validate_rdf
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
    # the build's and the ingest's path: N-Triples bulk-loaded, numbers kept in canonical form
    # (validate_graph would run pyshacl on a fixture's "2.0"^^xsd:decimal, which Oxigraph stores as 2)
    fast = validate_ntriples([graph.serialize(format="nt", encoding="utf-8")], SHAPES, ontology=ontology)
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
    obs = IRIS.observation("bmo-2024", "bassin-bmo-3220", "departement-59", "A0X40")
    secret = IRIS.observation("bmo-2024", "bassin-bmo-3225", "departement-62", "A0X41")
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
    obs = IRIS.observation("bmo-2024", "bassin-bmo-3220", "departement-59", "A0X40")
    broken.add((obs, BM.projetsDifficiles, Literal(-1, datatype=XSD.integer)))
    report = validate_graph(broken, SHAPES)
    sources = {r.source for r in report.violations}
    assert sources == {"data/sources/bmo/bmo2024_bassin_minier_extract.csv:2"}


# --- the compiler ---------------------------------------------------------------------------------------
SYNTHETIC_PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <http://example.org/synthetic/> .
"""


def test_unsupported_feature_is_refused_not_skipped() -> None:
    # SYNTHETIC shapes: Oxigraph stores "-1"^^xsd:nonNegativeInteger as an xsd:integer, so no compiled
    # check could tell its datatype or that it is ill-formed
    shapes = Graph().parse(
        data=SYNTHETIC_PREFIXES
        + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        + "sh:property [ sh:path ex:size ; sh:datatype xsd:nonNegativeInteger ] .",
        format="turtle",
    )
    with pytest.raises(UnsupportedShapeError, match="nonNegativeInteger"):
        compile_shapes(shapes)


def test_unsupported_shapes_fall_back_to_pyshacl_and_say_so(tmp_path: Path) -> None:
    # SYNTHETIC shapes and data: pyshacl runs, and finds the ill-formed literal
    (tmp_path / "size.ttl").write_text(
        SYNTHETIC_PREFIXES
        + "ex:S a sh:NodeShape ; sh:targetClass ex:C ; "
        + "sh:property [ sh:path ex:size ; sh:datatype xsd:nonNegativeInteger ] .\n",
        encoding="utf-8",
    )
    data = Graph()
    data.add((EX.thing, RDF.type, EX.C))
    data.add((EX.thing, EX.size, Literal("-1", datatype=XSD.nonNegativeInteger)))
    report = validate_graph(data, tmp_path)
    assert report.engine == "pyshacl"
    assert len(report.notes) == 1
    assert "nonNegativeInteger" in report.notes[0]
    assert (
        EX.thing,
        EX.size,
        URIRef("http://www.w3.org/ns/shacl#DatatypeConstraintComponent"),
    ) in report.tuples()
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


# --- the misses of the earlier compiler: each case compiled exactly, or refused --------------------------
MISSES = {
    # name: (SYNTHETIC shapes, SYNTHETIC data, expected (focus, path, component) results)
    "implicit class target, subclass instance": (
        "ex:C a rdfs:Class, sh:NodeShape ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
        "ex:D rdfs:subClassOf ex:C . ex:d a ex:D .",
        {("d", "p", "MinCount")},
    ),
    "sh:class accepts a subclass instance": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:class ex:C ] .",
        "ex:D rdfs:subClassOf ex:C . ex:a ex:p ex:b, ex:c . ex:b a ex:D .",
        {("a", "p", "Class")},
    ),
    "literal focus node": (
        'ex:S sh:targetNode "x", ex:a ; sh:nodeKind sh:IRI .',
        "ex:a ex:p 1 .",
        {('"x"', None, "NodeKind")},
    ),
    "sh:not reports the nodes that conform to the negated shape": (
        "ex:S sh:targetNode ex:a, ex:b ; sh:not [ sh:property [ sh:path ex:p ; sh:minCount 1 ] ] .",
        "ex:a ex:p 1 . ex:b ex:q 1 .",
        {("a", None, "Not")},
    ),
    "sh:or of property shapes": (
        "ex:S sh:targetNode ex:a, ex:b ; sh:or ( [ sh:property [ sh:path ex:p ; sh:minCount 1 ] ] "
        "[ sh:property [ sh:path ex:q ; sh:minCount 1 ] ] ) .",
        "ex:a ex:q 1 . ex:b ex:r 1 .",
        {("b", None, "Or")},
    ),
    "sh:in compares terms, not values": (
        'ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:in ( "1"^^xsd:decimal ) ] .',
        "ex:a ex:p 1 .",
        {("a", "p", "In")},
    ),
    "an ill-formed literal does not have its datatype": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype xsd:integer ] .",
        'ex:a ex:p "aldi"^^xsd:integer, 3 .',
        {("a", "p", "Datatype")},
    ),
    "sh:property of a property shape applies to its values": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; "
        "sh:property [ sh:path ex:q ; sh:minCount 1 ] ] .",
        "ex:a ex:p ex:b, ex:c . ex:b ex:q 1 .",
        {("c", "q", "MinCount")},
    ),
    "qualified value shape with a nested property": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:qualifiedMinCount 2 ; "
        "sh:qualifiedValueShape [ sh:property [ sh:path ex:q ; sh:minCount 1 ] ] ] .",
        "ex:a ex:p ex:b, ex:c . ex:b ex:q 1 .",
        {("a", "p", "QualifiedMinCount")},
    ),
    "SPARQL-based constraint component, ASK validator": (
        "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:param ] ; "
        'sh:validator [ a sh:SPARQLAskValidator ; sh:ask "ASK { FILTER ($value != $param) }" ] . '
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; ex:param 2 ] .",
        "ex:a ex:p 1, 2 .",
        {("a", "p", "C")},
    ),
    "SPARQL-based constraint component, SELECT validator with $PATH": (
        "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:param ] ; "
        'sh:propertyValidator [ a sh:SPARQLSelectValidator ; sh:select "SELECT $this ?value '
        'WHERE { $this $PATH ?value FILTER (?value = $param) }" ] . '
        "ex:S sh:targetNode ex:a, ex:b ; sh:property [ sh:path ex:p ; ex:param 2 ] .",
        "ex:a ex:p 1 . ex:b ex:p 2 .",
        {("b", "p", "C")},
    ),
    "uniqueLang: one result per language used twice": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:uniqueLang true ] .",
        'ex:a ex:p "A"@en, "B"@en, "C"@fr, "D"@fr .',
        {("a", "p", "UniqueLang")},
    ),
}
SH_NS = "http://www.w3.org/ns/shacl#"
MISS_PREFIXES = SYNTHETIC_PREFIXES + "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"


def _expanded(triples: set[tuple[str, str | None, str]]) -> set[tuple[Node, Node | None, URIRef]]:
    def node(text: str) -> Node:
        return Literal(text.strip('"')) if text.startswith('"') else EX[text]

    return {
        (node(f), EX[p] if p else None, EX[c] if c == "C" else URIRef(f"{SH_NS}{c}ConstraintComponent"))
        for f, p, c in triples
    }


@pytest.mark.parametrize("name", sorted(MISSES))
def test_each_former_miss_is_compiled_exactly(name: str) -> None:
    shapes_text, data_text, expected = MISSES[name]
    shapes = Graph().parse(data=MISS_PREFIXES + shapes_text, format="turtle")
    data = Graph().parse(data=MISS_PREFIXES + data_text, format="turtle")
    fast = validate_rdf(data, shapes)
    reference = validate_rdf(data, shapes, engine="pyshacl")
    assert fast.engine == "fast", fast.notes
    assert fast.tuples() == reference.tuples() == _expanded(expected)
    assert len(fast.results) == len(reference.results)


REFUSED = {
    "a path that is a list and an inverse path": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path [ rdf:first ex:p ; rdf:rest rdf:nil ; "
        "sh:inversePath ex:q ] ; sh:minCount 1 ] .",
        "path",
    ),
    "a SPARQL constraint with MINUS": (
        "ex:S sh:targetNode ex:a ; sh:sparql [ sh:select "
        '"SELECT $this WHERE { $this ?p ?o MINUS { $this ?p 1 } }" ] .',
        "MINUS",
    ),
    "a zero-length path from a sh:targetNode maybe absent from the data": (
        # Oxigraph gives no value for ?x p* ?y when ?x is not in the data (SPARQL gives ?x itself)
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:minCount 1 ] .",
        "length zero",
    ),
    "a pattern Oxigraph's REGEX does not take (look-behind)": (
        'ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:pattern "(?<=a)b" ] .',
        "REGEX",
    ),
    "a datatype whose ill-formed literals Oxigraph keeps as valid": (
        "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype xsd:byte ] .",
        "byte",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_is_not_compiled_exactly_is_refused(name: str) -> None:
    shapes_text, match = REFUSED[name]
    prefixes = MISS_PREFIXES + "@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .\n"
    shapes = Graph().parse(data=prefixes + shapes_text, format="turtle")
    with pytest.raises(UnsupportedShapeError, match=match):
        compile_shapes(shapes)


def test_a_literal_oxigraph_would_rewrite_makes_pyshacl_run() -> None:
    # SYNTHETIC: Oxigraph stores "300"^^xsd:byte as "300"^^xsd:integer, so sh:datatype xsd:integer
    # would wrongly pass it; the exact path notices and runs pyshacl
    shapes = Graph().parse(
        data=MISS_PREFIXES
        + "ex:S sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:datatype xsd:integer ] .",
        format="turtle",
    )
    data = Graph().parse(data=MISS_PREFIXES + 'ex:a ex:p "300"^^xsd:byte .', format="turtle")
    report = validate_rdf(data, shapes)
    assert report.engine == "pyshacl"
    assert "300" in report.notes[0]
    assert report.tuples() == _expanded({("a", "p", "Datatype")})


def test_results_name_the_data_s_own_blank_nodes() -> None:
    shapes = Graph().parse(
        data=MISS_PREFIXES + "ex:S sh:targetSubjectsOf ex:p ; sh:property [ sh:path ex:p ; sh:maxCount 1 ] .",
        format="turtle",
    )
    data = Graph().parse(data=MISS_PREFIXES + "[ ex:p 1, 2 ] .", format="turtle")
    (subject,) = set(data.subjects())
    report = validate_rdf(data, shapes)
    assert report.engine == "fast"
    assert [r.focus_node for r in report.results] == [subject]


@pytest.mark.parametrize(("targets", "engine"), [("ex:a", "fast"), ("ex:a, ex:z", "pyshacl")])
def test_a_zero_length_path_is_compiled_when_every_target_node_is_in_the_data(
    targets: str, engine: str
) -> None:
    # SYNTHETIC: ex:z is in no triple; Oxigraph would give it no value for ex:p*, SHACL gives ex:z itself
    shapes = Graph().parse(
        data=MISS_PREFIXES
        + f"ex:S sh:targetNode {targets} ; "
        + "sh:property [ sh:path [ sh:zeroOrMorePath ex:p ] ; sh:class ex:K ] .",
        format="turtle",
    )
    data = Graph().parse(data=MISS_PREFIXES + "ex:a ex:p ex:b . ex:b a ex:K .", format="turtle")
    report = validate_rdf(data, shapes)
    assert report.engine == engine
    focus_nodes = {EX.a} if engine == "fast" else {EX.a, EX.z}
    component = URIRef(f"{SH_NS}ClassConstraintComponent")
    assert report.tuples() == {(f, MulPath(EX.p, "*"), component) for f in focus_nodes}
    assert report.tuples() == validate_rdf(data, shapes, engine="pyshacl").tuples()
