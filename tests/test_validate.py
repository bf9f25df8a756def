"""Tests of the SHACL shapes (shapes/*.ttl) and of the validator (bassin_kg.validate).

Shape tests are driven by the files of tests/shapes/<profile>/: each ``valid-*.ttl`` conforms with no
result at all, each ``invalid-*.ttl`` fails on exactly the (focus node, path, constraint component)
tuples its ``# expect:`` header lines list. Every fixture is validated together with
tests/shapes/context.ttl, a small conforming graph.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH
from rdflib.paths import AlternativePath, InvPath
from rdflib.term import Node

from bassin_kg import cli
from bassin_kg.errors import DataError, StoreError
from bassin_kg.namespaces import BM, PREFIXES
from bassin_kg.validate import (
    Report,
    ResultPath,
    Severity,
    load_shapes,
    load_store_graph,
    validate_graph,
    validate_store,
)

ROOT = Path(__file__).resolve().parent.parent
SHAPES = ROOT / "shapes"
FIXTURES = Path(__file__).resolve().parent / "shapes"
CONTEXT = FIXTURES / "context.ttl"
BASE_ID = "https://w3id.org/bassin-minier/id/"
PROFILES = ["territory", "swot", "occupation", "actor", "observation", "provenance"]

Expected = set[tuple[Node, ResultPath | None, URIRef]]


def fixture_files(kind: str) -> list[Path]:
    return sorted(FIXTURES.glob(f"*/{kind}-*.ttl"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def load_fixture(path: Path) -> Graph:
    graph = Graph()
    graph.parse(CONTEXT, format="turtle")
    graph.parse(path, format="turtle")
    return graph


def _term(token: str, graph: Graph) -> URIRef:
    if token.startswith("<") and token.endswith(">"):
        return URIRef(urljoin(BASE_ID, token[1:-1]))
    prefix, _, local = token.partition(":")
    namespaces = {p: str(ns) for p, ns in graph.namespace_manager.namespaces()}
    namespaces.update(PREFIXES)
    namespaces["sh"] = str(SH)
    return URIRef(namespaces[prefix] + local)


def _path(token: str, graph: Graph) -> ResultPath | None:
    if token == "-":
        return None
    if token.startswith("^"):
        return InvPath(_term(token[1:], graph))
    if "|" in token:
        return AlternativePath(*(_term(t, graph) for t in token.split("|")))
    return _term(token, graph)


def expectations(path: Path, graph: Graph) -> tuple[Expected, Expected]:
    """(all expected tuples, those expected as warnings) from the ``# expect:`` lines of a fixture."""
    expected: Expected = set()
    warnings: Expected = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#\s*expect:\s*(\S+)\s+(\S+)\s+(\S+)(\s+warning)?\s*$", line)
        if match is None:
            continue
        focus, result_path, component, warning = match.groups()
        key = (_term(focus, graph), _path(result_path, graph), _term(component, graph))
        expected.add(key)
        if warning:
            warnings.add(key)
    return expected, warnings


@pytest.fixture(scope="module")
def context_report() -> Report:
    graph = Graph()
    graph.parse(CONTEXT, format="turtle")
    return validate_graph(graph, SHAPES)


# --- the fixtures themselves -------------------------------------------------------------------------
def test_every_profile_has_valid_and_two_invalid_fixtures() -> None:
    for profile in PROFILES:
        folder = FIXTURES / profile
        assert len(list(folder.glob("valid-*.ttl"))) >= 1, profile
        assert len(list(folder.glob("invalid-*.ttl"))) >= 2, profile


def test_fixtures_say_they_are_synthetic() -> None:
    for path in [CONTEXT, *FIXTURES.glob("*/*.ttl")]:
        assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0], path


def test_invalid_fixtures_declare_expectations() -> None:
    for path in fixture_files("invalid"):
        expected, _ = expectations(path, load_fixture(path))
        assert expected, f"{path} has no '# expect:' line"


def test_context_conforms_without_any_result(context_report: Report) -> None:
    assert context_report.results == []
    assert context_report.conforms


# --- valid and invalid examples, per profile --------------------------------------------------------
@pytest.mark.parametrize("path", fixture_files("valid"), ids=fixture_id)
def test_valid_fixture_conforms(path: Path) -> None:
    report = validate_graph(load_fixture(path), SHAPES)
    assert report.results == [], report.render()


