"""The project's own vocabulary, ``ontology/bassin.ttl``, as the named graph ``ontology``."""

from __future__ import annotations

from rdflib import Graph
from rdflib.plugins.parsers.notation3 import BadSyntax

from bassin_kg.errors import DataError
from bassin_kg.sources.base import CatalogueEntry, ConvertContext, GraphPart, Source, fixed_entry

ONTOLOGY_FILE = "ontology/bassin.ttl"


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """The ontology file, parsed (a syntax error names its line)."""
    path = ctx.settings.root / ONTOLOGY_FILE
    if not path.is_file():
        raise DataError("ontology file not found", file=ONTOLOGY_FILE, hint="restore it from git")
    ontology = Graph()
    try:
        ontology.parse(path, format="turtle")
    except BadSyntax as exc:
        raise DataError(f"not valid Turtle: {exc.message}", file=ONTOLOGY_FILE, line=exc.lines + 1) from None
    return [GraphPart("ontology", ontology, [ONTOLOGY_FILE])]


SOURCE = Source(
    "ontology",
    graphs=("ontology",),
    catalogue=fixed_entry(
        CatalogueEntry(
            "ontologie",
            ("ontology",),
            title=("Ontologie du bassin minier (bm:)", "Mining basin ontology (bm:)"),
            description=(
                "Classes et propriétés propres au graphe (éléments AFOM, rangs, correspondances, structures "
                "des cubes de données), en français et en anglais.",
                "The graph's own classes and properties (SWOT items, ranks, mappings, data cube structures), "
                "in French and English.",
            ),
            keywords=("ontologie", "vocabulaire", "RDF", "OWL"),
            themes=("TECH",),
        )
    ),
    convert=convert,
)
