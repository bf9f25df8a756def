"""DCAT-AP 3.0.1 controlled-vocabulary shapes, run offline on the catalogue and the real EU vocabularies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, SKOS

from bassin_kg.errors import DataError
from bassin_kg.publish import PublishResult
from bassin_kg.publish.dcat import LANGUAGE, THEME, check_catalog, shapes_paths
from bassin_kg.publish.vocabularies import (
    MDR_SHAPES,
    MDR_SHAPES_DIR,
    SPDX,
    VOCABULARIES_DIR,
    VOCABULARY_FILES,
    mdr_shapes_path,
    vocabulary_graph,
)
from bassin_kg.settings import Settings

SH = Namespace("http://www.w3.org/ns/shacl#")
REFERENCE = Path(__file__).resolve().parents[2] / "data" / "reference"
AUTHORITY = "http://publications.europa.eu/resource/authority/"
FILE_TYPE = Namespace(AUTHORITY + "file-type/")
#: SEMICeu/DCAT-AP @ 7c531da7 : releases/3.0.1/html/shacl/mdr-vocabularies.shape.ttl
MDR_SHA256 = "2362f83971766a15cc20b2b54420022dc10547dd2c483da02080847c61b4b45a"
#: whole copies: sha256 of the original file (data/reference/README.md, eu-vocabularies)
WHOLE_SHA256 = {
    "filetypes.rdf": "bce483ca4efebe7cf0a4ce37f3ac38e94b2d93881c41e335cd0ef3c04b44c0ae",
    "data-theme.rdf": "568da8626580136fd5f70e8dcd9774b350cfe4509ba51b40de2564bb73f661e5",
    "planned-availability.rdf": "e3fddf82a6ad9a908e33bba5dd9adb16251e913607fdd3a46831f5e95e2b3c52",
    "ADMS_SKOS_v1.00.rdf": "18f5c694fd53f56d081f69b865e66c4bf57ad61ad2779e079190103036f0babc",
}
#: extracts: triples, and the resources described (make_extracts.py, README)
EXTRACTS = {
    "languages-extract.ttl": (102, {AUTHORITY + "language", AUTHORITY + "language/FRA"}),
    "countries-extract.ttl": (181, {AUTHORITY + "country", AUTHORITY + "country/FRA"}),
    "spdx-checksum-algorithm-extract.ttl": (
        7,
        {str(SPDX.ChecksumAlgorithm), str(SPDX.checksumAlgorithm_sha256)},
    ),
}


def _mdr(texts: list[str]) -> list[str]:
    return [t for t in texts if f"({MDR_SHAPES})" in t]


def test_the_vocabulary_shape_is_the_official_file() -> None:
    path = REFERENCE / MDR_SHAPES_DIR / MDR_SHAPES
    assert hashlib.sha256(path.read_bytes()).hexdigest() == MDR_SHA256


def test_the_vocabularies_are_the_real_files_or_their_extracts() -> None:
    folder = REFERENCE / VOCABULARIES_DIR
    assert set(VOCABULARY_FILES) == set(WHOLE_SHA256) | set(EXTRACTS)
    for name, digest in WHOLE_SHA256.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    for name, (triples, described) in EXTRACTS.items():
        graph = Graph().parse(folder / name, format="turtle")
        assert len(graph) == triples, name
        assert {str(s) for s in graph.subjects() if isinstance(s, URIRef)} == described, name
        assert all(isinstance(s, URIRef | BNode) for s in graph.subjects())
    # what the shape checks is stated by the files themselves
    vocabularies = vocabulary_graph(REFERENCE)
    assert (LANGUAGE.FRA, SKOS.inScheme, URIRef(AUTHORITY + "language")) in vocabularies
    assert (URIRef(AUTHORITY + "country/FRA"), SKOS.inScheme, URIRef(AUTHORITY + "country")) in vocabularies
    assert (FILE_TYPE.RDF_TURTLE, SKOS.inScheme, URIRef(AUTHORITY + "file-type")) in vocabularies
    assert (SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm) in vocabularies


def test_the_real_catalogue_passes_but_for_the_documented_residue(
    published: tuple[Settings, PublishResult],
) -> None:
    settings, result = published
    outcome = result.dcat
    assert MDR_SHAPES in outcome.checked
    assert outcome.violations == []
    warned = {(w.split(" ")[1], w.split(" ")[2].rstrip(":")) for w in _mdr(outcome.warnings)}
    base = settings.base_iri
    # (a) the publisher is not an EU corporate body, (b) the basin is not an EU place: inherent warnings
    assert warned == {
        ("dcterms:publisher", f"{base}catalog#editeur"),
        ("dcterms:spatial", f"{base}id/territoire/bassin-minier"),
    }
    # one per node that has them: the catalogue, 6 datasets, the service (no dct:spatial)
    assert len([w for w in _mdr(outcome.warnings) if " dcterms:publisher " in w]) == 8
    assert len([w for w in _mdr(outcome.warnings) if " dcterms:spatial " in w]) == 7
    # (c) the shape's SPDX pattern: one per checksum, listed apart and not counted
    assert len(outcome.known_defects) == 10
    assert all(" spdx:algorithm spdx:checksumAlgorithm_sha256: " in d for d in outcome.known_defects)
    report = (settings.dist_dir / "dcat-ap-report.txt").read_text()
    assert "10 known shape defect(s)" in report
    for why in ("not a body of the EU corporate-bodies vocabulary", "our own territory", "^https://spdx.org"):
        assert why in report
    standard = Graph().parse(settings.dist_dir / "dcat-ap-report.ttl", format="turtle")
    algorithms = list(standard.subjects(SH.resultPath, SPDX.algorithm))
    assert len(algorithms) == 10  # kept in the standard report


@pytest.mark.parametrize(
    ("prop", "good", "bad"),
    [
        (DCTERMS.language, LANGUAGE.FRA, LANGUAGE.XXX),
        (DCTERMS.format, FILE_TYPE.RDF_TURTLE, FILE_TYPE.NOPE),
    ],
)
def test_a_concept_absent_from_its_vocabulary_is_a_violation(
    catalog_copy: Graph, prop: URIRef, good: URIRef, bad: URIRef
) -> None:
    broken = catalog_copy
    subject = next(iter(broken.subjects(prop, good)))
    broken.remove((subject, prop, good))
    broken.add((subject, prop, bad))
    outcome = check_catalog(broken, REFERENCE)
    assert not outcome.conforms
    found = _mdr(outcome.violations)
    assert len(found) == 1
    assert found[0].startswith(f"{subject} ")
    assert str(bad) in found[0]


def test_a_concept_the_catalogue_files_in_the_wrong_scheme_is_caught(catalog_copy: Graph) -> None:
    """The catalogue repeats scheme and labels of the EU concepts; they must be the vocabulary's."""
    broken = catalog_copy
    broken.add((THEME.NOPE, RDF.type, SKOS.Concept))
    broken.add((THEME.NOPE, SKOS.inScheme, URIRef(AUTHORITY + "data-theme")))
    broken.set((THEME.ECON, SKOS.prefLabel, Literal("Économie", lang="fr")))
    dataset = next(iter(broken.subjects(DCAT.theme, THEME.ECON)))
    broken.add((dataset, DCAT.theme, THEME.NOPE))
    outcome = check_catalog(broken, REFERENCE)
    restated = [v for v in outcome.violations if v.endswith("(eu-vocabularies)")]
    assert len(restated) == 2
    assert any(str(THEME.NOPE) in v and "inScheme" in v for v in restated)
    assert any(str(THEME.ECON) in v and "'Économie'" in v for v in restated)


