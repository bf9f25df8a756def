"""The DCAT-AP 3 catalogue of the publication (``catalog.ttl``, ``.rdf``, ``.jsonld``) and its SHACL check.

One ``dcat:Dataset`` per source (the deck, the occupation classifications, INSEE territories, each BMO
year, Acoss and the INSEE links when loaded, the ontology), each with its own gzipped N-Triples dump, plus
the whole graph as one dataset with every union/named-graph dump; the SPARQL endpoint is a
``dcat:DataService``. Licences: Licence Ouverte 2.0 for the deck and the INSEE/DARES/France Travail-derived
parts, ODbL for the Acoss-derived part; a dump that mixes both is under ODbL (Licence Ouverte 2.0 is
compatible with it, the reverse is not).

The catalogue's nodes are hash IRIs of the catalogue document ``<base>catalog`` (served at ``/catalog``),
so that they dereference even though they are not in the store.

Every resource the catalogue points to carries the class DCAT-AP 3.0.1 expects of it (``range.ttl``): no
validator of a harvesting portal loads the EU vocabularies or the W3C ontologies, so a theme that is not
stated to be a ``skos:Concept`` here is not one for it. The concepts of the EU and ADMS vocabularies get
the label and scheme those vocabularies give them (``VOCABULARY_LABELS``), as ``shapes.ttl`` asks a
``skos:Concept`` to have a ``skos:prefLabel``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS

from bassin_kg.errors import UsageError
from bassin_kg.namespaces import BM, PREFIXES, QB, SDMX_DIM, Iris
from bassin_kg.publish import vocabularies
from bassin_kg.publish.extent import Extent, PlaceExtents
from bassin_kg.publish.void import dataset_iri, public_url
from bassin_kg.release.dumps import DumpFile
from bassin_kg.sources import registry
from bassin_kg.sources.base import LICENCE_OUVERTE, ODBL, CatalogueEntry
from bassin_kg.sources.common import reference_file

DCATAP = Namespace("http://data.europa.eu/r5r/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
AUTHORITY = "http://publications.europa.eu/resource/authority/"
THEMES = URIRef(AUTHORITY + "data-theme")
THEME = Namespace(AUTHORITY + "data-theme/")
LANGUAGE = Namespace(AUTHORITY + "language/")
PUBLISHER_TYPES = URIRef("http://purl.org/adms/publishertype/1.0")
PUBLISHER_TYPE = Namespace("http://purl.org/adms/publishertype/")
LICENCE_TYPES = URIRef("http://purl.org/adms/licencetype/1.0")
LICENCE_TYPE = Namespace("http://purl.org/adms/licencetype/")
AVAILABILITY = URIRef(AUTHORITY + "planned-availability")
AVAILABLE = URIRef(AUTHORITY + "planned-availability/AVAILABLE")
FRANCE = URIRef(AUTHORITY + "country/FRA")
GZIP = URIRef("https://www.iana.org/assignments/media-types/application/gzip")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
#: the datatype GeoDCAT-AP gives a GeoJSON geometry, and the one data.gouv.fr's harvester reads a
#: ``dct:spatial`` box from (it skips GeoSPARQL's ``wktLiteral``)
GEOJSON_LITERAL = URIRef("https://www.iana.org/assignments/media-types/application/vnd.geo+json")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
AUTHORITY_SPARQL_FORMAT = URIRef(AUTHORITY + "file-type/SPARQLQ")

# ADMS has no plain "ShareAlike" concept: the share-alike type is ViralEffect-ShareAlike
LICENCES: dict[URIRef, tuple[str, str, tuple[URIRef, ...]]] = {
    LICENCE_OUVERTE: ("Licence Ouverte / Open Licence 2.0", "fr", (LICENCE_TYPE.Attribution,)),
    ODBL: (
        "Open Database License (ODbL) 1.0",
        "en",
        (LICENCE_TYPE.Attribution, LICENCE_TYPE["ViralEffect-ShareAlike"]),
    ),
}

#: the ADMS publisher types (``--publisher-type``): code -> the vocabulary's English label
PUBLISHER_TYPE_LABELS: dict[str, str] = {
    "Academia-ScientificOrganisation": "Academia/Scientific organisation",
    "Company": "Company",
    "IndustryConsortium": "Industry consortium",
    "LocalAuthority": "Local Authority",
    "NationalAuthority": "National authority",
    "NonGovernmentalOrganisation": "Non-Governmental Organisation",
    "NonProfitOrganisation": "Non-Profit Organisation",
    "PrivateIndividual(s)": "Private Individual(s)",
    "RegionalAuthority": "Regional authority",
    "StandardisationBody": "Standardisation body",
    "SupraNationalAuthority": "Supra-national authority",
}

#: concepts of the EU and ADMS vocabularies the catalogue uses: scheme and labels, as those vocabularies
#: state them (the catalogue repeats them because DCAT-AP validators do not load the vocabularies)
VOCABULARY_LABELS: dict[URIRef, tuple[URIRef, tuple[tuple[str, str], ...]]] = {
    THEME.ECON: (THEMES, (("Économie et finances", "fr"), ("Economy and finance", "en"))),
    THEME.REGI: (THEMES, (("Régions et villes", "fr"), ("Regions and cities", "en"))),
    THEME.SOCI: (THEMES, (("Population et société", "fr"), ("Population and society", "en"))),
    THEME.TECH: (THEMES, (("Science et technologie", "fr"), ("Science and technology", "en"))),
    AVAILABLE: (AVAILABILITY, (("available", "en"),)),
    LICENCE_TYPE.Attribution: (LICENCE_TYPES, (("Attribution", "en"),)),
    LICENCE_TYPE["ViralEffect-ShareAlike"]: (LICENCE_TYPES, (("Viral effect (a.k.a. Share-alike)", "en"),)),
    **{
        PUBLISHER_TYPE[code]: (PUBLISHER_TYPES, ((label, "en"),))
        for code, label in PUBLISHER_TYPE_LABELS.items()
    },
}
THEME_TAXONOMY_TITLE = (("Data theme", "en"),)

#: the official DCAT-AP 3.0.1 SHACL files ``publish`` checks with (``data/reference/dcat-ap-3.0.1/``):
#: mandatory properties, class ranges (both violations) and recommended properties (warnings)
SHAPES_DIR = "dcat-ap-3.0.1"
SHAPES_FILES = ("shapes.ttl", "range.ttl", "shapes_recommended.ttl")
#: what the 3.0.1 profile also has and ``publish`` cannot run offline, said in every report
NOT_CHECKED = (
    "imports.ttl is not loaded: it imports the W3C/DCMI ontologies from the web; the catalogue states "
    "every class the range shapes ask for instead of relying on their subclass axioms (of its SPDX "
    "ontology, the checksum algorithm is loaded with the EU vocabularies)",
)
#: why a recommended property is left out: result path -> the reason, printed under the warnings
KNOWN_GAPS = {
    DCAT.bbox: "dcat:bbox and dcat:centroid of a dct:Location come from the contours of data/reference/geo "
    "(publish/extent.py); this catalogue was built without them",
}

#: producers of the official sources (dct:creator of the datasets derived from their files)
AGENTS: dict[str, str] = {
    "insee": "Institut national de la statistique et des études économiques (Insee)",
    "dares": "Direction de l'animation de la recherche, des études et des statistiques (Dares)",
    "france-travail": "France Travail (ex-Pôle emploi)",
    "urssaf": "Urssaf Caisse nationale (ex-Acoss)",
}

_YEAR = re.compile(r"/year/(\d{4})$")
_QUARTER = re.compile(r"/quarter/(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class CatalogOptions:
    """Who publishes: the publisher's name and ADMS type code, and a contact (a web page or ``mailto:``).

    The default publisher is the project itself, declared a non-profit organisation; a deployment that
    names its own publisher gives its type too (without it the catalogue omits ``dct:type`` and the
    report lists the warning).
    """

    publisher: str = "Projet bassin-kg : données liées du bassin minier"
    contact: str | None = None
    publisher_type: str | None = "NonProfitOrganisation"

    def __post_init__(self) -> None:
        if self.publisher_type is not None and self.publisher_type not in PUBLISHER_TYPE_LABELS:
            raise UsageError(
                f"unknown publisher type {self.publisher_type!r}: expected one of the ADMS codes "
                + ", ".join(PUBLISHER_TYPE_LABELS)
            )


def sources_of(graph_names: Sequence[str]) -> list[CatalogueEntry]:
    """The release's named graphs grouped by source, as the sources registry describes them."""
    return registry.catalogue(graph_names)


