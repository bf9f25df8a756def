"""The SPARQL 1.1 Service Description answered by a GET on ``/sparql`` without a query.

``sd:endpoint`` is the URL the client asked for, so the description is right on localhost and behind
the production host alike. The default dataset lists each named graph with its triple count (VoID).
"""

from __future__ import annotations

import pyoxigraph as ox

from bassin_kg.namespaces import PREFIXES, SD, VOID
from bassin_kg.settings import Settings
from bassin_kg.web.negotiation import GRAPH_FORMATS, SOLUTION_FORMATS
from bassin_kg.web.serving.engine import GraphStats

_RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_SIMPLE_ENTAILMENT = ox.NamedNode("http://www.w3.org/ns/entailment/Simple")
_FORMAT_IRIS = {
    "json": ox.QueryResultsFormat.JSON.iri,
    "xml": ox.QueryResultsFormat.XML.iri,
    "csv": ox.QueryResultsFormat.CSV.iri,
    "tsv": ox.QueryResultsFormat.TSV.iri,
    "ttl": ox.RdfFormat.TURTLE.iri,
    "nt": ox.RdfFormat.N_TRIPLES.iri,
    "nq": ox.RdfFormat.N_QUADS.iri,
    "rdfxml": ox.RdfFormat.RDF_XML.iri,
    "jsonld": ox.RdfFormat.JSON_LD.iri,
}
_SERIALISATIONS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def _sd(term: str) -> ox.NamedNode:
    return ox.NamedNode(str(SD[term]))


def _count(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_XSD_INTEGER)


def describe(endpoint: str, settings: Settings, stats: GraphStats) -> list[ox.Triple]:
    """The description of the service reached at ``endpoint``."""
    service = ox.BlankNode("service")
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    triples_prop = ox.NamedNode(str(VOID.triples))
    out = [
        ox.Triple(service, _RDF_TYPE, _sd("Service")),
        ox.Triple(service, _sd("endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        ox.Triple(service, _sd("feature"), _sd("UnionDefaultGraph")),
        ox.Triple(service, _sd("defaultEntailmentRegime"), _SIMPLE_ENTAILMENT),
        ox.Triple(service, _sd("defaultDataset"), dataset),
        ox.Triple(dataset, _RDF_TYPE, _sd("Dataset")),
        ox.Triple(dataset, _sd("defaultGraph"), default_graph),
        ox.Triple(default_graph, _RDF_TYPE, _sd("Graph")),
        # the default graph a query sees is the union of the named graphs
        ox.Triple(default_graph, triples_prop, _count(stats.union_triples)),
    ]
    if settings.enable_update:
        out.append(ox.Triple(service, _sd("supportedLanguage"), _sd("SPARQL11Update")))
    if settings.service_allowlist:
        out.append(ox.Triple(service, _sd("feature"), _sd("BasicFederatedQuery")))
    for fmt in SOLUTION_FORMATS + GRAPH_FORMATS:
        out.append(ox.Triple(service, _sd("resultFormat"), ox.NamedNode(_FORMAT_IRIS[fmt.name])))
    for index, (name, count) in enumerate(stats.named):
        entry = ox.BlankNode(f"namedGraph{index}")
        graph = ox.BlankNode(f"graph{index}")
        out += [
            ox.Triple(dataset, _sd("namedGraph"), entry),
            ox.Triple(entry, _RDF_TYPE, _sd("NamedGraph")),
            ox.Triple(entry, _sd("name"), ox.NamedNode(name)),
            ox.Triple(entry, _sd("graph"), graph),
            ox.Triple(graph, _RDF_TYPE, _sd("Graph")),
            ox.Triple(graph, triples_prop, _count(count)),
        ]
    return out


def serialise(triples: list[ox.Triple], fmt: str) -> bytes:
    """``triples`` in the format with short name ``fmt`` (one of the graph formats)."""
    prefixes = {"sd": str(SD), "void": PREFIXES["void"], "rdf": PREFIXES["rdf"]}
    body = ox.serialize(triples, format=_SERIALISATIONS[fmt], prefixes=prefixes)
    assert body is not None
    return body
