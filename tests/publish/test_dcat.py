"""The DCAT-AP 3 catalogue conforms to the official shapes, names every dump, and licenses each part."""

from __future__ import annotations

from datetime import date

import pyoxigraph as ox
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD

from bassin_kg.namespaces import Iris
from bassin_kg.publish import PublishResult
from bassin_kg.publish.dcat import (
    LICENCE_OUVERTE,
    ODBL,
    SPDX,
    CatalogInput,
    catalog_graph,
    check_catalog,
    source_iri,
    sources_of,
)
from bassin_kg.publish.void import dataset_iri
from bassin_kg.settings import Settings

DCAT_REF = "dcat-ap-3.0.0-shapes.ttl"


def test_catalogue_conforms_to_the_mandatory_dcat_ap_shapes(
    published: tuple[Settings, PublishResult],
) -> None:
    settings, result = published
    catalog = Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle")
    shapes = Graph().parse(settings.data_dir / "reference" / DCAT_REF, format="turtle")
    conforms, _graph, text = validate(catalog, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text
    assert result.dcat.violations == []
    # the recommended shapes' gaps are listed, not hidden
    assert result.dcat.warnings
    assert all(":" in w for w in result.dcat.warnings)
    report = (settings.dist_dir / "dcat-ap-report.txt").read_text()
    assert "0 violation(s)" in report
    assert result.dcat.warnings[0] in report


def test_the_other_serialisations_hold_the_same_catalogue(published: tuple[Settings, PublishResult]) -> None:
    settings, _result = published
    counts = {
        name: sum(1 for _ in ox.parse(path=settings.dist_dir / name, format=fmt))
        for name, fmt in (
            ("catalog.ttl", ox.RdfFormat.TURTLE),
            ("catalog.rdf", ox.RdfFormat.RDF_XML),
            ("catalog.jsonld", ox.RdfFormat.JSON_LD),
            ("catalog.nt", ox.RdfFormat.N_TRIPLES),
        )
    }
    assert len(set(counts.values())) == 1, counts
    assert counts["catalog.ttl"] > 100


def test_every_dump_is_a_distribution_with_size_and_checksum(
    published: tuple[Settings, PublishResult],
) -> None:
    settings, result = published
    iris = Iris(settings.base_iri)
    catalog = Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle")
    by_url = {catalog.value(d, DCAT.downloadURL): d for d in catalog.subjects(RDF.type, DCAT.Distribution)}
    whole = dataset_iri(iris)
    for dump in [*result.dumps, *result.source_dumps]:
        node = by_url[URIRef(iris.base + "dist/" + dump.name)]
        size = catalog.value(node, DCAT.byteSize)
        assert isinstance(size, Literal)
        assert size.datatype == XSD.decimal
        assert size.toPython() == dump.bytes
        checksum = catalog.value(node, SPDX.checksum)
        assert catalog.value(checksum, SPDX.algorithm) == SPDX.checksumAlgorithm_sha256
        assert str(catalog.value(checksum, SPDX.checksumValue)) == dump.sha256
        assert catalog.value(node, DCTERMS.license) in (LICENCE_OUVERTE, ODBL)
        assert catalog.value(node, DCTERMS.format) is not None
    for dump in result.dumps:
        assert (whole, DCAT.distribution, by_url[URIRef(iris.base + "dist/" + dump.name)]) in catalog


def test_one_dataset_per_source_and_the_endpoint_as_a_service(
    published: tuple[Settings, PublishResult],
) -> None:
    settings, _result = published
    iris = Iris(settings.base_iri)
    catalog = Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle")
    datasets = set(catalog.subjects(RDF.type, DCAT.Dataset))
    for key in ("plaquette", "metiers", "territoires", "bmo-2024", "ontologie"):
        assert source_iri(iris, key) in datasets, key
    assert source_iri(iris, "acoss") not in datasets  # not loaded in this build
    service = next(iter(catalog.subjects(RDF.type, DCAT.DataService)))
    assert catalog.value(service, DCAT.endpointURL) == URIRef(iris.base + "sparql")
    assert set(catalog.objects(service, DCAT.servesDataset)) == datasets
    # the deck's Data Cube datasets are parts of the deck's catalogue dataset
    assert (source_iri(iris, "plaquette"), DCTERMS.hasPart, iris.dataset("deck-chomage")) in catalog
    # the BMO year is the dataset's temporal coverage, read from the observations
    period = catalog.value(source_iri(iris, "bmo-2024"), DCTERMS.temporal)
    assert catalog.value(period, DCAT.startDate) == Literal("2024-01-01", datatype=XSD.date)
    assert catalog.value(period, DCAT.endDate) == Literal("2024-12-31", datatype=XSD.date)


def test_acoss_part_is_odbl_and_so_are_the_mixed_dumps(published: tuple[Settings, PublishResult]) -> None:
    settings, result = published
    iris = Iris(settings.base_iri)
    store = ox.Store()  # no observations needed: licences follow the graph names
    graphs = {"deck": str(iris.graph("deck")), "acoss": str(iris.graph("acoss"))}
    data = CatalogInput(date(2025, 1, 1), graphs, {}, result.dumps, {})
    catalog = catalog_graph(store, iris, data)
    acoss = source_iri(iris, "acoss")
    deck = source_iri(iris, "plaquette")
    licences = {
        ds: {catalog.value(d, DCTERMS.license) for d in catalog.objects(ds, DCAT.distribution)}
        for ds in (acoss, deck, dataset_iri(iris))
    }
    assert licences[acoss] == {ODBL}
    assert licences[deck] == {LICENCE_OUVERTE}
    assert licences[dataset_iri(iris)] == {ODBL}
    assert (ODBL, RDF.type, DCTERMS.LicenseDocument) in catalog
    assert check_catalog(catalog, settings.data_dir / "reference").conforms


def test_check_catalog_reports_a_violation(published: tuple[Settings, PublishResult]) -> None:
    settings, _result = published
    catalog = Graph().parse(settings.dist_dir / "catalog.ttl", format="turtle")
    dataset = source_iri(Iris(settings.base_iri), "plaquette")
    catalog.remove((dataset, DCTERMS.description, None))
    catalog.add((dataset, DCTERMS.publisher, Literal("a name is not an agent")))
    outcome = check_catalog(catalog, settings.data_dir / "reference")
    assert not outcome.conforms
    assert any("description" in v for v in outcome.violations)
    assert any("publisher" in v for v in outcome.violations)


def test_sources_group_the_graphs() -> None:
    names = ["ontology", "deck", "rome", "fap2009", "bmo-2024", "bmo-2019", "acoss", "insee-links", "extra"]
    keys = [s.key for s in sources_of(names)]
    assert keys == [
        "plaquette",
        "metiers",
        "bmo-2019",
        "bmo-2024",
        "acoss",
        "liens-insee",
        "ontologie",
        "extra",
    ]
    metiers = next(s for s in sources_of(names) if s.key == "metiers")
    assert metiers.graphs == ("fap2009", "rome")
