"""The DCAT-AP 3 catalogue meets the official 3.0.1 shapes, names every dump, and licenses each part."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS, XSD

from bassin_kg.errors import UsageError
from bassin_kg.namespaces import Iris
from bassin_kg.publish import PublishResult
from bassin_kg.publish.dcat import (
    FRANCE,
    GZIP,
    LICENCE_OUVERTE,
    ODBL,
    PUBLISHER_TYPE,
    SHAPES_DIR,
    SHAPES_FILES,
    SPDX,
    THEME,
    VOCABULARY_LABELS,
    CatalogInput,
    CatalogOptions,
    catalog_graph,
    check_catalog,
    source_iri,
    sources_of,
)
from bassin_kg.publish.void import dataset_iri
from bassin_kg.settings import Settings

SH = Namespace("http://www.w3.org/ns/shacl#")
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
#: SEMICeu/DCAT-AP @ 7c531da7 : releases/3.0.1/html/shacl/<file>, as in ../shared/reference/dcat-ap-3.0.1/
OFFICIAL_SHA256 = {
    "shapes.ttl": "7fe9815e0f32b10f5cbce74fa6ccd0290aae3ef9e5080fb84e2d8093eb984d1d",
    "range.ttl": "24d3bfd0fa17a3d0e877c9ebb91c8174124e5038538e1bf081b2cb679ad0f1b2",
    "shapes_recommended.ttl": "9afbf23f1f56d10d6839259684934137e20506a9aedce0249b619bbc593b9abd",
}


def test_the_shapes_are_the_official_dcat_ap_3_0_1_files() -> None:
    folder = REFERENCE / SHAPES_DIR
    assert set(SHAPES_FILES) == set(OFFICIAL_SHA256)
    for name, digest in OFFICIAL_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name


def test_catalogue_meets_the_whole_dcat_ap_3_0_1_profile(
    published: tuple[Settings, PublishResult], catalog: Graph
) -> None:
    settings, result = published
    iris = Iris(settings.base_iri)
    found: dict[str, set[tuple[str, str]]] = {"violation": set(), "warning": set()}
    for name in SHAPES_FILES:
        shapes = Graph().parse(REFERENCE / SHAPES_DIR / name, format="turtle")
        _conforms, results, _text = validate(
            catalog, shacl_graph=shapes, inference="none", allow_warnings=True
        )
        for node in results.subjects(RDF.type, SH.ValidationResult):
            kind = "violation" if results.value(node, SH.resultSeverity) == SH.Violation else "warning"
            found[kind].add((str(results.value(node, SH.focusNode)), str(results.value(node, SH.resultPath))))
    assert found["violation"] == set()
    assert found["warning"] == set()  # the places' geometry included (data/reference/geo)
    assert result.dcat.violations == []
    # the controlled-vocabulary results are tested in test_vocabularies.py
    vocabulary = [w for w in result.dcat.warnings if "(mdr-vocabularies.shape.ttl)" in w]
    assert len(result.dcat.warnings) == len(vocabulary)  # none from the three other files
    report = (settings.dist_dir / "dcat-ap-report.txt").read_text()
    profile = "DCAT-AP 3.0.1 (shapes.ttl, range.ttl, shapes_recommended.ttl, mdr-vocabularies.shape.ttl)"
    assert f"{profile}: 0 violation(s), {len(vocabulary)} warning(s)" in report
    for name in ("shapes.ttl", "range.ttl", "shapes_recommended.ttl"):
        assert f"  {name}: 0 violation(s), 0 warning(s)" in report
    assert "not checked: mdr-vocabularies.shape.ttl" not in report
    standard = Graph().parse(settings.dist_dir / "dcat-ap-report.ttl", format="turtle")
    node = standard.value(predicate=RDF.type, object=SH.ValidationReport)
    assert standard.value(node, SH.conforms) == Literal(False)  # warnings count in sh:conforms
    results = len(vocabulary) + len(result.dcat.known_defects)
    assert len(list(standard.objects(node, SH.result))) == results
    # without the contours the two places lack their geometry, and the report says where it comes from
    data = CatalogInput(date(2025, 1, 1), {"deck": str(iris.graph("deck"))}, {}, result.dumps, {})
    outcome = check_catalog(catalog_graph(ox.Store(), iris, data), settings.data_dir / "reference")
    places = (str(FRANCE), str(iris.bassin_minier()))
    geometry = [w for w in outcome.warnings if " dcat:bbox: " in w or " dcat:centroid: " in w]
    assert {tuple(w.split(" ")[:2]) for w in geometry} == {
        (place, f"dcat:{p}:") for place in places for p in ("bbox", "centroid")
    }
    assert "come from the contours of data/reference/geo" in "\n".join(outcome.notes)


def test_each_place_has_its_box_and_centroid(
    published: tuple[Settings, PublishResult], catalog: Graph
) -> None:
    settings, _result = published
    iris = Iris(settings.base_iri)
    for place in (iris.bassin_minier(), FRANCE):
        assert (place, RDF.type, DCTERMS.Location) in catalog
        (box,) = catalog.objects(place, DCAT.bbox)
        (centre,) = catalog.objects(place, DCAT.centroid)
        assert isinstance(box, Literal)
        assert isinstance(centre, Literal)
        # GeoJSON, the datatype data.gouv.fr's harvester reads a spatial coverage from
        assert box.datatype == URIRef("https://www.iana.org/assignments/media-types/application/vnd.geo+json")
        geometry = json.loads(str(box))
        assert geometry["type"] == "Polygon"
        ring = geometry["coordinates"][0]
        (west, south), (east, north) = ring[0], ring[2]
        assert ring == [[west, south], [east, south], [east, north], [west, north], [west, south]]
        assert centre.datatype == URIRef("http://www.opengis.net/ont/geosparql#wktLiteral")
        match = re.fullmatch(r"POINT\((-?[0-9.]+) (-?[0-9.]+)\)", str(centre))
        assert match is not None, centre
        lon, lat = float(match[1]), float(match[2])
        assert west < lon < east
        assert south < lat < north
    basin_box = json.loads(str(catalog.value(iris.bassin_minier(), DCAT.bbox)))["coordinates"][0]
    assert basin_box[0] > [2.2, 50.2]
    assert basin_box[2] < [3.7, 50.7]


def test_referenced_resources_carry_the_class_dcat_ap_gives_them(catalog: Graph) -> None:
    for concept in catalog.objects(None, DCAT.theme):
        assert (concept, RDF.type, SKOS.Concept) in catalog
        assert (concept, SKOS.inScheme, URIRef(str(THEME)[:-1])) in catalog
        assert catalog.value(concept, SKOS.prefLabel) is not None
    assert catalog.value(THEME.ECON, SKOS.prefLabel, any=True) in (
        Literal("Économie et finances", lang="fr"),
        Literal("Economy and finance", lang="en"),
    )
    for prop, kind in (
        (DCTERMS.spatial, DCTERMS.Location),
        (DCTERMS.language, DCTERMS.LinguisticSystem),
        (DCTERMS.format, DCTERMS.MediaTypeOrExtent),
        (DCAT.mediaType, DCTERMS.MediaType),
        (DCAT.compressFormat, DCTERMS.MediaType),
        (DCAT.landingPage, URIRef("http://xmlns.com/foaf/0.1/Document")),
        (DCTERMS.conformsTo, DCTERMS.Standard),
        (DCAT.contactPoint, URIRef("http://www.w3.org/2006/vcard/ns#Kind")),
    ):
        values = set(catalog.objects(None, prop))
        assert values, prop
        assert all((value, RDF.type, kind) in catalog for value in values), prop


def test_a_mistyped_resource_is_a_violation(
    published: tuple[Settings, PublishResult], catalog_copy: Graph
) -> None:
    settings, _result = published
    broken = catalog_copy
    broken.remove((FRANCE, RDF.type, DCTERMS.Location))
    broken.remove((GZIP, RDF.type, DCTERMS.MediaType))
    broken.remove((THEME.ECON, SKOS.prefLabel, None))
    outcome = check_catalog(broken, settings.data_dir / "reference")
    assert not outcome.conforms
    assert any(f"dcterms:spatial {FRANCE}" in v and "(range.ttl)" in v for v in outcome.violations)
    assert any("dcat:compressFormat" in v and "(range.ttl)" in v for v in outcome.violations)
    assert any(f"{THEME.ECON} skos:prefLabel" in v and "(shapes.ttl)" in v for v in outcome.violations)


def test_a_byte_size_of_the_wrong_datatype_is_a_violation(
    published: tuple[Settings, PublishResult], catalog_copy: Graph
) -> None:
    settings, _result = published
    broken = catalog_copy
    node, size = next(iter(broken.subject_objects(DCAT.byteSize)))
    broken.set((node, DCAT.byteSize, Literal(f"{size}.0", datatype=XSD.decimal)))
    outcome = check_catalog(broken, settings.data_dir / "reference")
    expected = "Value is not Literal with datatype xsd:nonNegativeInteger (shapes.ttl)"
    assert [v for v in outcome.violations if "dcat:byteSize" in v] == [
        f"{node} dcat:byteSize {size}.0: {expected}"
    ]


def test_a_missing_recommended_property_is_a_warning_not_a_violation(
    published: tuple[Settings, PublishResult], catalog_copy: Graph
) -> None:
    settings, _result = published
    broken = catalog_copy
    deck = source_iri(Iris(settings.base_iri), "plaquette")
    broken.remove((deck, DCTERMS.temporal, None))
    outcome = check_catalog(broken, settings.data_dir / "reference")
    assert outcome.conforms
    assert any(f"{deck} dcterms:temporal" in w and "(shapes_recommended.ttl)" in w for w in outcome.warnings)


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
        assert size.datatype == XSD.nonNegativeInteger
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
    # graphs with no dates of their own cover the years of the figures that use their terms: the
    # FAP-2009 concepts of the deck's 2018 observations and the FAP-2021 ones of BMO 2024, the
    # ontology's measures of 2018 and 2024
    for key, start, end in (
        ("metiers", "2018-01-01", "2024-12-31"),
        ("ontologie", "2018-01-01", "2024-12-31"),
    ):
        period = catalog.value(source_iri(iris, key), DCTERMS.temporal)
        assert catalog.value(period, DCAT.startDate) == Literal(start, datatype=XSD.date), key
        assert catalog.value(period, DCAT.endDate) == Literal(end, datatype=XSD.date), key


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
    # share-alike in ADMS's own terms (the vocabulary has no plain licencetype/ShareAlike)
    assert set(catalog.objects(ODBL, DCTERMS.type)) == {
        URIRef("http://purl.org/adms/licencetype/Attribution"),
        URIRef("http://purl.org/adms/licencetype/ViralEffect-ShareAlike"),
    }
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
    # every theme a source can have is typed with its EU label (the catalogue cannot fetch them)
    assert {THEME[t] for s in sources_of(names) for t in s.themes} <= set(VOCABULARY_LABELS)


def test_the_publisher_has_an_adms_type_when_it_is_known(
    published: tuple[Settings, PublishResult], catalog: Graph
) -> None:
    settings, result = published
    iris = Iris(settings.base_iri)
    publisher = URIRef(iris.base + "catalog#editeur")
    kind = PUBLISHER_TYPE.NonProfitOrganisation
    assert catalog.value(publisher, DCTERMS.type) == kind
    assert catalog.value(kind, SKOS.prefLabel) == Literal("Non-Profit Organisation", lang="en")
    # another publisher without its type: no dct:type made up, the warning says what is missing
    data = CatalogInput(date(2025, 1, 1), {"deck": str(iris.graph("deck"))}, {}, result.dumps, {})
    data.options = CatalogOptions("Observatoire test", None, None)
    outcome = check_catalog(catalog_graph(ox.Store(), iris, data), settings.data_dir / "reference")
    assert outcome.conforms
    assert any(f"{publisher} dcterms:type" in w for w in outcome.warnings)
    with pytest.raises(UsageError, match="unknown publisher type 'Mairie'"):
        CatalogOptions(publisher_type="Mairie")
