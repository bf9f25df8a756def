"""Rebuild the three extracts of this folder from their original files (see ../README.md).

    .venv/bin/python data/reference/eu-vocabularies/make_extracts.py DIR

DIR holds the original files under their original names: ``countries.rdf`` and ``languages.ttl``
(ioggstream/dati-eu-authority-tables) and ``spdx-ontology.owl.xml`` (spdx/spdx-spec). Each extract keeps
the concise bounded description (every triple whose subject is the resource, following blank nodes) of
the resources the catalogue uses and of their scheme or class, and nothing else: no triple is added.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rdflib import BNode, Graph, URIRef

AUTHORITY = "http://publications.europa.eu/resource/authority/"
SPDX = "http://spdx.org/rdf/terms#"
HERE = Path(__file__).resolve().parent

#: extract name -> (original file, its syntax, origin, the resources kept)
EXTRACTS = {
    "countries-extract.ttl": (
        "countries.rdf",
        "xml",
        "ioggstream/dati-eu-authority-tables @ 4c2e65b6346f8c4ba2dfff5db4b611e26d08f07e : "
        "assets/vocabularies/countries/20220928-0/countries.rdf (Publications Office NAL country, "
        "version 20220928-0)",
        (AUTHORITY + "country", AUTHORITY + "country/FRA"),
    ),
    "languages-extract.ttl": (
        "languages.ttl",
        "turtle",
        "ioggstream/dati-eu-authority-tables @ 4c2e65b6346f8c4ba2dfff5db4b611e26d08f07e : "
        "assets/vocabularies/languages/20220928-0/languages.ttl (Publications Office NAL language, "
        "version 20220928-0, the harvester's rdflib Turtle copy of languages-skos.rdf)",
        (AUTHORITY + "language", AUTHORITY + "language/FRA"),
    ),
    "spdx-checksum-algorithm-extract.ttl": (
        "spdx-ontology.owl.xml",
        "xml",
        "spdx/spdx-spec @ d4dbeb626cbaa589cef968588f1eb52f35b23e3c (branch support/2.3.1) : "
        "ontology/spdx-ontology.owl.xml (SPDX 2.3 ontology)",
        (SPDX + "ChecksumAlgorithm", SPDX + "checksumAlgorithm_sha256"),
    ),
}


def describe(source: Graph, subjects: tuple[str, ...]) -> Graph:
    """The concise bounded descriptions of ``subjects`` in ``source``."""
    out = Graph()
    for prefix, namespace in source.namespaces():
        out.bind(prefix, namespace)
    todo: list[URIRef | BNode] = [URIRef(s) for s in subjects]
    seen: set[URIRef | BNode] = set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for triple in source.triples((node, None, None)):
            out.add(triple)
            if isinstance(triple[2], BNode):
                todo.append(triple[2])
    return out


def main(originals: Path) -> None:
    for name, (original, syntax, origin, subjects) in EXTRACTS.items():
        graph = describe(Graph().parse(originals / original, format=syntax), subjects)
        missing = [s for s in subjects if (URIRef(s), None, None) not in graph]
        if missing:
            raise SystemExit(f"{original}: no description of {', '.join(missing)}")
        header = (
            f"# Extract of {origin}.\n"
            f"# The full description of {', '.join(f'<{s}>' for s in subjects)}: {len(graph)} triples, "
            "copied, none added.\n# Produced by make_extracts.py (see ../README.md).\n"
        )
        text = graph.serialize(format="turtle")
        (HERE / name).write_text(header + text, encoding="utf-8")
        print(f"{name}: {len(graph)} triples")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]))
