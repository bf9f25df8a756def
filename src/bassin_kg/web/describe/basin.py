"""The basin page: the deck's common conclusions and the four zones side by side.

The deck ends on the basin as a whole: its "Perspectives communes", its "Liens entre les territoires"
(with the INSEE job multiplier) — resources whose ``bm:territoire`` is the basin — and the four zones'
key figures, which the page sets side by side. Recruitment in the latest BMO surveys is read for the
BMO bassin holding most of each zone's communes (the deck's zones are not BMO bassins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bassin_kg.namespaces import BM, Iris
from bassin_kg.web.describe.formatting import format_number
from bassin_kg.web.describe.key_figures import Figure, Unemployment, datasets, figures, unemployment
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, XSD, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources
from bassin_kg.web.describe.swot import SwotItem, items_from_rows
from bassin_kg.web.sparql import SparqlService

#: west to east, as on the deck's map: Béthune-Bruay, Lens-Hénin, Douaisis, Valenciennois
ZONE_ORDER = ("3123", "3122", "3114", "3115")


@dataclass
class Multiplier:
    """A job multiplier: one direct industrial job generates so many indirect and induced jobs."""

    iri: str
    href: str | None
    direct: str
    indirect: str
    induced: str
    study: str
    sources: list[Source]


@dataclass
class BmoTotals:
    """A BMO survey's figures for one bassin, summed over the occupations whose figures are published."""

    year: str
    bassin: Shown
    projects: float
    difficult: float
    #: occupations whose figures the survey keeps secret (left out of the sums)
    secret: int

    @property
    def share(self) -> float | None:
        return round(100 * self.difficult / self.projects, 1) if self.projects else None

    @property
    def projects_text(self) -> str:
        return shown_number(self.projects)

    @property
    def share_text(self) -> str | None:
        share = self.share
        return None if share is None else shown_number(share) + "\u202f%"


@dataclass
class ZoneFigures:
    zone: Shown
    code: str
    unemployment: Unemployment | None
    #: the deck's five occupations with most recruitment projects in 2018, summed
    top_projects: Figure | None
    bmo: list[BmoTotals] = field(default_factory=list)


@dataclass
class BasinView:
    perspectives: list[SwotItem]
    links: list[SwotItem]
    multipliers: list[Multiplier]
    zones: list[ZoneFigures]
    bmo_years: list[str]


def shown_number(value: float) -> str:
    """``value`` in French form, without a useless decimal part (1 576 ; 44,8)."""
    lexical = str(int(value)) if value == int(value) else f"{value:.1f}"
    return format_number(lexical, XSD + "decimal") or lexical


async def basin_items(service: SparqlService, basin: str, cls: str, labels: Labels) -> list[SwotItem]:
    """Items of class ``cls`` about the basin (perspectives, links between territories), in deck order."""
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?item ?class ?rank ?text ?actor ?actorName ?subject WHERE {{
  VALUES ?class {{ {node(cls)} }}
  ?item a ?class ; bm:territoire {node(basin)} ; rdfs:label ?text .
  OPTIONAL {{ ?item bm:rang ?rank }}
  OPTIONAL {{ ?item bm:mentionne ?actor .
             OPTIONAL {{ ?actor skos:prefLabel|skos:altLabel|rdfs:label ?actorName }} }}
  OPTIONAL {{ ?item dcterms:subject ?subject }}
}}"""
    )
    items = await items_from_rows(service, rows, labels)
    items.sort(key=lambda i: i.rank)
    return items


async def multipliers(service: SparqlService, basin: str, labels: Labels) -> list[Multiplier]:
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?m ?direct ?indirect ?induced ?study WHERE {{
  ?link bm:territoire {node(basin)} ; bm:multiplicateur ?m .
  ?m bm:emploisDirects ?direct ; bm:emploisIndirects ?indirect ; bm:emploisInduits ?induced .
  OPTIONAL {{ ?m dcterms:source ?study }}
}} ORDER BY ?m"""
    )
    sources = await fetch_sources(service, (text(r.get("m")) for r in rows), labels)
    result: list[Multiplier] = []
    for row in rows:
        iri = text(row.get("m"))
        if any(m.iri == iri for m in result):
            continue
        result.append(
            Multiplier(
                iri=iri,
                href=labels.links.href(iri),
                direct=labels.show(row.get("direct")).text,
                indirect=labels.show(row.get("indirect")).text,
                induced=labels.show(row.get("induced")).text,
                study=text(row.get("study")),
                sources=sources.get(iri, []),
            )
        )
    return result


