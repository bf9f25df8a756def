"""The Service Description answered by GET /sparql without a query (synthetic store)."""

from __future__ import annotations

import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import RDF

from bassin_kg.namespaces import SD, VOID

from .conftest import ALPHA, BETA, TOKEN, ClientFactory


def description(client: TestClient, accept: str = "text/turtle", fmt: str = "turtle") -> rdflib.Graph:
    response = client.get("/sparql", headers={"accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == accept
    return rdflib.Graph().parse(data=response.content, format=fmt)


def service_node(graph: rdflib.Graph) -> rdflib.term.Node:
    services = list(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    return services[0]


def test_endpoint_is_the_url_asked_for(client: TestClient) -> None:
    graph = description(client)
    assert graph.value(service_node(graph), SD.endpoint) == rdflib.URIRef("http://testserver/sparql")


def test_endpoint_follows_the_host(make_client: ClientFactory) -> None:
    client = make_client()
    response = client.get("https://data.example:8443/sparql", headers={"accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert graph.value(service_node(graph), SD.endpoint) == rdflib.URIRef("https://data.example:8443/sparql")


def test_languages_features_and_formats(client: TestClient) -> None:
    graph = description(client)
    service = service_node(graph)
    assert set(graph.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}
    assert set(graph.objects(service, SD.feature)) == {SD.UnionDefaultGraph}
    formats = {str(f) for f in graph.objects(service, SD.resultFormat)}
    assert "http://www.w3.org/ns/formats/SPARQL_Results_JSON" in formats
    assert "http://www.w3.org/ns/formats/Turtle" in formats
    assert len(formats) == 9


def test_named_graphs_with_triple_counts(client: TestClient) -> None:
    graph = description(client)
    dataset = graph.value(service_node(graph), SD.defaultDataset)
    assert dataset is not None
    default_graph = graph.value(dataset, SD.defaultGraph)
    assert graph.value(default_graph, VOID.triples).toPython() == 5  # type: ignore[union-attr]
    counts = {}
    for entry in graph.objects(dataset, SD.namedGraph):
        name = graph.value(entry, SD.name)
        counts[str(name)] = graph.value(graph.value(entry, SD.graph), VOID.triples).toPython()  # type: ignore[union-attr]
    assert counts == {ALPHA: 3, BETA: 2}


def test_update_and_federation_are_declared_when_on(make_client: ClientFactory) -> None:
    client = make_client(enable_update=True, update_token=TOKEN, service_allowlist=("data.example",))
    graph = description(client)
    service = service_node(graph)
    assert SD.SPARQL11Update in set(graph.objects(service, SD.supportedLanguage))
    assert SD.BasicFederatedQuery in set(graph.objects(service, SD.feature))


def test_other_rdf_formats(client: TestClient) -> None:
    assert len(description(client, "application/rdf+xml", "xml")) > 0
    assert len(description(client, "application/n-triples", "nt")) > 0
    response = client.get("/sparql", headers={"accept": "application/ld+json"})
    assert response.status_code == 200
    assert "sparql-service-description#endpoint" in response.text


def test_default_is_turtle_and_not_acceptable_is_406(client: TestClient) -> None:
    assert client.get("/sparql").headers["content-type"] == "text/turtle; charset=utf-8"
    response = client.get("/sparql", headers={"accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.text


def test_etag_304(client: TestClient) -> None:
    etag = client.get("/sparql").headers["etag"]
    assert client.get("/sparql", headers={"if-none-match": etag}).status_code == 304
