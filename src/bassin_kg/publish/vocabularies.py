"""The controlled-vocabulary part of the DCAT-AP 3.0.1 check (``mdr-vocabularies.shape.ttl``), offline.

The EU validator runs that shape file on the catalogue plus the EU vocabularies ``mdr_imports.ttl``
imports from the web (languages, countries, file types, data themes, planned availability, the ADMS
licence and publisher types) and the SPDX ontology ``imports.ttl`` imports. ``publish`` does the same with
copies of those files in ``data/reference/eu-vocabularies/`` (whole files, or extracts holding the full
description of the concepts the catalogue uses; origin of each in ``data/reference/README.md``).

Vocabularies the catalogue does not use (frequency, access right, dataset type, continent, place,
corporate body) are not loaded: nothing in the catalogue points to them.
"""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import DCTERMS, SKOS
from rdflib.term import Node

from bassin_kg.sources.common import reference_file

MDR_SHAPES = "mdr-vocabularies.shape.ttl"
#: beside the three other DCAT-AP 3.0.1 files (``data/reference/dcat-ap-3.0.1/``)
MDR_SHAPES_DIR = "dcat-ap-3.0.1"
VOCABULARIES_DIR = "eu-vocabularies"
#: the files loaded with the catalogue: name -> rdflib syntax
VOCABULARY_FILES: dict[str, str] = {
    "languages-extract.ttl": "turtle",
    "countries-extract.ttl": "turtle",
    "filetypes.rdf": "xml",
    "data-theme.rdf": "xml",
    "planned-availability.rdf": "xml",
    "ADMS_SKOS_v1.00.rdf": "xml",
    "spdx-checksum-algorithm-extract.ttl": "turtle",
}

SPDX = Namespace("http://spdx.org/rdf/terms#")
SH = Namespace("http://www.w3.org/ns/shacl#")
#: results of the official shape that are wrong, not the catalogue: result path -> (the namespace of the
#: values concerned, why). They are listed in the report and kept in the standard report, but do not fail
#: ``publish``. Anything else the shape finds does.
KNOWN_SHAPE_DEFECTS: dict[URIRef, tuple[str, str]] = {
    SPDX.algorithm: (
        str(SPDX),
        "known defect of mdr-vocabularies.shape.ttl: its ChecksumAlgorithmRestriction has "
        'sh:pattern "^https://spdx.org/rdf/terms", but SPDX names its algorithms in '
        "http://spdx.org/rdf/terms# (spdx:checksumAlgorithm_sha256 in the SPDX 2.3 ontology), the namespace "
        "DCAT-AP 3.0.1 itself declares for spdx: and uses for the same shape's sh:class "
        "spdx:ChecksumAlgorithm; no SPDX algorithm IRI can match (the pattern appeared in 3.0.0; 2.1.1 had "
        "only the sh:class). The value is an spdx:ChecksumAlgorithm (that part of the shape holds)",
    ),
}
#: warnings of the shape that the catalogue cannot avoid: result path -> why
INHERENT_WARNINGS: dict[URIRef, str] = {
    DCTERMS.publisher: "the publisher is the project itself (or the deployment's own body, "
    "--publisher), not a body of the EU corporate-bodies vocabulary; the shape warns on any other publisher",
    DCTERMS.spatial: "the mining basin is our own territory (id/territoire/bassin-minier): the EU country, "
    "place and continent vocabularies do not name it, and no source of the project gives a GeoNames "
    "identifier for it; each dataset also gives country/FRA, which the shape accepts",
}


def mdr_shapes_path(reference_dir: Path) -> Path:
    """``mdr-vocabularies.shape.ttl`` under ``reference_dir`` (``data/reference``)."""
    return reference_file(
        reference_dir, f"{MDR_SHAPES_DIR}/{MDR_SHAPES}", "DCAT-AP 3.0.1 controlled-vocabulary shapes file"
    )


def vocabulary_graph(reference_dir: Path) -> Graph:
    """The EU vocabularies (and the SPDX checksum algorithm) the catalogue's concepts come from."""
    graph = Graph()
    for name, syntax in VOCABULARY_FILES.items():
        graph.parse(
            reference_file(reference_dir, f"{VOCABULARIES_DIR}/{name}", "EU vocabulary file"), format=syntax
        )
    return graph


def known_defect(path: object, value: object) -> str | None:
    """Why a result of the vocabulary shape at ``path`` on ``value`` is the shape's error, if it is."""
    defect = KNOWN_SHAPE_DEFECTS.get(URIRef(str(path)))
    if defect is None or not str(value).startswith(defect[0]):
        return None
    return defect[1]


def detail_paths(results: Graph, result: Node) -> list[URIRef]:
    """The paths of the nested results (``sh:detail``, at any depth) that say what failed inside."""
    paths: set[URIRef] = set()
    todo, seen = list(results.objects(result, SH.detail)), set()
    while todo:
        detail = todo.pop()
        if detail in seen:
            continue
        seen.add(detail)
        path = results.value(detail, SH.resultPath)
        if isinstance(path, URIRef):
            paths.add(path)
        todo.extend(results.objects(detail, SH.detail))
    return sorted(paths)


def inherent_warning(results: Graph, result: Node) -> str | None:
    """Why the warning ``result`` of the vocabulary shape cannot be avoided, if it cannot.

    Only when what failed inside is the value's own scheme: a publisher whose type is not an ADMS one
    also fails (a detail on ``dct:type``), and that is no inherent warning.
    """
    why = INHERENT_WARNINGS.get(URIRef(str(results.value(result, SH.resultPath))))
    if why is None or any(path != SKOS.inScheme for path in detail_paths(results, result)):
        return None
    return why


def restated_mismatches(catalog: Graph, vocabularies: Graph) -> list[str]:
    """The catalogue's own ``skos:inScheme``/``skos:prefLabel`` of vocabulary concepts that their
    vocabulary does not state (the catalogue repeats them for validators without the vocabularies:
    without this check they would satisfy the shape even if wrong)."""
    wrong = []
    for prop in (SKOS.inScheme, SKOS.prefLabel):
        for concept, value in catalog.subject_objects(prop):
            known = (concept, None, None) in vocabularies or (value, None, None) in vocabularies
            if known and (concept, prop, value) not in vocabularies:
                wrong.append(f"{concept} {prop}: {value!r} is not what its vocabulary states")
    return sorted(wrong)