@dataclass
class CatalogInput:
    """What the catalogue describes: the release, its graphs (name -> IRI) and its dump files."""

    release_date: date
    graphs: Mapping[str, str]
    #: graph name -> the files it was converted from (release.json)
    graph_sources: Mapping[str, Sequence[str]]
    dumps: Sequence[DumpFile]
    #: source key -> its own dump
    source_dumps: Mapping[str, DumpFile]
    options: CatalogOptions = field(default_factory=CatalogOptions)
    #: bounding box and centroid of the basin and of France (``extent.catalogue_extents``)
    extents: PlaceExtents | None = None


def catalog_iri(iris: Iris) -> URIRef:
    return URIRef(iris.base + "catalog")


def source_iri(iris: Iris, key: str) -> URIRef:
    return URIRef(f"{iris.base}catalog#{key}")


def licence_of(sources: Sequence[CatalogueEntry]) -> URIRef:
    """ODbL as soon as one part is under ODbL (share-alike), else Licence Ouverte 2.0."""
    return ODBL if any(s.licence == ODBL for s in sources) else LICENCE_OUVERTE


def catalog_graph(store: ox.Store, iris: Iris, data: CatalogInput) -> Graph:
    """The DCAT-AP 3 catalogue of the release."""
    graph = Graph()
    for prefix, space in PREFIXES.items():
        graph.bind(prefix, space)
    for extra, namespace in (("dcatap", DCATAP), ("spdx", SPDX), ("vcard", VCARD), ("dcat", DCAT)):
        graph.bind(extra, namespace)
    add = graph.add
    home = URIRef(iris.base)
    catalog = catalog_iri(iris)
    publisher = URIRef(f"{catalog}#editeur")
    contact = URIRef(f"{catalog}#contact")
    service = URIRef(f"{catalog}#service-sparql")
    whole = dataset_iri(iris)
    modified = Literal(data.release_date.isoformat(), datatype=XSD.date)
    sources = sources_of(list(data.graphs))
    overall = licence_of(sources)
    period = _periods(store, list(data.graphs.values()))

    add((catalog, RDF.type, DCAT.Catalog))
    _texts(
        graph,
        catalog,
        DCTERMS.title,
        (
            "Catalogue du graphe de connaissances du bassin minier du Nord–Pas-de-Calais",
            "Catalogue of the Nord–Pas-de-Calais mining basin knowledge graph",
        ),
    )
    _texts(
        graph,
        catalog,
        DCTERMS.description,
        (
            "Les données liées de la trajectoire économique des quatre zones d'emploi du bassin minier : "
            "exports complets, un jeu de données par source et le point d'accès SPARQL.",
            "Linked data on the economic trajectory of the mining basin's four employment zones: full dumps, "
            "one dataset per source and the SPARQL endpoint.",
        ),
    )
    add((catalog, DCTERMS.publisher, publisher))
    add((catalog, FOAF.homepage, home))
    add((catalog, DCTERMS.language, LANGUAGE.FRA))
    add((catalog, DCTERMS.license, LICENCE_OUVERTE))
    # each publish issues a new catalogue document: it is issued and modified on the publication day
    add((catalog, DCTERMS.issued, modified))
    add((catalog, DCTERMS.modified, modified))
    add((catalog, DCTERMS.spatial, iris.bassin_minier()))
    add((catalog, DCAT.themeTaxonomy, THEMES))
    add((catalog, DCAT.service, service))
    _referenced(graph, iris, data.extents)

    add((publisher, RDF.type, FOAF.Agent))
    add((publisher, FOAF.name, Literal(data.options.publisher)))
    if data.options.publisher_type is not None:
        add((publisher, DCTERMS.type, PUBLISHER_TYPE[data.options.publisher_type]))
        _concept(graph, PUBLISHER_TYPE[data.options.publisher_type])
    # vcard:Kind stated as well: validators do not load vCard's vcard:Organization ⊑ vcard:Kind
    add((contact, RDF.type, VCARD.Kind))
    add((contact, RDF.type, VCARD.Organization))
    add((contact, VCARD.fn, Literal(data.options.publisher)))
    target = data.options.contact or iris.base
    add((contact, VCARD.hasEmail if target.startswith("mailto:") else VCARD.hasURL, URIRef(target)))
    for licence, (title, lang, kinds) in LICENCES.items():
        if licence in (overall, LICENCE_OUVERTE) or any(s.licence == licence for s in sources):
            add((licence, RDF.type, DCTERMS.LicenseDocument))
            add((licence, DCTERMS.title, Literal(title, lang=lang)))
            for kind in kinds:
                add((licence, DCTERMS.type, kind))
                _concept(graph, kind)
    for key in sorted({c for s in sources for c in s.creators}):
        agent = URIRef(f"{catalog}#agent-{key}")
        add((agent, RDF.type, FOAF.Agent))
        add((agent, FOAF.name, Literal(AGENTS[key], lang="fr")))
        add((agent, DCTERMS.type, PUBLISHER_TYPE.NationalAuthority))
        _concept(graph, PUBLISHER_TYPE.NationalAuthority)

    def common(dataset: URIRef, themes: Sequence[str], keywords: Sequence[str]) -> None:
        add((catalog, DCAT.dataset, dataset))
        add((dataset, RDF.type, DCAT.Dataset))
        add((dataset, DCTERMS.identifier, Literal(str(dataset))))
        add((dataset, DCTERMS.publisher, publisher))
        add((dataset, DCAT.contactPoint, contact))
        add((dataset, DCAT.landingPage, home))
        add((dataset, DCTERMS.modified, modified))
        add((dataset, DCTERMS.spatial, iris.bassin_minier()))
        add((dataset, DCTERMS.spatial, FRANCE))
        add((dataset, DCTERMS.language, LANGUAGE.FRA))
        for theme in themes:
            add((dataset, DCAT.theme, THEME[theme]))
            _concept(graph, THEME[theme])
        for keyword in keywords:
            add((dataset, DCAT.keyword, Literal(keyword, lang="fr")))

    # the whole graph
    add((whole, RDF.type, DCAT.Dataset))
    _texts(
        graph,
        whole,
        DCTERMS.title,
        (
            "Trajectoire économique du bassin minier du Nord–Pas-de-Calais : graphe complet",
            "Economic trajectory of the Nord–Pas-de-Calais mining basin: whole graph",
        ),
    )
    _texts(
        graph,
        whole,
        DCTERMS.description,
        (
            "Toutes les sources réunies dans un graphe RDF validé par des formes SHACL : "
            + "; ".join(s.title[0] for s in sources)
            + ".",
            "All sources in one RDF graph checked by SHACL shapes: "
            + "; ".join(s.title[1] for s in sources)
            + ".",
        ),
    )
    common(
        whole,
        sorted({t for s in sources for t in s.themes}),
        sorted({k for s in sources for k in s.keywords}),
    )
    _temporal(graph, whole, _merge([period.get(g) for g in data.graphs.values()]))
    add((whole, DCAT.distribution, _sparql_distribution(graph, iris, service, overall)))
    for dump in data.dumps:
        add((whole, DCAT.distribution, _distribution(graph, iris, dump, overall, modified, _dump_text(dump))))

    # one dataset per source
    for source in sources:
        node = source_iri(iris, source.key)
        add((whole, DCTERMS.hasPart, node))
        add((node, DCTERMS.isPartOf, whole))
        _texts(graph, node, DCTERMS.title, source.title)
        _texts(graph, node, DCTERMS.description, source.description)
        common(node, source.themes, source.keywords)
        for creator in source.creators:
            add((node, DCTERMS.creator, URIRef(f"{catalog}#agent-{creator}")))
        iris_of = [data.graphs[g] for g in source.graphs]
        _temporal(graph, node, _merge([period.get(g) for g in iris_of]))
        files = sorted({f for g in source.graphs for f in data.graph_sources.get(g, ())})
        if files:
            statement = BNode()
            add((node, DCTERMS.provenance, statement))
            add((statement, RDF.type, DCTERMS.ProvenanceStatement))
            add(
                (
                    statement,
                    RDFS.label,
                    Literal(
                        "Converti par bassin-kg depuis : "
                        + ", ".join(files)
                        + " (graphes nommés : "
                        + ", ".join(f"<{i}>" for i in iris_of)
                        + ").",
                        lang="fr",
                    ),
                )
            )
        for cube in _cubes(store, iris_of):
            add((node, DCTERMS.hasPart, URIRef(cube)))
        own = data.source_dumps.get(source.key)
        if own is not None:
            text = (
                f"Les triplets de {source.title[0]} (N-Triples compressé gzip).",
                f"The triples of {source.title[1]} (gzipped N-Triples).",
            )
            add((node, DCAT.distribution, _distribution(graph, iris, own, source.licence, modified, text)))
        add((node, DCAT.distribution, _sparql_distribution(graph, iris, service, source.licence)))
        add((service, DCAT.servesDataset, node))

    add((service, RDF.type, DCAT.DataService))
    _texts(
        graph,
        service,
        DCTERMS.title,
        ("Point d'accès SPARQL du bassin minier", "Mining basin SPARQL endpoint"),
    )
    _texts(
        graph,
        service,
        DCTERMS.description,
        (
            "Point d'accès SPARQL 1.1 (protocole et description de service) sur le graphe complet, "
            "graphes nommés par source.",
            "SPARQL 1.1 endpoint (protocol and service description) over the whole graph, "
            "one named graph per source.",
        ),
    )
    add((service, DCAT.endpointURL, public_url(iris, "sparql")))
    add((service, DCAT.endpointDescription, public_url(iris, "sparql")))
    add((service, DCTERMS.conformsTo, SPARQL_PROTOCOL))
    add((service, DCAT.servesDataset, whole))
    add((service, DCTERMS.publisher, publisher))
    add((service, DCAT.contactPoint, contact))
    add((service, DCTERMS.license, overall))
    add((service, DCAT.landingPage, public_url(iris, "query")))
    add((public_url(iris, "query"), RDF.type, FOAF.Document))
    add((service, DCAT.theme, THEME.ECON))
    _concept(graph, THEME.ECON)
    for keyword in ("SPARQL", "données liées", "bassin minier"):
        add((service, DCAT.keyword, Literal(keyword, lang="fr")))
    return graph