@pytest.mark.parametrize("path", fixture_files("invalid"), ids=fixture_id)
def test_invalid_fixture_fails_on_exactly_the_expected_results(path: Path) -> None:
    graph = load_fixture(path)
    expected, expected_warnings = expectations(path, graph)
    report = validate_graph(graph, SHAPES)
    assert report.tuples() == expected, report.render()
    warnings = {r.key() for r in report.warnings}
    assert warnings == expected_warnings, report.render()
    assert report.conforms is (expected == expected_warnings)


# --- the shapes graph ---------------------------------------------------------------------------------
def _constraint_nodes(shapes: Graph) -> list[Node]:
    """Every node that carries constraints of its own: property shapes, node shapes with node-level
    parameters, SPARQL constraints. Shapes nested in sh:or / sh:qualifiedValueShape are parts of these."""
    node_level = [SH["or"], SH["and"], SH["not"], SH["xone"], SH["class"], SH.datatype, SH.nodeKind]
    nodes: list[Node] = []
    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        nodes.extend(shapes.objects(shape, SH.property))
        nodes.extend(shapes.objects(shape, SH.sparql))
        if any((shape, p, None) in shapes for p in node_level):
            nodes.append(shape)
    return nodes


def test_every_constraint_has_a_french_and_an_english_message_and_a_severity() -> None:
    shapes = load_shapes(SHAPES)
    nodes = _constraint_nodes(shapes)
    assert len(nodes) > 40  # every profile was read
    for node in nodes:
        languages = {m.language for m in shapes.objects(node, SH.message) if isinstance(m, Literal)}
        assert languages == {"fr", "en"}, f"{node}: messages in {languages}"
        severities = set(shapes.objects(node, SH.severity))
        assert len(severities) == 1, node
        assert severities <= {SH.Violation, SH.Warning, SH.Info}, node


def test_shapes_files_exist_per_profile() -> None:
    names = {p.stem for p in SHAPES.glob("*.ttl")}
    assert {"territory", "swot", "occupation", "actor", "observation", "provenance"} <= names


def test_bad_shapes_file_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.ttl").write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n\nsh:x sh:y\n")
    with pytest.raises(DataError) as info:
        load_shapes(tmp_path)
    assert "broken.ttl:" in str(info.value)


def test_missing_shapes_folder_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="shapes folder not found"):
        load_shapes(tmp_path / "nowhere")


# --- the report -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def swot_report() -> Report:
    return validate_graph(load_fixture(FIXTURES / "swot" / "invalid-fields.ttl"), SHAPES)


def test_source_follows_provenance_to_the_curated_and_the_deck_line() -> None:
    report = validate_graph(load_fixture(FIXTURES / "swot" / "invalid-duplicates.ttl"), SHAPES)
    sources = {r.source for r in report.results}
    assert sources == {
        "data/curated/swot_items.csv:2 "
        "(from data/sources/deck/trajectoire-economique-bassin-minier-2019.txt:4-9)"
    }
    assert "data/curated/swot_items.csv:2" in report.render()


def test_source_of_a_source_record_is_itself() -> None:
    report = validate_graph(load_fixture(FIXTURES / "provenance" / "invalid-lines.ttl"), SHAPES)
    by_focus = {r.focus_node: r.source for r in report.results}
    assert by_focus[URIRef(BASE_ID + "source/curated-swot_items/0")] == "data/curated/swot_items.csv:0"


def test_result_without_provenance_has_no_source(swot_report: Report) -> None:
    focus = URIRef(BASE_ID + "swot/ze2010-3123/opportunite-3")
    assert {r.source for r in swot_report.results if r.focus_node == focus} == {None}
    assert "no source record" in swot_report.render()


def test_render_groups_by_severity_with_counts() -> None:
    report = validate_graph(load_fixture(FIXTURES / "actor" / "invalid-type.ttl"), SHAPES)
    text = report.render()
    assert text.startswith("SHACL validation: does NOT conform (4 violations, 1 warning)")
    assert text.index("Violations (4):") < text.index("Warnings (1):")
    # focus as a prefixed name or IRI, then the property path, the message and the source
    assert f"<{BASE_ID}acteur/pole-fictif>  ^bm:mentionne  [data/curated/actors.csv:2]" in text
    assert "fr: Aucun élément du diaporama ne mentionne cet acteur" in text
    assert "en: No deck item mentions this actor" in text
    # an anonymous property shape is named by the node shape that holds it
    assert "(sh:MinCountConstraintComponent in bmsh:ActeurShape)" in text


