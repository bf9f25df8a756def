"""SWOT items (forces, faiblesses, opportunités, menaces), their boxes, and the page of one item."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.namespaces import BM
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.resource import Description
from bassin_kg.web.describe.rows import PREFIX_LINES, Row, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources
from bassin_kg.web.sparql import SparqlService

SWOT_BOXES: tuple[tuple[str, str, str], ...] = (
    ("force", str(BM.Force), "Forces"),
    ("faiblesse", str(BM.Faiblesse), "Faiblesses"),
    ("opportunite", str(BM.Opportunite), "Opportunités"),
    ("menace", str(BM.Menace), "Menaces"),
)
SWOT_CLASSES = tuple(c for _, c, _ in SWOT_BOXES)


@dataclass(frozen=True)
class Segment:
    """A piece of an item's text: plain, or an actor's name linked to its page."""

    text: str
    href: str | None = None


@dataclass
class SwotItem:
    iri: str
    href: str | None
    category: str
    rank: int
    text: str
    segments: list[Segment]
    actors: list[Shown]
    subjects: list[Shown]
    sources: list[Source]


@dataclass
class SwotBox:
    key: str
    title: str
    items: list[SwotItem]


def link_actors(item_text: str, actors: Sequence[tuple[str, Shown]]) -> list[Segment]:
    """Split ``item_text`` so each actor name found in it becomes a link (case and apostrophes ignored)."""
    folded = _fold(item_text)
    spans: list[tuple[int, int, str]] = []
    for name, shown in actors:
        if not name or shown.href is None:
            continue
        start = folded.find(_fold(name))
        if start < 0:
            continue
        end = start + len(name)
        if all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, shown.href))
    spans.sort()
    segments: list[Segment] = []
    position = 0
    for start, end, href in spans:
        if start > position:
            segments.append(Segment(item_text[position:start]))
        segments.append(Segment(item_text[start:end], href))
        position = end
    if position < len(item_text):
        segments.append(Segment(item_text[position:]))
    return segments


def _fold(value: str) -> str:
    # same length as the input, so offsets found in the folded text apply to the original
    return value.lower().replace("’", "'")


async def swot_items(service: SparqlService, territory: str, labels: Labels) -> list[SwotItem]:
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject WHERE {{
  VALUES ?class {{ {classes} }}
  ?item a ?class ; bm:territoire {node(territory)} ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    return await items_from_rows(service, rows, labels)


async def items_from_rows(service: SparqlService, rows: list[Row], labels: Labels) -> list[SwotItem]:
    by_item: dict[str, dict[str, object]] = {}
    names: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    subjects: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        item = text(row.get("item"))
        by_item.setdefault(
            item,
            {"class": text(row.get("class")), "rank": number(row.get("rank")), "text": text(row.get("text"))},
        )
        actor = row.get("actor")
        if isinstance(actor, ox.NamedNode):
            names[item][actor.value].add(text(row.get("actorName")))
        subject = row.get("subject")
        if isinstance(subject, ox.NamedNode):
            subjects[item].add(subject.value)
    all_actors = {a for per in names.values() for a in per}
    all_subjects = {s for per in subjects.values() for s in per}
    await labels.fetch(service, all_actors | all_subjects | {c for c in SWOT_CLASSES})
    sources = await fetch_sources(service, by_item, labels)
    items = []
    for item, entry in by_item.items():
        actors = sorted((labels.show(a) for a in names[item]), key=lambda s: s.text.lower())
        pairs = [
            (name, labels.show(actor))
            for actor, known in names[item].items()
            # longest names first, so 'Université d'Artois' wins over 'Artois'
            for name in sorted(known | {labels.get(actor)}, key=len, reverse=True)
        ]
        item_text = str(entry["text"])
        rank = entry["rank"]
        items.append(
            SwotItem(
                iri=item,
                href=labels.links.href(item),
                category=str(entry["class"]),
                rank=int(rank) if isinstance(rank, float) else 0,
                text=item_text,
                segments=link_actors(item_text, pairs),
                actors=actors,
                subjects=sorted((labels.show(s) for s in subjects[item]), key=lambda s: s.text.lower()),
                sources=sources.get(item, []),
            )
        )
    items.sort(key=lambda i: (SWOT_CLASSES.index(i.category) if i.category in SWOT_CLASSES else 9, i.rank))
    return items


def boxes(items: Sequence[SwotItem]) -> list[SwotBox]:
    return [SwotBox(key, title, [i for i in items if i.category == cls]) for key, cls, title in SWOT_BOXES]


@dataclass
class SwotItemView:
    description: Description
    item: SwotItem | None
    box: str
    territory: Shown | None


async def swot_item_view(service: SparqlService, description: Description, labels: Labels) -> SwotItemView:
    iri = description.iri
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject ?territory WHERE {{
  VALUES ?item {{ {node(iri)} }}
  VALUES ?class {{ {" ".join(node(c) for c in SWOT_CLASSES)} }}
  ?item a ?class ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:territoire ?territory }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    items = await items_from_rows(service, rows, labels)
    territory = next((text(r.get("territory")) for r in rows if r.get("territory") is not None), None)
    if territory:
        await labels.fetch(service, [territory])
    item = items[0] if items else None
    box = next((title for _, cls, title in SWOT_BOXES if item and item.category == cls), "")
    return SwotItemView(description, item, box, labels.show(territory) if territory else None)
