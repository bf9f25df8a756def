"""Terms as a person sees them: best labels, fetched in batches, and the :class:`Shown` form."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.namespaces import BM, PREFIXES
from bassin_kg.web.describe.formatting import fallback_label, format_date, format_number, source_text
from bassin_kg.web.describe.links import Links
from bassin_kg.web.describe.rows import PREFIX_LINES, XSD, text
from bassin_kg.web.sparql import SparqlService

#: label properties, best first
_LABEL_PROPERTIES = (
    PREFIXES["skos"] + "prefLabel",
    PREFIXES["rdfs"] + "label",
    PREFIXES["dcterms"] + "title",
    "http://rdf.insee.fr/def/geo#nom",
    "https://schema.org/name",
    PREFIXES["foaf"] + "name",
    PREFIXES["skos"] + "notation",
)
_FILE = str(BM.fichier)
_LINE = str(BM.ligne)
_LINE_END = str(BM.ligneFin)


@dataclass(frozen=True)
class Shown:
    """A term as a person sees it: text, optional link, the full IRI as a tooltip."""

    text: str
    href: str | None = None
    title: str | None = None
    lang: str | None = None
    numeric: bool = False


class Labels:
    """Best labels of IRIs, fetched in one query per batch (French first, then untagged, then English)."""

    def __init__(self, links: Links) -> None:
        self.links = links
        self._labels: dict[str, str] = {}

    def __contains__(self, iri: str) -> bool:
        return iri in self._labels

    async def fetch(self, service: SparqlService, iris: Iterable[str]) -> None:
        wanted = sorted({i for i in iris if i and i not in self._labels})
        if not wanted:
            return
        for start in range(0, len(wanted), 400):
            await self._fetch(service, wanted[start : start + 400])

    async def _fetch(self, service: SparqlService, batch: Sequence[str]) -> None:
        nodes = " ".join(str(ox.NamedNode(i)) for i in batch)
        props = " ".join(f"<{p}>" for p in (*_LABEL_PROPERTIES, _FILE, _LINE, _LINE_END))
        rows = await service.solutions(
            f"SELECT DISTINCT ?x ?p ?l WHERE {{ VALUES ?x {{ {nodes} }} VALUES ?p {{ {props} }} ?x ?p ?l }}"
        )
        found: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
        files: dict[str, dict[str, str]] = defaultdict(dict)
        for row in rows:
            subject, prop, label = row.get("x"), row.get("p"), row.get("l")
            if not isinstance(subject, ox.NamedNode) or not isinstance(label, ox.Literal) or prop is None:
                continue
            if prop.value in (_FILE, _LINE, _LINE_END):
                files[subject.value][prop.value] = label.value
                continue
            lang = label.language or ""
            lang_rank = 0 if lang.startswith("fr") else 1 if lang == "" else 2 if lang == "en" else 3
            found[subject.value].append((lang_rank, _LABEL_PROPERTIES.index(prop.value), label.value))
        for iri, candidates in found.items():
            self._labels[iri] = min(candidates)[2]
        for iri, parts in files.items():
            if iri not in self._labels and _FILE in parts and _LINE in parts:
                self._labels[iri] = source_text(parts[_FILE], parts[_LINE], parts.get(_LINE_END))
        unlabelled = [i for i in batch if i not in self._labels]
        if unlabelled:
            await self._fetch_observations(service, unlabelled)
        unlabelled = [i for i in batch if i not in self._labels]
        if unlabelled:
            await self._fetch_overlaps(service, unlabelled)

    async def _fetch_overlaps(self, service: SparqlService, batch: Sequence[str]) -> None:
        """Overlaps have no label: name them by the two territories they compare."""
        nodes = " ".join(str(ox.NamedNode(i)) for i in batch)
        rows = await service.solutions(
            f"""{PREFIX_LINES}
SELECT ?x (SAMPLE(?sl) AS ?source) (SAMPLE(?tl) AS ?target) WHERE {{
  VALUES ?x {{ {nodes} }}
  ?x bm:territoireSource ?s ; bm:territoireCible ?t .
  OPTIONAL {{ ?s skos:prefLabel|igeo:nom|skos:notation ?sl }}
  OPTIONAL {{ ?t skos:prefLabel|igeo:nom|skos:notation ?tl }}
}} GROUP BY ?x"""
        )
        for row in rows:
            source, target = text(row.get("source")), text(row.get("target"))
            if source or target:
                self._labels[text(row.get("x"))] = f"Recouvrement {source or '?'} → {target or '?'}"

    async def _fetch_observations(self, service: SparqlService, batch: Sequence[str]) -> None:
        """Observations have no label: name them by data set, territory and occupation or period."""
        nodes = " ".join(str(ox.NamedNode(i)) for i in batch)
        rows = await service.solutions(
            f"""{PREFIX_LINES}
SELECT ?x (SAMPLE(?d) AS ?ds) (SAMPLE(?a) AS ?area) (SAMPLE(COALESCE(?deck, ?o)) AS ?occ)
       (SAMPLE(?per) AS ?period) WHERE {{
  VALUES ?x {{ {nodes} }}
  ?x qb:dataSet ?set .
  OPTIONAL {{ ?set dcterms:title ?d FILTER(LANGMATCHES(LANG(?d), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:refArea/skos:prefLabel ?a FILTER(LANGMATCHES(LANG(?a), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:occupation/skos:prefLabel ?o FILTER(LANGMATCHES(LANG(?o), "fr")) }}
  OPTIONAL {{ ?x bm:metierDiaporama/skos:prefLabel ?deck FILTER(LANGMATCHES(LANG(?deck), "fr")) }}
  OPTIONAL {{ ?x sdmx-dimension:refPeriod ?per }}
}} GROUP BY ?x"""
        )
        for row in rows:
            title = re.split(r" : | \(", text(row.get("ds")))[0]
            period = row.get("period")
            detail = text(row.get("occ")) or (fallback_label(period.value) if period is not None else "")
            parts = [p for p in (title or "Observation", text(row.get("area")), detail) if p]
            self._labels[text(row.get("x"))] = " – ".join(parts)

    def get(self, iri: str) -> str:
        return self._labels.get(iri) or fallback_label(iri)

    def show(self, term: ox.NamedNode | ox.BlankNode | ox.Literal | str | None) -> Shown:
        if term is None:
            return Shown("")
        if isinstance(term, str):
            term = ox.NamedNode(term)
        if isinstance(term, ox.NamedNode):
            return Shown(self.get(term.value), self.links.href(term.value), term.value)
        if isinstance(term, ox.BlankNode):
            return Shown(f"nœud anonyme {term.value}")
        datatype = term.datatype.value
        formatted = format_number(term.value, datatype)
        if formatted is not None:
            return Shown(formatted, numeric=True)
        if datatype == XSD + "date":
            return Shown(format_date(term.value))
        return Shown(term.value, lang=term.language)
