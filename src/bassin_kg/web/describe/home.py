"""The home page: the employment zones the deck describes, side by side."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bassin_kg.namespaces import BM
from bassin_kg.web.describe.key_figures import Figure, Unemployment, datasets, figures, unemployment
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, node, number, text
from bassin_kg.web.describe.swot import SWOT_BOXES, SWOT_CLASSES
from bassin_kg.web.sparql import SparqlService


@dataclass
class TerritoryCard:
    territory: Shown
    code: str
    counts: list[tuple[str, str, int]]
    unemployment: Unemployment | None
    top_project: Figure | None
    top_difficulty: Figure | None
    #: the occupations sharing the top difficulty share (the deck often gives five at 100 %)
    hardest: list[Figure] = field(default_factory=list)


async def home_view(service: SparqlService, labels: Labels, base: str) -> list[TerritoryCard]:
    """The employment zones the deck describes (those with SWOT items), side by side."""
    classes = " ".join(node(c) for c in SWOT_CLASSES)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT ?territory ?class (COUNT(DISTINCT ?item) AS ?n) WHERE {{
  VALUES ?class {{ {classes} }}
  ?item a ?class ; bm:territoire ?territory .
  ?territory a igeo:ZoneDEmploi2010 .
}} GROUP BY ?territory ?class"""
    )
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        value = number(row.get("n"))
        counts[text(row.get("territory"))][text(row.get("class"))] = int(value or 0)
    await labels.fetch(service, counts)
    projects_ds, difficulties_ds = datasets(base)
    cards = []
    for territory in counts:
        projects = await figures(
            service, labels, str(BM.projetsRecrutement), dataset=projects_ds, territory=territory
        )
        hard = await figures(
            service,
            labels,
            str(BM.partProjetsDifficiles),
            dataset=difficulties_ds,
            territory=territory,
            unit=" %",
        )
        cards.append(
            TerritoryCard(
                territory=labels.show(territory),
                code=territory.rsplit("/", 1)[-1],
                counts=[(key, title, counts[territory].get(cls, 0)) for key, cls, title in SWOT_BOXES],
                unemployment=await unemployment(service, territory, labels),
                top_project=projects[0] if projects else None,
                top_difficulty=hard[0] if hard else None,
                hardest=[f for f in hard if f.value == hard[0].value],
            )
        )
    # west to east, as on the deck's map: Béthune-Bruay, Lens-Hénin, Douaisis, Valenciennois
    order = ["3123", "3122", "3114", "3115"]
    cards.sort(key=lambda c: (order.index(c.code) if c.code in order else 9, c.territory.text))
    return cards