def test_sparql_messages_keep_their_language_and_values() -> None:
    report = validate_graph(load_fixture(FIXTURES / "swot" / "invalid-duplicates.ttl"), SHAPES)
    focus = URIRef(BASE_ID + "swot/ze2010-3123/force-1")
    (result,) = [r for r in report.results if r.focus_node == focus]
    assert result.message_in("fr") == (
        f"Même territoire, même catégorie et même bm:rang 1 que {BASE_ID}swot/ze2010-3123/force-1-bis"
    )
    english = result.message_in("en")
    assert english is not None
    assert english.startswith("Same territory")
    assert result.message.index("Même") < result.message.index("Same")


def test_warnings_do_not_break_conformance() -> None:
    graph = load_fixture(FIXTURES / "occupation" / "valid-classifications.ttl")
    graph.remove((URIRef(BASE_ID + "secteur/automobile"), None, Literal("Automotive", lang="en")))
    report = validate_graph(graph, SHAPES)
    assert report.conforms
    assert [r.severity for r in report.results] == [Severity.WARNING]
    assert report.summary() == "0 violations, 1 warning"
    assert report.render().startswith("SHACL validation: conforms (0 violations, 1 warning)")


def test_severities_are_kept_apart() -> None:
    report = validate_graph(load_fixture(FIXTURES / "actor" / "invalid-type.ttl"), SHAPES)
    assert len(report.violations) == 4
    assert len(report.warnings) == 1
    assert report.infos == []
    assert not report.conforms


def test_ontology_lets_sh_class_accept_subclass_instances() -> None:
    graph = load_fixture(FIXTURES / "swot" / "valid-four-boxes.ttl")
    actor = URIRef(BASE_ID + "acteur/critt-m2a")
    graph.remove((actor, RDF.type, BM.Acteur))
    graph.add((actor, RDF.type, BM.PoleDeCompetitivite))
    ontology = Graph()
    ontology.add((BM.PoleDeCompetitivite, URIRef(PREFIXES["rdfs"] + "subClassOf"), BM.Acteur))
    without = validate_graph(graph, SHAPES)
    assert (URIRef(BASE_ID + "swot/ze2010-3123/force-1"), BM.mentionne, SH.ClassConstraintComponent) in (
        without.tuples()
    )
    with_ontology = validate_graph(graph, SHAPES, ontology=ontology)
    assert all(r.path != BM.mentionne for r in with_ontology.results)
    assert (actor, RDF.type, BM.Acteur) not in graph  # the caller's graph is left alone


# --- stores -------------------------------------------------------------------------------------------
def _store_with(path: Path, files: dict[str, Path]) -> Path:
    store = ox.Store(str(path))
    for name, file in files.items():
        store.load(
            path=str(file), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE_ID + f"graph/{name}")
        )
    store.flush()
    del store
    return path


def test_validate_store_checks_the_union_of_named_graphs(tmp_path: Path) -> None:
    fixture = FIXTURES / "swot" / "invalid-duplicates.ttl"
    store = _store_with(tmp_path / "store", {"deck": CONTEXT, "extra": fixture})
    report = validate_store(store, SHAPES)
    expected, _ = expectations(fixture, load_fixture(fixture))
    assert report.tuples() == expected
    assert not report.conforms
    # provenance in one graph, items in another: the source is still found
    assert all(r.source and r.source.startswith("data/curated/swot_items.csv:2") for r in report.results)


def test_store_graph_keeps_every_term_kind(tmp_path: Path) -> None:
    store = _store_with(tmp_path / "store", {"deck": CONTEXT})
    graph = load_store_graph(store)
    expected = Graph().parse(CONTEXT, format="turtle")
    assert len(graph) == len(expected)
    zone = URIRef(BASE_ID + "territoire/ze2010/3123")
    assert (zone, URIRef("http://rdf.insee.fr/def/geo#nom"), Literal("Béthune - Bruay", lang="fr")) in graph
    assert (URIRef(BASE_ID + "source/deck/4"), BM.ligne, Literal(4)) in graph


def test_missing_store_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"no store at .*bassin-kg build"):
        validate_store(tmp_path / "absent", SHAPES)


def test_cli_validate_exits_1_on_violation_and_prints_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _store_with(
        tmp_path / "store", {"deck": CONTEXT, "bad": FIXTURES / "swot" / "invalid-fields.ttl"}
    )
    code = cli.main(["--root", str(ROOT), "-q", "validate", "--store", str(store)])
    out = capsys.readouterr().out
    assert code == 1
    assert "does NOT conform (12 violations, 0 warnings)" in out