def test_the_spdx_result_comes_from_the_pattern_alone() -> None:
    """The same algorithm under https:// (which SPDX does not use) passes: the pattern is the only cause."""
    shapes = Graph().parse(mdr_shapes_path(REFERENCE), format="turtle")

    def results(algorithm: URIRef) -> int:
        data = Graph()
        checksum = BNode()
        data.add((checksum, RDF.type, SPDX.Checksum))
        data.add((checksum, SPDX.algorithm, algorithm))
        data.add((algorithm, RDF.type, SPDX.ChecksumAlgorithm))
        _conforms, report, _text = validate(data, shacl_graph=shapes, inference="none")
        assert isinstance(report, Graph)
        return len(list(report.subjects(RDF.type, SH.ValidationResult)))

    assert results(SPDX.checksumAlgorithm_sha256) >= 1
    assert results(URIRef("https://spdx.org/rdf/terms#checksumAlgorithm_sha256")) == 0


def test_a_missing_vocabulary_file_is_a_data_error(tmp_path: Path) -> None:
    (tmp_path / VOCABULARIES_DIR).mkdir()
    with pytest.raises(DataError) as caught:
        vocabulary_graph(tmp_path)
    first = next(iter(VOCABULARY_FILES))
    assert str(caught.value) == (
        f"data/reference/{VOCABULARIES_DIR}/{first}: EU vocabulary file not found. "
        "restore it from git (origin and licence in data/reference/README.md)"
    )


def test_a_missing_shapes_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(
        DataError, match=r"^data/reference/dcat-ap-3\.0\.1/shapes\.ttl: DCAT-AP 3\.0\.1 shapes"
    ):
        shapes_paths(tmp_path)
    with pytest.raises(DataError, match=rf"^data/reference/{MDR_SHAPES_DIR}/{MDR_SHAPES}: .* not found"):
        mdr_shapes_path(tmp_path)


def test_a_publisher_of_a_foreign_type_is_not_passed_off_as_inherent(
    catalog: Graph, catalog_copy: Graph
) -> None:
    """Only the missing corporate body is inherent: a publisher type outside ADMS shows as such."""
    broken = catalog_copy
    publisher = next(iter(broken.objects(None, DCTERMS.publisher)))
    bogus = URIRef("http://example.org/publisher-type/Bogus")  # synthetic
    broken.remove((publisher, DCTERMS.type, None))
    broken.add((publisher, DCTERMS.type, bogus))
    broken.add((bogus, RDF.type, SKOS.Concept))
    broken.add((bogus, SKOS.prefLabel, Literal("Bogus", lang="en")))
    warned = [w for w in _mdr(check_catalog(broken, REFERENCE).warnings) if " dcterms:publisher " in w]
    assert any(w.endswith("failed inside on dcterms:type, skos:inScheme") for w in warned)
    real = check_catalog(catalog, REFERENCE).warnings
    assert all(w.endswith("failed inside on skos:inScheme") for w in _mdr(real) if " dcterms:publisher " in w)
