"""SYNTHETIC stand-ins for what the insee-territoires and fap2009 graphs say, for builds of the fixtures.

The deck graph leaves a zone's type, INSEE code and INSEE name to insee-territoires (each triple lives in
one named graph), and puts a merged occupation's observations on the FAP-87 family of its codes: builds
that run the deck converter alone need these triples from somewhere.
"""

from __future__ import annotations

from rdflib import Graph, Literal
from rdflib.namespace import RDF, SKOS

from bassin_kg.namespaces import IGEO
from bassin_kg.sources.base import ConvertContext
from bassin_kg.sources.common import read_table


def add_places_and_parents(ctx: ConvertContext, graph: Graph, codes: set[str]) -> None:
    """The fixture's zones as INSEE describes them, and the FAP-87 parents of ``codes``."""
    names = read_table(ctx.settings.root, "data/curated/territory_names.csv", ["code", "insee_name"])
    for row in names:
        zone = ctx.iris.ze2010(row.text("code"))
        graph.add((zone, RDF.type, IGEO.ZoneDEmploi2010))
        graph.add((zone, IGEO.codeINSEE, Literal(row.text("code"))))
        graph.add((zone, IGEO.nom, Literal(row.text("insee_name"), lang="fr")))
    scheme = ctx.iris.scheme("fap2009")
    for parent in {code[:3] for code in codes}:
        concept = ctx.iris.fap2009(parent)
        graph.add((concept, RDF.type, SKOS.Concept))
        graph.add((concept, SKOS.inScheme, scheme))
        graph.add((concept, SKOS.notation, Literal(parent)))
        graph.add((concept, SKOS.prefLabel, Literal(f"famille {parent}", lang="fr")))
