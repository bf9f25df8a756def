"""The territory view: SWOT grid, recruitment figures, unemployment, overlaps, employment."""

from __future__ import annotations

from dataclasses import dataclass, field

from bassin_kg.namespaces import BM
from bassin_kg.web.describe.key_figures import Figure, Unemployment, datasets, figures, unemployment
from bassin_kg.web.describe.labels import Labels
from bassin_kg.web.describe.resource import Description
from bassin_kg.web.describe.swot import SwotBox, boxes, swot_items
from bassin_kg.web.describe.urssaf import Employment, employment
from bassin_kg.web.describe.zonings import Overlap, overlaps
from bassin_kg.web.sparql import SparqlService


@dataclass
class TerritoryView:
    description: Description
    code: str
    boxes: list[SwotBox]
    projects: list[Figure]
    difficulties: list[Figure]
    unemployment: Unemployment | None
    overlaps: list[Overlap] = field(default_factory=list)
    employment: Employment | None = None


async def territory_view(
    service: SparqlService, description: Description, labels: Labels, base: str
) -> TerritoryView:
    projects_ds, difficulties_ds = datasets(base)
    iri = description.iri
    items = await swot_items(service, iri, labels)
    projects = await figures(service, labels, str(BM.projetsRecrutement), dataset=projects_ds, territory=iri)
    hard = await figures(
        service, labels, str(BM.partProjetsDifficiles), dataset=difficulties_ds, territory=iri, unit=" %"
    )
    zones = await overlaps(service, iri, labels)
    return TerritoryView(
        description=description,
        code=iri.rstrip("/").rsplit("/", 1)[-1],
        boxes=boxes(items),
        projects=projects,
        difficulties=hard,
        unemployment=await unemployment(service, iri, labels),
        overlaps=zones,
        employment=await employment(service, zones, labels),
    )