def _concept(graph: Graph, concept: URIRef) -> None:
    """A concept of an EU or ADMS vocabulary, typed, with its scheme and labels."""
    if concept not in VOCABULARY_LABELS:
        raise KeyError(f"{concept}: add its scheme and labels (from its vocabulary) to VOCABULARY_LABELS")
    scheme, labels = VOCABULARY_LABELS[concept]
    graph.add((concept, RDF.type, SKOS.Concept))
    graph.add((concept, SKOS.inScheme, scheme))
    for text, lang in labels:
        graph.add((concept, SKOS.prefLabel, Literal(text, lang=lang)))


def _referenced(graph: Graph, iris: Iris, extents: PlaceExtents | None) -> None:
    """The classes DCAT-AP 3.0.1 gives the resources every catalogue points to (``range.ttl``)."""
    add = graph.add
    add((URIRef(iris.base), RDF.type, FOAF.Document))  # homepage and landing page
    add((LANGUAGE.FRA, RDF.type, DCTERMS.LinguisticSystem))
    for place in (iris.bassin_minier(), FRANCE):
        add((place, RDF.type, DCTERMS.Location))
    if extents is not None:
        _located(graph, iris.bassin_minier(), extents.basin)
        _located(graph, FRANCE, extents.france)
    add((THEMES, RDF.type, SKOS.ConceptScheme))
    for text, lang in THEME_TAXONOMY_TITLE:
        add((THEMES, DCTERMS.title, Literal(text, lang=lang)))
    add((SPARQL_PROTOCOL, RDF.type, DCTERMS.Standard))
    add((SPARQL_PROTOCOL, DCTERMS.title, Literal("SPARQL 1.1 Protocol", lang="en")))
    add((AUTHORITY_SPARQL_FORMAT, RDF.type, DCTERMS.MediaTypeOrExtent))
    add((GZIP, RDF.type, DCTERMS.MediaType))


