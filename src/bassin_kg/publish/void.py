"""The VoID description of the graph (``void.ttl``): sizes, partitions, examples and linksets.

Every number is computed by SPARQL on the release store. Counts are over the *distinct* triples of the
union of the named graphs (a triple stated in two graphs counts once), which is what the union dumps hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, SKOS

from bassin_kg.namespaces import PREFIXES, VOID, Iris
from bassin_kg.release.dumps import SPECS

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
INSEE_SPACE = "http://rdf.insee.fr/"
ESCO_SPACE = "http://data.europa.eu/esco/"
#: the zones the deck is about, shown as example resources (when the graph holds them)
EXAMPLE_ZONES = ("3123", "3122", "3114", "3115")
#: properties that link a resource of ours to the same or a similar thing elsewhere
LINK_PREDICATES = (
    str(OWL.sameAs),
    str(SKOS.exactMatch),
    str(SKOS.closeMatch),
    str(SKOS.broadMatch),
    str(SKOS.narrowMatch),
    str(SKOS.relatedMatch),
    "http://rdf.insee.fr/def/geo#territoireCommunAvec",
)
_DISTINCT = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass(frozen=True)
class Target:
    """Another dataset our links point into."""

    key: str
    uri_space: str
    title: str
    homepage: str
    sparql: str | None


TARGETS = (
    Target(
        "insee",
        INSEE_SPACE,
        "Données liées de l'Insee (rdf.insee.fr)",
        "https://rdf.insee.fr/",
        "http://rdf.insee.fr/sparql",
    ),
    Target(
        "esco",
        ESCO_SPACE,
        "ESCO, classification européenne des compétences et des professions",
        "https://esco.ec.europa.eu/",
        None,
    ),
)


@dataclass(frozen=True)
class VoidCounts:
    """The figures of the VoID description, as computed on the store (tests compare them with SPARQL)."""

    triples: int
    entities: int
    classes: dict[str, int]
    properties: dict[str, int]
    distinct_subjects: int
    distinct_objects: int
    graphs: dict[str, int]
    #: (target key, link predicate) -> number of links
    linksets: dict[tuple[str, str], int]


def _rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    rows = []
    for solution in solutions:
        row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term.value
        rows.append(row)
    return rows


def _single(store: ox.Store, query: str) -> int:
    rows = _rows(store, query)
    return int(rows[0]["n"]) if rows and "n" in rows[0] else 0


def compute_counts(store: ox.Store) -> VoidCounts:
    """All the figures of the description, each from one SPARQL query over the distinct triples."""
    rdf_type = str(RDF.type)
    typed = f"SELECT DISTINCT ?s ?c WHERE {{ GRAPH ?g {{ ?s <{rdf_type}> ?c }} }}"
    classes = {
        r["c"]: int(r["n"])
        for r in _rows(store, f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ {typed} }} GROUP BY ?c")
        if "c" in r
    }
    properties = {
        r["p"]: int(r["n"])
        for r in _rows(store, f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {_DISTINCT} }} GROUP BY ?p")
    }
    graphs = {
        r["g"]: int(r["n"])
        for r in _rows(store, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    }
    values = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    linksets: dict[tuple[str, str], int] = {}
    for target in TARGETS:
        query = (
            f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} "
            f'GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{target.uri_space}")) }} }} '
            "GROUP BY ?p"
        )
        for row in _rows(store, query):
            linksets[(target.key, row["p"])] = int(row["n"])
    return VoidCounts(
        triples=_single(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {_DISTINCT} }}"),
        entities=_single(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {typed} }}"),
        classes=classes,
        properties=properties,
        distinct_subjects=_single(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {_DISTINCT} }}"),
        distinct_objects=_single(store, f"SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {_DISTINCT} }}"),
        graphs=graphs,
        linksets=linksets,
    )


def dataset_iri(iris: Iris) -> URIRef:
    """The whole graph as one dataset: VoID and DCAT describe the same resource, a node of the catalogue
    document (``<base>catalog``, served at ``/catalog``) rather than of the ``id/`` space of the data."""
    return URIRef(iris.base + "catalog#bassin-minier")


def public_url(iris: Iris, path: str) -> URIRef:
    """Where the deployment serves ``path`` (the server answers for every path below the base)."""
    return URIRef(iris.base + path)


def vocabularies(counts: VoidCounts) -> list[str]:
    """The namespaces (of :data:`PREFIXES`) whose classes or properties the graph uses."""
    used = set(counts.classes) | set(counts.properties)
    spaces = sorted(set(PREFIXES.values()), key=len, reverse=True)
    found: set[str] = set()
    for term in used:
        for space in spaces:
            if term.startswith(space):
                found.add(space)
                break
    return sorted(found)


def void_graph(store: ox.Store, iris: Iris) -> Graph:
    """The VoID description of the release store, with the dumps of :data:`SPECS` as ``void:dataDump``."""
    counts = compute_counts(store)
    graph = Graph()
    for prefix, space in PREFIXES.items():
        graph.bind(prefix, space)
    graph.bind("void", VOID)
    graph.bind("sd", SD)
    add = graph.add
    dataset = dataset_iri(iris)
    add((dataset, RDF.type, VOID.Dataset))
    add(
        (
            dataset,
            DCTERMS.title,
            Literal("Trajectoire économique du bassin minier du Nord–Pas-de-Calais", lang="fr"),
        )
    )
    add(
        (
            dataset,
            DCTERMS.title,
            Literal("Economic trajectory of the Nord–Pas-de-Calais mining basin", lang="en"),
        )
    )
    add((dataset, FOAF.homepage, URIRef(iris.base)))
    add((dataset, VOID.sparqlEndpoint, public_url(iris, "sparql")))
    add((dataset, VOID.uriSpace, Literal(iris.base + "id/")))
    add((dataset, VOID.rootResource, iris.bassin_minier()))
    for spec in SPECS:
        add((dataset, VOID.dataDump, public_url(iris, "dist/" + spec.name)))
    for space in vocabularies(counts):
        add((dataset, VOID.vocabulary, URIRef(space)))
    add((dataset, VOID.feature, URIRef("http://www.w3.org/ns/formats/Turtle")))
    add((dataset, VOID.feature, URIRef("http://www.w3.org/ns/formats/N-Quads")))

    def integer(value: int) -> Literal:
        return Literal(value, datatype=XSD.integer)

    add((dataset, VOID.triples, integer(counts.triples)))
    add((dataset, VOID.entities, integer(counts.entities)))
    add((dataset, VOID.classes, integer(len(counts.classes))))
    add((dataset, VOID.properties, integer(len(counts.properties))))
    add((dataset, VOID.distinctSubjects, integer(counts.distinct_subjects)))
    add((dataset, VOID.distinctObjects, integer(counts.distinct_objects)))
    for cls, entities in sorted(counts.classes.items()):
        node = BNode()
        add((dataset, VOID.classPartition, node))
        add((node, VOID["class"], URIRef(cls)))
        add((node, VOID.entities, integer(entities)))
    for prop, triples in sorted(counts.properties.items()):
        node = BNode()
        add((dataset, VOID.propertyPartition, node))
        add((node, VOID.property, URIRef(prop)))
        add((node, VOID.triples, integer(triples)))
    present = _present(store, [iris.ze2010(code) for code in EXAMPLE_ZONES] + [iris.bassin_minier()])
    for example in present:
        add((dataset, VOID.exampleResource, example))
    # one subset per named graph: the graph a SPARQL user names in GRAPH <…>
    for graph_iri, triples in sorted(counts.graphs.items()):
        subset = URIRef(graph_iri)
        add((dataset, VOID.subset, subset))
        add((subset, RDF.type, VOID.Dataset))
        add((subset, SD.name, subset))
        add((subset, VOID.triples, integer(triples)))
    _linksets(graph, dataset, iris, counts)
    return graph


def _present(store: ox.Store, candidates: Sequence[URIRef]) -> list[URIRef]:
    found = []
    for iri in candidates:
        if next(iter(store.quads_for_pattern(ox.NamedNode(str(iri)), None, None)), None) is not None:
            found.append(iri)
    return found


def _linksets(graph: Graph, dataset: URIRef, iris: Iris, counts: VoidCounts) -> None:
    """One void:Linkset per (target, link predicate): VoID wants a single linkPredicate per linkset."""
    add = graph.add
    for target in TARGETS:
        keys = sorted(p for t, p in counts.linksets if t == target.key)
        if not keys:
            continue
        node = URIRef(f"{dataset}/cible/{target.key}")
        add((node, RDF.type, VOID.Dataset))
        add((node, DCTERMS.title, Literal(target.title, lang="fr")))
        add((node, FOAF.homepage, URIRef(target.homepage)))
        add((node, VOID.uriSpace, Literal(target.uri_space)))
        if target.sparql:
            add((node, VOID.sparqlEndpoint, URIRef(target.sparql)))
        for predicate in keys:
            local = predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            linkset = URIRef(f"{dataset}/liens/{target.key}-{local}")
            add((dataset, VOID.subset, linkset))
            add((linkset, RDF.type, VOID.Linkset))
            add((linkset, VOID.subjectsTarget, dataset))
            add((linkset, VOID.objectsTarget, node))
            add((linkset, VOID.linkPredicate, URIRef(predicate)))
            add(
                (
                    linkset,
                    VOID.triples,
                    Literal(counts.linksets[(target.key, predicate)], datatype=XSD.integer),
                )
            )
