"""The ontology (/def) view: every term of the ontology's named graph."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.namespaces import PREFIXES
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.links import ONTOLOGY
from bassin_kg.web.describe.rows import PREFIX_LINES, RDF_TYPE, is_iri, node
from bassin_kg.web.sparql import SparqlService


@dataclass
class Term:
    iri: str
    anchor: str
    kinds: list[Shown]
    label_fr: str
    label_en: str
    comment_fr: str
    comment_en: str
    parents: list[Shown]
    domains: list[Shown]
    ranges: list[Shown]


@dataclass
class OntologyView:
    title: str
    description: str
    version: str
    classes: list[Term]
    properties: list[Term]
    others: list[Term]


async def ontology_view(service: SparqlService, labels: Labels, graph: str) -> OntologyView:
    """Every term of the ontology's named graph with its labels, comments, domains and ranges."""
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT ?term ?p ?o WHERE {{
  GRAPH {node(graph)} {{
    ?term ?p ?o .
    VALUES ?p {{ rdf:type rdfs:label rdfs:comment rdfs:subClassOf rdfs:subPropertyOf rdfs:domain rdfs:range
               dcterms:title dcterms:description owl:versionInfo }}
  }}
}}"""
    )
    data: dict[str, dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        term, prop, value = row.get("term"), row.get("p"), row.get("o")
        if isinstance(term, ox.NamedNode) and prop is not None and value is not None:
            data[term.value][prop.value].append(value)
    await labels.fetch(
        service, {v.value for props in data.values() for vs in props.values() for v in vs if is_iri(v)}
    )
    await labels.fetch(service, data)

    def literal(values: list[ox.NamedNode | ox.BlankNode | ox.Literal], lang: str) -> str:
        return next((v.value for v in values if isinstance(v, ox.Literal) and v.language == lang), "")

    def shown(values: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> list[Shown]:
        return sorted((labels.show(v) for v in values if is_iri(v)), key=lambda s: s.text.lower())

    rdfs, owl = PREFIXES["rdfs"], PREFIXES["owl"]
    head = data.get(ONTOLOGY, {})
    classes: list[Term] = []
    properties: list[Term] = []
    others: list[Term] = []
    for iri, props in data.items():
        if iri == ONTOLOGY or not iri.startswith(ONTOLOGY + "#"):
            continue
        types = {v.value for v in props.get(RDF_TYPE, [])}
        entry = Term(
            iri=iri,
            anchor=iri[len(ONTOLOGY) + 1 :],
            kinds=shown(props.get(RDF_TYPE, [])),
            label_fr=literal(props.get(rdfs + "label", []), "fr"),
            label_en=literal(props.get(rdfs + "label", []), "en"),
            comment_fr=literal(props.get(rdfs + "comment", []), "fr"),
            comment_en=literal(props.get(rdfs + "comment", []), "en"),
            parents=shown(props.get(rdfs + "subClassOf", []) + props.get(rdfs + "subPropertyOf", [])),
            domains=shown(props.get(rdfs + "domain", [])),
            ranges=shown(props.get(rdfs + "range", [])),
        )
        if owl + "Class" in types:
            classes.append(entry)
        elif types & {owl + "ObjectProperty", owl + "DatatypeProperty", PREFIXES["rdf"] + "Property"}:
            properties.append(entry)
        else:
            others.append(entry)
    for terms in (classes, properties, others):
        terms.sort(key=lambda t: t.anchor.lower())
    pref = PREFIXES["dcterms"]
    return OntologyView(
        title=literal(head.get(pref + "title", []), "fr") or "Ontologie",
        description=literal(head.get(pref + "description", []), "fr"),
        version=next((v.value for v in head.get(owl + "versionInfo", [])), ""),
        classes=classes,
        properties=properties,
        others=others,
    )