def _located(graph: Graph, place: URIRef, extent: Extent) -> None:
    """A place's box as GeoJSON (what data.gouv.fr reads) and its centroid as GeoSPARQL WKT (DCAT's example).

    One literal each: DCAT-AP 3.0.1 allows at most one ``dcat:bbox`` and one ``dcat:centroid``.
    """
    graph.add((place, DCAT.bbox, Literal(extent.bbox_geojson(), datatype=GEOJSON_LITERAL)))
    graph.add((place, DCAT.centroid, Literal(extent.centroid_wkt(), datatype=GSP.wktLiteral)))


def _texts(graph: Graph, node: URIRef, prop: URIRef, texts: tuple[str, str]) -> None:
    graph.add((node, prop, Literal(texts[0], lang="fr")))
    graph.add((node, prop, Literal(texts[1], lang="en")))


def _dump_text(dump: DumpFile) -> tuple[str, str]:
    if dump.spec.named_graphs:
        return (
            f"Le graphe complet en {dump.spec.label}, un graphe nommé par source "
            f"({dump.statements} quadruplets).",
            f"The whole graph as {dump.spec.label}, one named graph per source ({dump.statements} quads).",
        )
    gz = " compressé gzip" if dump.spec.gzipped else ""
    return (
        f"Le graphe complet (union des graphes nommés) en {dump.spec.label}{gz} "
        f"({dump.statements} triplets).",
        f"The whole graph (union of the named graphs) as {dump.spec.label}"
        f"{' gzipped' if gz else ''} ({dump.statements} triples).",
    )


