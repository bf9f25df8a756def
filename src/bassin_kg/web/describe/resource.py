"""The generic description of a resource: its outgoing triples and the resources pointing to it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import pyoxigraph as ox

from bassin_kg.namespaces import PREFIXES
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import RDF_TYPE, is_iri, node, text
from bassin_kg.web.describe.sources import Source, fetch_sources
from bassin_kg.web.sparql import SparqlService

#: at most this many resources pointing to a resource are listed (a class may have thousands)
INCOMING_CAP = 500
#: curators' notes (decisions, doubts, written in English for maintainers): kept in the RDF, shown on
#: pages only when written in French
CURATOR_NOTES = frozenset(
    PREFIXES["skos"] + n for n in ("note", "editorialNote", "changeNote", "historyNote")
)


def public_values(
    predicate: str, values: list[ox.NamedNode | ox.BlankNode | ox.Literal]
) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
    """What a French page shows of ``values``: French text over other languages, no English notes."""

    def french(term: object) -> bool:
        return isinstance(term, ox.Literal) and (term.language or "").startswith("fr")

    if predicate in CURATOR_NOTES:
        return [v for v in values if french(v)]
    if any(french(v) for v in values):
        # the same text in French and in English: the page is French
        return [v for v in values if not (isinstance(v, ox.Literal) and v.language and not french(v))]
    return values


@dataclass
class Property:
    predicate: Shown
    values: list[Shown]


@dataclass
class Description:
    iri: str
    label: str
    types: list[str]
    type_labels: list[Shown]
    properties: list[Property]
    incoming: list[Property]
    incoming_truncated: bool
    sources: list[Source] = field(default_factory=list)

    def has_type(self, *iris: str) -> bool:
        return any(t in self.types for t in iris)


def _predicate_order(predicate: str, label: str) -> tuple[int, str]:
    first = [RDF_TYPE, PREFIXES["skos"] + "prefLabel", PREFIXES["rdfs"] + "label"]
    if predicate in first:
        return (first.index(predicate), "")
    if predicate == PREFIXES["prov"] + "wasDerivedFrom":
        return (9, "")  # sources last
    return (5, label.lower())


async def describe(service: SparqlService, iri: str, labels: Labels) -> Description | None:
    """Outgoing triples and labelled incoming links of ``iri``; None when the graph never mentions it."""
    me = node(iri)
    rows = await service.solutions(
        f"""SELECT DISTINCT ?dir ?p ?o WHERE {{
  {{ {me} ?p ?o . BIND("out" AS ?dir) }}
  UNION
  {{ {{ SELECT DISTINCT ?p ?o WHERE {{ ?o ?p {me} }} LIMIT {INCOMING_CAP + 1} }} BIND("in" AS ?dir) }}
}}"""
    )
    if not rows:
        return None
    outgoing: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = defaultdict(list)
    incoming: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]] = defaultdict(list)
    for row in rows:
        predicate, value = row.get("p"), row.get("o")
        if predicate is None or value is None:
            continue
        target = outgoing if text(row.get("dir")) == "out" else incoming
        target[predicate.value].append(value)
    for key in list(outgoing):
        outgoing[key] = public_values(key, outgoing[key])
        if not outgoing[key]:
            del outgoing[key]
    count_in = sum(len(v) for v in incoming.values())
    mentioned = {iri, *outgoing, *incoming}
    mentioned |= {v.value for vs in (*outgoing.values(), *incoming.values()) for v in vs if is_iri(v)}
    await labels.fetch(service, mentioned)
    types = sorted(v.value for v in outgoing.get(RDF_TYPE, []) if is_iri(v))
    sources = (await fetch_sources(service, [iri], labels)).get(iri, [])
    return Description(
        iri=iri,
        label=labels.get(iri),
        types=types,
        type_labels=[labels.show(t) for t in types],
        properties=_properties(outgoing, labels),
        incoming=_properties(incoming, labels),
        incoming_truncated=count_in > INCOMING_CAP,
        sources=sources,
    )


def _properties(
    table: dict[str, list[ox.NamedNode | ox.BlankNode | ox.Literal]], labels: Labels
) -> list[Property]:
    result = []
    for predicate, values in table.items():
        # the IRI breaks ties between equal labels: the same page whatever order the engine gives
        shown = sorted(
            (labels.show(v) for v in values),
            key=lambda s: (not s.numeric, s.text.lower(), s.title or "", s.href or ""),
        )
        result.append(Property(labels.show(predicate), shown))
    result.sort(
        key=lambda p: (*_predicate_order(p.predicate.title or "", p.predicate.text), p.predicate.title or "")
    )
    return result


def construct_query(iri: str) -> str:
    """The RDF description served for ``iri``: its triples, and the labelled resources pointing to it."""
    me = node(iri)
    label = PREFIXES["rdfs"] + "label"
    return f"""CONSTRUCT {{ {me} ?p ?o . ?s ?q {me} . ?s <{label}> ?sl . }}
WHERE {{
  {{ {me} ?p ?o }}
  UNION
  {{ {{ SELECT DISTINCT ?s ?q WHERE {{ ?s ?q {me} }} LIMIT {INCOMING_CAP} }}
     OPTIONAL {{ ?s <{label}> ?sl }} }}
}}"""


async def exists(service: SparqlService, iri: str) -> bool:
    me = node(iri)
    rows = await service.solutions(f"SELECT ?x WHERE {{ {{ {me} ?p ?x }} UNION {{ ?x ?p {me} }} }} LIMIT 1")
    return bool(rows)