def test_cli_validate_exits_0_on_a_conforming_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _store_with(tmp_path / "store", {"deck": CONTEXT})
    assert cli.main(["--root", str(ROOT), "-q", "validate", "--store", str(store)]) == 0
    assert "conforms (0 violations, 0 warnings)" in capsys.readouterr().out


def test_cli_validate_with_either_engine_prints_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = _store_with(
        tmp_path / "store", {"deck": CONTEXT, "bad": FIXTURES / "swot" / "invalid-duplicates.ttl"}
    )
    outputs = []
    for engine in ("fast", "pyshacl"):
        args = ["--root", str(ROOT), "-q", "validate", "--store", str(store), "--engine", engine]
        assert cli.main(args) == 1
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert "does NOT conform (3 violations, 0 warnings)" in outputs[0]


# --- validate --data FILE… --shapes FILE…: any data, any shapes, a standard report ------------------------
WARNING_SHAPES = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/synthetic/> .
ex:S a sh:NodeShape ; sh:targetClass ex:C ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:severity sh:Warning ] ;
    sh:property [ sh:path ( ex:part [ sh:inversePath ex:of ] ) ; sh:maxCount 0 ] .
"""


def _files(tmp_path: Path, data: str) -> list[str]:
    # SYNTHETIC shapes and data, in two formats (Turtle shapes, N-Triples data)
    (tmp_path / "shapes.ttl").write_text(WARNING_SHAPES, encoding="utf-8")
    (tmp_path / "data.nt").write_text(data, encoding="utf-8")
    return ["validate", "--data", str(tmp_path / "data.nt"), "--shapes", str(tmp_path / "shapes.ttl")]


EX_NT = "<http://example.org/synthetic/{}>"
TYPED = f"{EX_NT.format('a')} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> {EX_NT.format('C')} .\n"


def test_cli_validate_files_prints_a_standard_turtle_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    linked = (
        f"{EX_NT.format('a')} {EX_NT.format('part')} _:p .\n{EX_NT.format('x')} {EX_NT.format('of')} _:p .\n"
    )
    code = cli.main([*_files(tmp_path, TYPED + linked), "--format", "turtle"])
    captured = capsys.readouterr()
    assert code == 1
    assert "engine: fast" in captured.err
    report = Graph().parse(data=captured.out, format="turtle")
    (node,) = report.subjects(RDF.type, SH.ValidationReport)
    assert report.value(node, SH.conforms) == Literal(False)
    severities = {report.value(r, SH.resultSeverity) for r in report.objects(node, SH.result)}
    assert severities == {SH.Warning, SH.Violation}
    # the sequence path is written as SHACL writes paths: a list holding an inverse path
    (path,) = (
        p for p in report.objects(None, SH.resultPath) if p != URIRef("http://example.org/synthetic/name")
    )
    assert report.value(report.value(path, RDF.rest), RDF.first) is not None
    assert report.value(node, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")) is not None


def test_cli_validate_files_fails_on_a_warning_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the standard meaning: sh:conforms is false on any result (the project's own store keeps exit 0)
    assert cli.main([*_files(tmp_path, TYPED), "--format", "json"]) == 1
    body = json.loads(capsys.readouterr().out)
    assert body["conforms"] is False
    assert body["engine"] == "fast"
    assert [r["resultSeverity"] for r in body["results"]] == [str(SH.Warning)]
    assert body["results"][0]["focusNode"] == "<http://example.org/synthetic/a>"


def test_cli_validate_files_exits_0_when_the_data_conforms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    named = f'{EX_NT.format("a")} {EX_NT.format("name")} "A" .\n'
    assert cli.main([*_files(tmp_path, TYPED + named)]) == 0
    out = capsys.readouterr().out
    assert "conforms (0 violations, 0 warnings)" in out
    assert "engine: fast (shapes compiled to SPARQL" in out


def test_cli_validate_data_needs_shapes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["validate", "--data", str(tmp_path / "data.ttl")]) == 2
    assert "--data and --shapes go together" in capsys.readouterr().err
    args = [*_files(tmp_path, TYPED), "--store", str(tmp_path / "store")]
    assert cli.main(args) == 2
    assert "not both" in capsys.readouterr().err


def test_cli_validate_names_a_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _files(tmp_path, "<http://example.org/a> <http://example.org/p> .\n")
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "data.nt" in err
    assert "not valid" in err