def _distribution(
    graph: Graph, iris: Iris, dump: DumpFile, licence: URIRef, modified: Literal, text: tuple[str, str]
) -> URIRef:
    add = graph.add
    node = URIRef(f"{catalog_iri(iris)}#distribution-{dump.name.replace('/', '-')}")
    url = public_url(iris, "dist/" + dump.name)
    add((node, RDF.type, DCAT.Distribution))
    add((node, DCTERMS.title, Literal(dump.name)))
    _texts(graph, node, DCTERMS.description, text)
    add((node, DCAT.accessURL, url))
    add((node, DCAT.downloadURL, url))
    add((node, DCTERMS.format, URIRef(dump.spec.format_iri)))
    add((URIRef(dump.spec.format_iri), RDF.type, DCTERMS.MediaTypeOrExtent))
    add((node, DCAT.mediaType, URIRef(dump.spec.media_type_iri)))
    add((URIRef(dump.spec.media_type_iri), RDF.type, DCTERMS.MediaType))
    if dump.spec.gzipped:
        add((node, DCAT.compressFormat, GZIP))
    add((node, DCAT.byteSize, Literal(dump.bytes, datatype=XSD.nonNegativeInteger)))
    checksum = BNode()
    add((node, SPDX.checksum, checksum))
    add((checksum, RDF.type, SPDX.Checksum))
    add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
    add((node, DCTERMS.license, licence))
    add((node, DCATAP.availability, AVAILABLE))
    _concept(graph, AVAILABLE)
    add((node, DCTERMS.modified, modified))
    return node


