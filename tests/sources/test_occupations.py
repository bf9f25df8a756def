"""Occupation schemes and mappings, built from the committed reference tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS

from bassin_kg.errors import DataError
from bassin_kg.namespaces import BM, ESCO, XKOS, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources.base import ConvertContext, GraphPart
from bassin_kg.sources.occupations import convert, fap2021_code_for, normalise_label

IRIS = Iris()


@pytest.fixture(scope="module")
def parts() -> dict[str, Graph]:
    root = Path(__file__).resolve().parents[2]
    found = convert(ConvertContext(Settings(root=root), IRIS))
    return {part.name: part.graph for part in found}


def _correspondence(graph: Graph, kind: str, source: str, target: str) -> URIRef:
    iri = IRIS.correspondence(kind, source, target)
    assert (iri, RDF.type, BM.CorrespondanceMetier) in graph
    return iri


def test_parts_are_the_six_named_graphs_of_the_model(parts: dict[str, Graph]) -> None:
    assert set(parts) == {"fap2009", "fap2021", "rome", "esco-mapping", "fap2009-rome", "fap2009-fap2021"}


def test_fap2009_concept_has_notation_label_scheme_and_parent(parts: dict[str, Graph]) -> None:
    graph, concept = parts["fap2009"], IRIS.fap2009("T2A60")
    assert (concept, RDF.type, SKOS.Concept) in graph
    assert (concept, SKOS.notation, Literal("T2A60")) in graph
    assert (concept, SKOS.prefLabel, Literal("Aides à domicile et aides ménagères", lang="fr")) in graph
    assert (concept, SKOS.inScheme, IRIS.scheme("fap2009")) in graph
    assert (concept, SKOS.broader, IRIS.fap2009("T2A")) in graph
    assert (IRIS.fap2009("T2A"), SKOS.broader, IRIS.fap2009("T")) in graph
    assert (IRIS.scheme("fap2009"), RDF.type, SKOS.ConceptScheme) in graph
    record = graph.value(concept, PROV.wasDerivedFrom)
    assert graph.value(record, BM.fichier) == Literal("data/reference/fap2009_intitules.csv")


def test_fap2009_has_four_levels_with_the_file_counts(parts: dict[str, Graph]) -> None:
    graph = parts["fap2009"]
    counts = {
        str(level).rsplit("/", 1)[-1]: len(set(graph.objects(level, SKOS.member)))
        for level in graph.subjects(RDF.type, XKOS.ClassificationLevel)
    }
    assert counts == {"grand-groupe-4": 4, "domaine-22": 22, "fap-87": 87, "fap-225": 225}


def test_fap2021_unsplit_family_is_one_concept_in_two_levels(parts: dict[str, Graph]) -> None:
    graph = parts["fap2021"]
    concept = IRIS.fap2021("A0X40")  # FAP228 and FAP341 share this code
    levels = {str(level).rsplit("/", 1)[-1] for level in graph.subjects(SKOS.member, concept)}
    assert levels == {"fap228", "fap341"}
    assert (IRIS.fap2021("A0X41a"), SKOS.broader, IRIS.fap2021("A0X41")) in graph
    assert (concept, SKOS.broader, IRIS.fap2021("A0X")) in graph
    assert (concept, SKOS.broader, concept) not in graph


def test_rome_v4_label_is_an_alternative_label(parts: dict[str, Graph]) -> None:
    graph, concept = parts["rome"], IRIS.rome("A1101")
    assert graph.value(concept, SKOS.prefLabel) == Literal(
        "Conduite d'engins agricoles et forestiers", lang="fr"
    )
    assert (
        concept,
        SKOS.altLabel,
        Literal("Conducteur / Conductrice d'engins agricoles", lang="fr"),
    ) in graph
    assert len(set(graph.subjects(SKOS.topConceptOf, IRIS.scheme("rome")))) == 532


def test_direct_dares_row_is_a_narrow_match_never_exact(parts: dict[str, Graph]) -> None:
    graph = parts["fap2009-rome"]
    assert (IRIS.fap2009("T2A60"), SKOS.narrowMatch, IRIS.rome("K1302")) in graph
    link = _correspondence(graph, "fap2009-rome", "T2A60", "K1302")
    assert graph.value(link, BM.methodeCorrespondance) == BM["methode-dares-direct"]
    assert graph.value(link, BM.relationCorrespondance) == SKOS.narrowMatch
    assert not list(graph.triples((None, SKOS.exactMatch, None)))


def test_qualification_rows_are_a_close_match_keeping_the_codes(parts: dict[str, Graph]) -> None:
    graph = parts["fap2009-rome"]
    # fap2009_rome_v3_passage_dares.csv: F1701 goes to B0Z20 for qualifications 1, 2 and 5
    link = _correspondence(graph, "fap2009-rome", "B0Z20", "F1701")
    assert {str(q) for q in graph.objects(link, BM.conditionQualification)} == {"1", "2", "5"}
    assert graph.value(link, BM.relationCorrespondance) == SKOS.closeMatch
    assert (IRIS.fap2009("B0Z20"), SKOS.closeMatch, IRIS.rome("F1701")) in graph
    assert len(set(graph.objects(link, PROV.wasDerivedFrom))) == 3


def test_esco_relation_is_carried_from_the_appellation(parts: dict[str, Graph]) -> None:
    graph = parts["esco-mapping"]
    appellation = IRIS.rome_appellation("12862")  # Conducteur / Conductrice d'abatteuses
    forest = ESCO["699057b7-7aeb-4b5c-bb90-01d935ff32c1"]
    assert (appellation, SKOS.broadMatch, forest) in graph
    assert (appellation, SKOS.broader, IRIS.rome("A1101")) in graph
    assert (forest, SKOS.prefLabel, None) in graph


def test_fap2009_fap2021_links_say_how_they_were_found(parts: dict[str, Graph]) -> None:
    graph = parts["fap2009-fap2021"]
    cases = {
        ("A0Z43", "A0X43"): ("methode-meme-code-meme-libelle", SKOS.closeMatch),
        ("A0Z40", "A0X40"): ("methode-meme-code-libelle-sans-statut", SKOS.closeMatch),
        ("B2Z44", "B1X34"): ("methode-meme-libelle", SKOS.closeMatch),
        ("B7Z91", "B7X91"): ("methode-meme-code", SKOS.relatedMatch),
    }
    for (source, target), (method, relation) in cases.items():
        link = _correspondence(graph, "fap2009-fap2021", source, target)
        assert graph.value(link, BM.methodeCorrespondance) == BM[method], (source, target)
        assert (IRIS.fap2009(source), relation, IRIS.fap2021(target)) in graph
    assert not list(graph.triples((None, SKOS.exactMatch, None)))


def test_code_and_label_helpers() -> None:
    assert fap2021_code_for("A0Z43") == "A0X43"
    assert fap2021_code_for("T2A60") == "T2A60"
    assert normalise_label("Ouvriers qualifiés du gros œuvre") == normalise_label(
        "ouvriers qualifies du gros oeuvre"
    )


def test_unknown_fap_code_in_passage_table_is_a_data_error(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    shutil.copytree(root / "data" / "reference", tmp_path / "data" / "reference")
    passage = tmp_path / "data" / "reference" / "fap2009_rome_v3_passage_dares.csv"
    lines = passage.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("A0Z41", "Q9Z99")  # synthetic: a code no FAP-2009 list has
    passage.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"fap2009_rome_v3_passage_dares.csv:2: unknown FAP-2009 code.*Q9Z99"):
        convert(ConvertContext(Settings(root=tmp_path), IRIS))


def test_parts_name_their_sources() -> None:
    root = Path(__file__).resolve().parents[2]
    found: list[GraphPart] = convert(ConvertContext(Settings(root=root), IRIS))
    for part in found:
        assert part.sources, part.name
        assert all((root / s).is_file() for s in part.sources), part.name