async def bmo_years(service: SparqlService, base: str) -> dict[str, str]:
    """The BMO data sets loaded, by year (``bmo-2024`` -> ``2024``), oldest first."""
    prefix = str(Iris(base).dataset("bmo-"))
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?ds WHERE {{ ?ds a qb:DataSet . FILTER(STRSTARTS(STR(?ds), {_string(prefix)})) }}"""
    )
    years = {text(r.get("ds"))[len(prefix) :]: text(r.get("ds")) for r in rows}
    return {y: years[y] for y in sorted(years) if y.isdigit()}


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


async def main_bassins(service: SparqlService, zones: list[str]) -> dict[str, str]:
    """For each zone, the BMO bassin holding at least half of its communes (the most, if several)."""
    values = " ".join(node(z) for z in zones)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?zone ?bassin ?share WHERE {{
  VALUES ?zone {{ {values} }}
  ?overlap bm:territoireSource ?zone ; bm:territoireCible ?bassin ; bm:partCommunes ?share .
  ?bassin a bm:BassinEmploiBMO .
  FILTER(?share >= 0.5)
}}"""
    )
    best: dict[str, tuple[float, str]] = {}
    for row in rows:
        zone, share = text(row.get("zone")), number(row.get("share")) or 0.0
        if zone not in best or share > best[zone][0]:
            best[zone] = (share, text(row.get("bassin")))
    return {zone: bassin for zone, (_, bassin) in best.items()}


async def bmo_totals(
    service: SparqlService, bassins: list[str], years: dict[str, str], labels: Labels
) -> dict[tuple[str, str], BmoTotals]:
    """Projects and difficult projects of each bassin and year, summed over published occupations."""
    if not bassins or not years:
        return {}
    by_dataset = {ds: year for year, ds in years.items()}
    # DISTINCT observations first: the union default graph may repeat a triple held by two graphs
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT ?bassin ?ds (SUM(?met) AS ?projects) (SUM(?xmet) AS ?difficult) (SUM(?hidden) AS ?secret) WHERE {{
  {{ SELECT DISTINCT ?obs ?bassin ?ds ?met ?xmet ?hidden WHERE {{
    VALUES ?bassin {{ {" ".join(node(b) for b in bassins)} }}
    VALUES ?ds {{ {" ".join(node(d) for d in by_dataset)} }}
    ?obs qb:dataSet ?ds ; sdmx-dimension:refArea ?bassin .
    OPTIONAL {{ ?obs bm:projetsRecrutement ?m . ?obs bm:projetsDifficiles ?x }}
    OPTIONAL {{ ?obs bm:mesureConfidentielle ?c }}
    BIND(COALESCE(?m, 0) AS ?met)
    BIND(COALESCE(?x, 0) AS ?xmet)
    BIND(IF(BOUND(?c), 1, 0) AS ?hidden)
  }} }}
}} GROUP BY ?bassin ?ds"""
    )
    await labels.fetch(service, bassins)
    result = {}
    for row in rows:
        bassin, year = text(row.get("bassin")), by_dataset.get(text(row.get("ds")), "")
        result[(bassin, year)] = BmoTotals(
            year=year,
            bassin=labels.show(bassin),
            projects=number(row.get("projects")) or 0.0,
            difficult=number(row.get("difficult")) or 0.0,
            secret=int(number(row.get("secret")) or 0),
        )
    return result


async def basin_view(service: SparqlService, basin: str, labels: Labels, base: str) -> BasinView:
    """Everything the basin page shows."""
    perspectives = await basin_items(service, basin, str(BM.PerspectiveCommune), labels)
    links = await basin_items(service, basin, str(BM.LienEntreTerritoires), labels)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?zone WHERE {{ {node(basin)} dcterms:hasPart ?zone . ?zone a igeo:ZoneDEmploi2010 }}"""
    )
    zone_iris = sorted(
        {text(r.get("zone")) for r in rows},
        key=lambda z: (ZONE_ORDER.index(z[-4:]) if z[-4:] in ZONE_ORDER else 9, z),
    )
    await labels.fetch(service, zone_iris)
    years = await bmo_years(service, base)
    bassins = await main_bassins(service, zone_iris)
    totals = await bmo_totals(service, sorted(set(bassins.values())), years, labels)
    projects_ds, _ = datasets(base)
    zones = []
    for zone in zone_iris:
        top = await figures(service, labels, str(BM.projetsRecrutement), dataset=projects_ds, territory=zone)
        summed = sum(f.value for f in top)
        top_figure = (
            Figure(
                labels.show(zone),
                summed,
                shown_number(summed),
                None,
                [s for f in top for s in f.sources],
            )
            if top
            else None
        )
        bassin = bassins.get(zone)
        zones.append(
            ZoneFigures(
                zone=labels.show(zone),
                code=zone.rsplit("/", 1)[-1],
                unemployment=await unemployment(service, zone, labels),
                top_projects=top_figure,
                bmo=[totals[(bassin, y)] for y in years if bassin and (bassin, y) in totals],
            )
        )
    return BasinView(
        perspectives=perspectives,
        links=links,
        multipliers=await multipliers(service, basin, labels),
        zones=zones,
        bmo_years=list(years),
    )