def _sparql_distribution(graph: Graph, iris: Iris, service: URIRef, licence: URIRef) -> URIRef:
    """Access through the endpoint, as a distribution (what portals that only read distributions show)."""
    add = graph.add
    suffix = "odbl" if licence == ODBL else "lo"
    node = URIRef(f"{catalog_iri(iris)}#distribution-sparql-{suffix}")
    add((node, RDF.type, DCAT.Distribution))
    add((node, DCTERMS.title, Literal("Point d'accès SPARQL", lang="fr")))
    _texts(
        graph,
        node,
        DCTERMS.description,
        (
            "Interroger le graphe en SPARQL 1.1 (GRAPH <…> pour un graphe nommé).",
            "Query the graph with SPARQL 1.1 (GRAPH <…> for one named graph).",
        ),
    )
    add((node, DCAT.accessURL, public_url(iris, "sparql")))
    add((node, DCAT.accessService, service))
    add((node, DCTERMS.format, AUTHORITY_SPARQL_FORMAT))
    add((node, DCTERMS.license, licence))
    add((node, DCATAP.availability, AVAILABLE))
    _concept(graph, AVAILABLE)
    return node


# --- what the data says about itself -------------------------------------------------------------
Period = tuple[date, date]


def _periods(store: ox.Store, graph_iris: Sequence[str]) -> dict[str, Period]:
    """Per graph: the span of the periods its data covers, read from the data, never assumed.

    A graph's own observation periods (sdmx refPeriod) or geographic vintages when it has them; else
    the periods of the observations elsewhere that use its resources, as a dimension value (an occupation
    concept) or as a property (a measure of the ontology): a classification covers the years it
    classifies figures of. A graph nothing dates has no span (and the catalogue no ``dct:temporal``).
    """
    spans: dict[str, Period] = {}
    for graph_iri in graph_iris:
        own = (
            f"SELECT DISTINCT ?v WHERE {{ GRAPH <{graph_iri}> {{ {{ ?x <{SDMX_DIM.refPeriod}> ?v }} "
            f"UNION {{ ?x <{BM.millesimeGeographique}> ?v }} }} }}"
        )
        used = (
            "SELECT DISTINCT ?v WHERE { "
            f"{{ {{ SELECT DISTINCT ?r WHERE {{ GRAPH <{graph_iri}> {{ ?r ?q ?z }} }} }} "
            f"GRAPH ?h {{ ?obs ?p ?r . ?obs <{SDMX_DIM.refPeriod}> ?v }} }} UNION "
            f"{{ {{ SELECT DISTINCT ?r WHERE {{ GRAPH <{graph_iri}> {{ ?r ?q ?z }} }} }} "
            f"GRAPH ?h {{ ?obs ?r ?o . ?obs <{SDMX_DIM.refPeriod}> ?v }} }} }}"
        )
        for query in (own, used):
            merged = _merge([_period(value) for value in _values(store, query)])
            if merged is not None:
                spans[graph_iri] = merged
                break
    return spans


