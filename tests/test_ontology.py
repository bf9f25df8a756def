"""Tests of ontology/bassin.ttl: every own term is documented in French and English, and the deck graph
uses no bm: term the ontology does not define."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from bassin_kg.namespaces import BM, QB, Iris
from bassin_kg.settings import Settings
from bassin_kg.sources import deck as deck_converter
from bassin_kg.sources.base import ConvertContext

REPO = Path(__file__).resolve().parent.parent
ONTOLOGY = URIRef("https://w3id.org/bassin-minier/def")
VANN = "http://purl.org/vocab/vann/"


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(REPO / "ontology" / "bassin.ttl", format="turtle")


def own_terms(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects() if isinstance(s, URIRef) and s.startswith(str(BM))}


def languages(graph: Graph, subject: URIRef, predicate: URIRef) -> set[str | None]:
    return {o.language for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def test_header(ontology: Graph) -> None:
    assert (ONTOLOGY, RDF.type, OWL.Ontology) in ontology
    assert languages(ontology, ONTOLOGY, DCTERMS.title) == {"fr", "en"}
    assert languages(ontology, ONTOLOGY, DCTERMS.description) == {"fr", "en"}
    assert ontology.value(ONTOLOGY, OWL.versionInfo) is not None
    assert ontology.value(ONTOLOGY, DCTERMS.license) == URIRef(
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
    )
    assert ontology.value(ONTOLOGY, URIRef(VANN + "preferredNamespacePrefix")) == Literal("bm")


def test_every_own_term_has_french_and_english_label_and_comment(ontology: Graph) -> None:
    terms = own_terms(ontology)
    assert len(terms) > 40
    for term in sorted(terms):
        assert languages(ontology, term, RDFS.label) >= {"fr", "en"}, term
        assert languages(ontology, term, RDFS.comment) >= {"fr", "en"}, term
        assert ontology.value(term, RDFS.isDefinedBy) == ONTOLOGY, term


def test_model_terms_are_defined_with_their_kind(ontology: Graph) -> None:
    classes = (
        "ElementSWOT Force Faiblesse Opportunite Menace BassinMinier BassinEmploiBMO LienEntreTerritoires"
    )
    classes += " PerspectiveCommune MultiplicateurEmploi Acteur EnregistrementSource RecouvrementTerritorial"
    for name in classes.split():
        assert (BM[name], RDF.type, OWL.Class) in ontology, name
    measures = "projetsRecrutement projetsDifficiles projetsSaisonniers partProjetsDifficiles tauxChomage"
    for name in [*measures.split(), "evolutionTauxChomage1An"]:
        assert (BM[name], RDF.type, QB.MeasureProperty) in ontology, name
        assert ontology.value(BM[name], RDFS.range) is not None, name
    assert (BM.rang, RDF.type, QB.AttributeProperty) in ontology
    for name in ("deck-projets-recrutement", "deck-difficultes-recrutement", "deck-chomage", "bmo"):
        dsd = BM[f"dsd-{name}"]
        assert (dsd, RDF.type, QB.DataStructureDefinition) in ontology
        assert len(set(ontology.objects(dsd, QB.component))) >= 3
    assert (BM.Force, RDFS.subClassOf, BM.ElementSWOT) in ontology
    assert (
        BM.BassinMinier,
        RDFS.subClassOf,
        URIRef("http://rdf.insee.fr/def/geo#TerritoireStatistique"),
    ) in ontology


def test_the_deck_graph_uses_only_defined_terms(ontology: Graph, tmp_path: Path) -> None:
    shutil.copytree(REPO / "tests" / "fixtures" / "curated-min", tmp_path / "data" / "curated")
    settings = Settings(root=tmp_path)
    [part] = deck_converter.convert(ConvertContext(settings, Iris(settings.base_iri)))
    used = {t for triple in part.graph for t in triple if isinstance(t, URIRef) and t.startswith(str(BM))}
    assert used
    assert used <= own_terms(ontology)
