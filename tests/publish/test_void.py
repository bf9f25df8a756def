"""The VoID description: its figures equal independent SPARQL counts on the store; linksets and examples."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, SKOS

from bassin_kg.namespaces import VOID, Iris
from bassin_kg.publish import PublishResult
from bassin_kg.publish.void import compute_counts, dataset_iri, void_graph
from bassin_kg.settings import Settings

DISTINCT = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


def _n(store: ox.Store, query: str) -> int:
    rows = store.query(query)
    assert isinstance(rows, ox.QuerySolutions)
    term = next(iter(rows))["n"]
    assert isinstance(term, ox.Literal)
    return int(term.value)


def _value(graph: Graph, subject: URIRef, prop: URIRef) -> int:
    value = graph.value(subject, prop)
    assert value is not None, prop
    return int(str(value))


def test_void_figures_equal_sparql_counts(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    void = Graph().parse(settings.dist_dir / "void.ttl", format="turtle")
    dataset = dataset_iri(Iris(settings.base_iri))
    assert _value(void, dataset, VOID.triples) == _n(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {DISTINCT} }}")
    assert _value(void, dataset, VOID.classes) == _n(
        store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }"
    )
    assert _value(void, dataset, VOID.properties) == _n(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    assert _value(void, dataset, VOID.distinctSubjects) == _n(
        store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    # partitions: the zones' class and the label property, counted again here
    partitions = {
        void.value(node, VOID["class"]): int(str(void.value(node, VOID.entities)))
        for node in void.objects(dataset, VOID.classPartition)
    }
    zone = URIRef("http://rdf.insee.fr/def/geo#ZoneDEmploi2010")
    assert partitions[zone] == _n(
        store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{zone}> }} }}"
    )
    assert len(partitions) == _value(void, dataset, VOID.classes)
    properties = {
        void.value(node, VOID.property): int(str(void.value(node, VOID.triples)))
        for node in void.objects(dataset, VOID.propertyPartition)
    }
    label = URIRef("http://www.w3.org/2004/02/skos/core#prefLabel")
    assert properties[label] == _n(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { GRAPH ?g { ?s "
        f"<{label}> ?o }} }} }}",
    )
    assert sum(properties.values()) == _value(void, dataset, VOID.triples)


def test_void_says_where_and_what(published: tuple[Settings, PublishResult]) -> None:
    settings, _result = published
    iris = Iris(settings.base_iri)
    void = Graph().parse(settings.dist_dir / "void.ttl", format="turtle")
    dataset = dataset_iri(iris)
    examples = set(void.objects(dataset, VOID.exampleResource))
    assert {iris.ze2010(code) for code in ("3123", "3122", "3114", "3115")} <= examples
    assert void.value(dataset, VOID.sparqlEndpoint) == URIRef(iris.base + "sparql")
    assert str(void.value(dataset, VOID.uriSpace)) == iris.base + "id/"
    dumps = {str(d) for d in void.objects(dataset, VOID.dataDump)}
    assert iris.base + "dist/bassin-minier.nt.gz" in dumps
    assert len(dumps) == 5
    vocabularies = {str(v) for v in void.objects(dataset, VOID.vocabulary)}
    assert {"http://rdf.insee.fr/def/geo#", "http://www.w3.org/2004/02/skos/core#"} <= vocabularies
    subsets = set(void.objects(dataset, VOID.subset))
    assert iris.graph("deck") in subsets


def test_esco_linkset_counts_the_links(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    store = ox.Store.read_only(str(result.release_dir / "store"))
    void = Graph().parse(settings.dist_dir / "void.ttl", format="turtle")
    linksets = {
        (str(void.value(ls, VOID.objectsTarget)), void.value(ls, VOID.linkPredicate)): int(
            str(void.value(ls, VOID.triples))
        )
        for ls in void.subjects(predicate=VOID.linkPredicate)
    }
    esco = {p: n for (target, p), n in linksets.items() if target.endswith("/cible/esco")}
    assert esco, "the ESCO mapping graph links to ESCO"
    for predicate, count in esco.items():
        expected = _n(
            store,
            "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?o WHERE { "
            f"GRAPH ?g {{ ?s <{predicate}> ?o }} "
            'FILTER(STRSTARTS(STR(?o), "http://data.europa.eu/esco/")) } }',
        )
        assert count == expected > 0
    assert not any(target.endswith("/cible/insee") for target, _ in linksets), "no insee-links graph here"


def test_insee_linksets_one_per_predicate() -> None:
    # SYNTHETIC store: two territories linked to made-up rdf.insee.fr IRIs, one triple stated in two graphs
    store = ox.Store()
    base = "https://w3id.org/bassin-minier/"
    ours = [ox.NamedNode(base + f"id/territoire/ze2020/32{i}") for i in range(2)]
    insee = [ox.NamedNode(f"http://rdf.insee.fr/geo/zoneDEmploi2020/fixture-{i}") for i in range(2)]
    links = ox.NamedNode(base + "id/graph/insee-links")
    other = ox.NamedNode(base + "id/graph/other")
    store.add(ox.Quad(ours[0], ox.NamedNode(str(OWL.sameAs)), insee[0], links))
    store.add(ox.Quad(ours[0], ox.NamedNode(str(OWL.sameAs)), insee[0], other))
    store.add(ox.Quad(ours[1], ox.NamedNode(str(SKOS.closeMatch)), insee[1], links))
    counts = compute_counts(store)
    assert counts.linksets == {("insee", str(OWL.sameAs)): 1, ("insee", str(SKOS.closeMatch)): 1}
    assert counts.triples == 2  # the duplicated triple counts once
    graph = void_graph(store, Iris(base))
    predicates = {graph.value(ls, VOID.linkPredicate) for ls in graph.subjects(predicate=VOID.linkPredicate)}
    assert predicates == {OWL.sameAs, SKOS.closeMatch}