def _values(store: ox.Store, query: str) -> list[str]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return [term.value for row in solutions if (term := row["v"]) is not None]


def _period(value: str) -> Period | None:
    if m := _YEAR.search(value):
        year = int(m.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    if m := _QUARTER.search(value):
        year, quarter = int(m.group(1)), int(m.group(2))
        end_month = quarter * 3
        end_day = 31 if end_month in (3, 12) else 30
        return date(year, end_month - 2, 1), date(year, end_month, end_day)
    if re.fullmatch(r"\d{4}", value):
        # a geographic vintage: the geography as of 1 January of that year
        return date(int(value), 1, 1), date(int(value), 1, 1)
    return None


def _merge(spans: Sequence[Period | None]) -> Period | None:
    known = [s for s in spans if s is not None]
    if not known:
        return None
    return min(s[0] for s in known), max(s[1] for s in known)


def _temporal(graph: Graph, node: URIRef, span: Period | None) -> None:
    if span is None:
        return
    period = BNode()
    graph.add((node, DCTERMS.temporal, period))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    graph.add((period, DCAT.startDate, Literal(span[0].isoformat(), datatype=XSD.date)))
    graph.add((period, DCAT.endDate, Literal(span[1].isoformat(), datatype=XSD.date)))


def _cubes(store: ox.Store, graph_iris: Sequence[str]) -> list[str]:
    values = " ".join(f"<{g}>" for g in graph_iris)
    query = (
        f"SELECT DISTINCT ?d WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?d a <{QB.DataSet}> }} }} "
        "ORDER BY ?d"
    )
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    return [row["d"].value for row in solutions if isinstance(row["d"], ox.NamedNode)]


# --- the SHACL check ---------------------------------------------------------------------------------
SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class ShaclOutcome:
    """The DCAT-AP check: violations (mandatory and range shapes) and warnings (recommended shapes).

    ``report`` is the standard ``sh:ValidationReport`` of all the shape files together.
    """

    violations: list[str]
    warnings: list[str]
    checked: tuple[str, ...] = ()
    #: results of an official shape that are the shape's error (``vocabularies.KNOWN_SHAPE_DEFECTS``)
    known_defects: list[str] = field(default_factory=list)
    not_checked: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    report: Graph | None = field(default=None, repr=False, compare=False)

    @property
    def conforms(self) -> bool:
        return not self.violations

    def render(self) -> str:
        lines = [
            f"DCAT-AP 3.0.1 ({', '.join(self.checked)}): "
            f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)"
            + (f", {len(self.known_defects)} known shape defect(s)" if self.known_defects else "")
        ]
        for name in self.checked:  # each text names the file its shape is in
            counts = [sum(f"({name})" in t for t in texts) for texts in (self.violations, self.warnings)]
            lines.append(f"  {name}: {counts[0]} violation(s), {counts[1]} warning(s)")
        lines += [f"  violation: {v}" for v in self.violations]
        lines += [f"  warning: {w}" for w in self.warnings]
        lines += [f"  known shape defect (not counted): {d}" for d in self.known_defects]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  not checked: {note}" for note in self.not_checked]
        return "\n".join(lines)


