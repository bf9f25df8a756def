"""The actor view: the SWOT items that mention an actor and their territories."""

from __future__ import annotations

from dataclasses import dataclass

from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.resource import Description
from bassin_kg.web.describe.rows import PREFIX_LINES, node, text
from bassin_kg.web.describe.swot import SWOT_CLASSES, SwotItem, items_from_rows
from bassin_kg.web.sparql import SparqlService


@dataclass
class ActorView:
    description: Description
    kind: list[Shown]
    items: list[SwotItem]
    territories: list[Shown]


async def items_mentioning(service: SparqlService, actor: str, labels: Labels) -> list[SwotItem]:
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject ?territory WHERE {{
  VALUES ?class {{ {classes} }}
  ?item bm:mentionne {node(actor)} ; a ?class ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:territoire ?territory }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    return await items_from_rows(service, rows, labels)


async def actor_view(service: SparqlService, description: Description, labels: Labels) -> ActorView:
    iri = description.iri
    items = await items_mentioning(service, iri, labels)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?territory ?kind WHERE {{
  {{ ?item bm:mentionne {node(iri)} ; bm:territoire ?territory }}
  UNION {{ {node(iri)} dcterms:type ?kind }}
}}"""
    )
    territories = sorted({text(r.get("territory")) for r in rows if r.get("territory") is not None})
    kinds = sorted({text(r.get("kind")) for r in rows if r.get("kind") is not None})
    await labels.fetch(service, territories + kinds)
    return ActorView(
        description=description,
        kind=[labels.show(k) for k in kinds],
        items=items,
        territories=sorted((labels.show(t) for t in territories), key=lambda s: s.text),
    )
