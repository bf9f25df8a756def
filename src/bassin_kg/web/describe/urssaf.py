"""The Urssaf employment series (``bassin-kg ingest acoss``) of a zone's main 2020 zone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bassin_kg.namespaces import BM, QB
from bassin_kg.web.describe.formatting import QUARTER, fallback_label
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, Row, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources, line_ranges
from bassin_kg.web.describe.zonings import Overlap, main_zone
from bassin_kg.web.sparql import SparqlService

#: the Data Cube structure of the Urssaf export loaded by ``bassin-kg ingest acoss``
ACOSS_STRUCTURE = str(BM["dsd-acoss-effectifs-ze"])
#: licences by their usual short name (their IRIs carry no label in the graph)
LICENCE_NAMES = {
    "https://opendatacommons.org/licenses/odbl/1-0/": "ODbL 1.0",
    "https://www.etalab.gouv.fr/licence-ouverte-open-licence/": "Licence Ouverte 2.0",
}


@dataclass(frozen=True)
class SeriesPoint:
    """One quarter of the Urssaf series: seasonally adjusted and raw head counts, with the file line."""

    period: str
    label: str
    value: float | None
    shown: str
    raw: str
    sources: list[Source]


@dataclass
class EmploymentSeries:
    """Urssaf's private-sector employment in the 2020 zone that holds most of a 2010 zone's communes."""

    zone: Overlap
    points: list[SeriesPoint]
    dataset: Shown
    publisher: str
    licence: Shown
    #: the file and lines the points come from, e.g. "effectifs.csv, lignes 2–13"
    files: list[str]

    def at(self, period: str) -> SeriesPoint | None:
        return next((p for p in self.points if p.period == period), None)


@dataclass
class Employment:
    """What the territory page says about the Urssaf series: loaded or not, for which 2020 zone."""

    loaded: bool
    zone: Overlap | None
    series: EmploymentSeries | None


async def employment(service: SparqlService, zones: Sequence[Overlap], labels: Labels) -> Employment:
    """The Urssaf series (``bassin-kg ingest acoss``) of the zone's main 2020 zone, when loaded."""
    zone = main_zone(zones)
    series = await employment_series(service, zone, labels) if zone is not None else None
    if series is not None:
        return Employment(True, zone, series)
    rows = await service.solutions(
        f"SELECT ?ds WHERE {{ ?ds <{QB}structure> {node(ACOSS_STRUCTURE)} }} LIMIT 1"
    )
    return Employment(bool(rows), zone, None)


async def employment_series(service: SparqlService, zone: Overlap, labels: Labels) -> EmploymentSeries | None:
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?obs ?ds ?period ?cvs ?raw WHERE {{
  ?obs qb:dataSet ?ds ; sdmx-dimension:refArea {node(zone.iri)} ; sdmx-dimension:refPeriod ?period .
  ?ds qb:structure {node(ACOSS_STRUCTURE)} .
  OPTIONAL {{ ?obs bm:effectifsSalariesCvs ?cvs }}
  OPTIONAL {{ ?obs bm:effectifsSalariesBrut ?raw }}
}}"""
    )
    by_period: dict[str, Row] = {}
    for row in rows:
        match = QUARTER.match(text(row.get("period")))
        if match:
            by_period.setdefault(f"{match.group(1)}-Q{match.group(2)}", row)
    if not by_period:
        return None
    observations = [text(r.get("obs")) for r in by_period.values()]
    sources = await fetch_sources(service, observations, labels)
    points = []
    for period, row in sorted(by_period.items()):
        cvs, raw = row.get("cvs"), row.get("raw")
        points.append(
            SeriesPoint(
                period=period,
                label=fallback_label(text(row.get("period"))),
                value=number(cvs),
                shown=labels.show(cvs).text if cvs is not None else "",
                raw=labels.show(raw).text if raw is not None else "",
                sources=sources.get(text(row.get("obs")), []),
            )
        )
    dataset = text(next(iter(by_period.values())).get("ds"))
    about = await service.solutions(
        f"""{PREFIX_LINES}
SELECT ?publisher ?licence WHERE {{
  OPTIONAL {{ {node(dataset)} dcterms:publisher ?publisher }}
  OPTIONAL {{ {node(dataset)} dcterms:license ?licence }}
}} LIMIT 1"""
    )
    await labels.fetch(service, [dataset])
    publisher = text(about[0].get("publisher")) if about else ""
    licence_iri = text(about[0].get("licence")) if about else ""
    licence = Shown(
        LICENCE_NAMES.get(licence_iri, licence_iri or "non précisée"),
        labels.links.href(licence_iri) if licence_iri else None,
        licence_iri or None,
    )
    return EmploymentSeries(
        zone=zone,
        points=points,
        dataset=labels.show(dataset),
        publisher=publisher or "Urssaf",
        licence=licence,
        files=line_ranges(s for p in points for s in p.sources),
    )