def shapes_paths(reference_dir: Path) -> list[Path]:
    """The DCAT-AP 3.0.1 shape files under ``reference_dir`` (``data/reference``), all present."""
    return [
        reference_file(reference_dir, f"{SHAPES_DIR}/{name}", "DCAT-AP 3.0.1 shapes file")
        for name in SHAPES_FILES
    ]


def check_catalog(catalog: Graph, reference_dir: Path) -> ShaclOutcome:
    """Validate ``catalog`` with the official DCAT-AP 3.0.1 shapes kept in ``data/reference/``.

    One pyshacl run per file, so that each result names the file of the shape it broke. The
    controlled-vocabulary shapes run on the catalogue plus the EU vocabularies (``vocabularies.py``).
    """
    from pyshacl import validate

    violations: set[str] = set()
    warnings: set[str] = set()
    notes: set[str] = set()
    defects: set[str] = set()
    report = Graph()
    report.bind("sh", SH)
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    eu_vocabularies = vocabularies.vocabulary_graph(reference_dir)
    runs = [(path, catalog) for path in shapes_paths(reference_dir)]
    runs.append((vocabularies.mdr_shapes_path(reference_dir), catalog + eu_vocabularies))
    violations.update(
        f"{m} (eu-vocabularies)" for m in vocabularies.restated_mismatches(catalog, eu_vocabularies)
    )
    for shapes_file, data in runs:
        shapes = Graph().parse(shapes_file, format="turtle")
        _conforms, results, _text = validate(
            data, shacl_graph=shapes, inference="none", abort_on_first=False, allow_warnings=True
        )
        assert isinstance(results, Graph)
        for own in results.subjects(RDF.type, SH.ValidationReport):
            results.remove((own, None, None))
        report += results
        nested = set(results.objects(None, SH.detail))  # counted with the result they detail
        for result in set(results.subjects(RDF.type, SH.ValidationResult)) - nested:
            report.add((node, SH.result, result))
            focus = results.value(result, SH.focusNode)
            result_path = results.value(result, SH.resultPath)
            value = results.value(result, SH.value)
            message = results.value(result, SH.resultMessage)
            shown = f" {_short(value)}" if value is not None and value != focus else ""
            text = f"{focus} {_short(result_path)}{shown}: {message} ({shapes_file.name})"
            severity = results.value(result, SH.resultSeverity)
            gap = KNOWN_GAPS.get(DCAT.bbox if result_path == DCAT.centroid else URIRef(str(result_path)))
            if gap is not None and severity != SH.Violation:
                notes.add(gap)
            if shapes_file.name == vocabularies.MDR_SHAPES:
                if inner := vocabularies.detail_paths(results, result):
                    text += "; failed inside on " + ", ".join(_short(path) for path in inner)
                if (defect := vocabularies.known_defect(result_path, value)) is not None:
                    defects.add(text)
                    notes.add(f"{_short(result_path)} ({vocabularies.MDR_SHAPES}): {defect}")
                    continue
                if severity != SH.Violation and (why := vocabularies.inherent_warning(results, result)):
                    notes.add(f"{_short(result_path)} ({vocabularies.MDR_SHAPES}): {why}")
            (violations if severity == SH.Violation else warnings).add(text)
    # sh:conforms in its standard meaning: false on any result, warnings and known defects included
    report.add((node, SH.conforms, Literal(not violations and not warnings and not defects)))
    return ShaclOutcome(
        sorted(violations),
        sorted(warnings),
        checked=(*SHAPES_FILES, vocabularies.MDR_SHAPES),
        known_defects=sorted(defects),
        not_checked=NOT_CHECKED,
        notes=tuple(sorted(notes)),
        report=report,
    )


def _short(term: object) -> str:
    text = str(term) if term is not None else ""
    for prefix, space in (
        *PREFIXES.items(),
        ("dcatap", str(DCATAP)),
        ("spdx", str(SPDX)),
        ("vcard", str(VCARD)),
    ):
        if text.startswith(space):
            return f"{prefix}:{text[len(space) :]}"
    return text
