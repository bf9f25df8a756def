"""Recruitment figures (BMO data sets) and the latest unemployment rate of a territory."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.namespaces import Iris
from bassin_kg.web.describe.formatting import QUARTER
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources
from bassin_kg.web.sparql import SparqlService


@dataclass
class Figure:
    """One number of a chart or key figure, with what it is about and where it comes from."""

    label: Shown
    value: float
    shown: str
    rank: int | None
    sources: list[Source]
    territory: Shown | None = None


@dataclass
class Unemployment:
    rate: Figure
    change: Figure | None
    period: str
    #: the period as ``2018-Q2`` when it is a quarter
    quarter: str | None = None


async def figures(
    service: SparqlService,
    labels: Labels,
    measure: str,
    *,
    dataset: str,
    territory: str | None = None,
    occupation: str | None = None,
    unit: str = "",
) -> list[Figure]:
    """Observations of ``dataset`` for a territory (by occupation) or an occupation (by territory)."""
    fixed = ""
    if territory:
        fixed += f"VALUES ?area {{ {node(territory)} }}\n"
    if occupation:
        fixed += f"VALUES ?job {{ {node(occupation)} }}\n"
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?obs ?area ?job ?value ?rank WHERE {{
  ?obs qb:dataSet {node(dataset)} ; sdmx-dimension:refArea ?area ;
       sdmx-dimension:occupation ?fap ; {node(measure)} ?value .
  OPTIONAL {{ ?obs bm:rang ?rank }}
  OPTIONAL {{ ?obs bm:metierDiaporama ?deckJob }}
  # the deck's own occupation when it has one (the dimension is the FAP family: MODEL.md)
  BIND(COALESCE(?deckJob, ?fap) AS ?job)
  {fixed}
}}"""
    )
    about = [text(r.get("job")) if territory else text(r.get("area")) for r in rows]
    areas = [text(r.get("area")) for r in rows]
    await labels.fetch(service, about + areas)
    sources = await fetch_sources(service, (text(r.get("obs")) for r in rows), labels)
    result = []
    for row, subject in zip(rows, about, strict=True):
        value = number(row.get("value"))
        if value is None:
            continue
        rank = number(row.get("rank"))
        shown = labels.show(row.get("value")).text + unit
        result.append(
            Figure(
                label=labels.show(subject),
                value=value,
                shown=shown,
                rank=int(rank) if rank is not None else None,
                sources=sources.get(text(row.get("obs")), []),
                territory=labels.show(text(row.get("area"))),
            )
        )
    result.sort(key=lambda f: (f.rank if f.rank is not None else 99, -f.value, f.label.text))
    return result


async def unemployment(service: SparqlService, territory: str, labels: Labels) -> Unemployment | None:
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT ?obs ?rate ?change ?period WHERE {{
  ?obs sdmx-dimension:refArea {node(territory)} ; bm:tauxChomage ?rate .
  OPTIONAL {{ ?obs sdmx-dimension:refPeriod ?period }}
  OPTIONAL {{ ?obs bm:evolutionTauxChomage1An ?change }}
}} ORDER BY DESC(STR(?period)) LIMIT 1"""
    )
    if not rows:
        return None
    row = rows[0]
    rate = number(row.get("rate"))
    if rate is None:
        return None
    obs = text(row.get("obs"))
    sources = (await fetch_sources(service, [obs], labels)).get(obs, [])
    period = row.get("period")
    period_text = labels.get(period.value) if isinstance(period, ox.NamedNode) else ""
    rate_figure = Figure(
        Shown("taux de chômage"), rate, labels.show(row.get("rate")).text + " %", None, sources
    )
    change = None
    change_value = number(row.get("change"))
    if change_value is not None:
        shown = labels.show(row.get("change")).text
        if change_value > 0:
            shown = "+" + shown
        change = Figure(Shown("évolution sur un an"), change_value, shown + " point", None, sources)
    quarter = QUARTER.match(period.value) if isinstance(period, ox.NamedNode) else None
    quarter_key = f"{quarter.group(1)}-Q{quarter.group(2)}" if quarter else None
    return Unemployment(rate_figure, change, period_text, quarter_key)


def datasets(base: str) -> tuple[str, str]:
    iris = Iris(base)
    return str(iris.dataset("deck-projets-recrutement")), str(iris.dataset("deck-difficultes-recrutement"))
