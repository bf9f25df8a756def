"""Overlaps of a territory with the other zonings (``bm:RecouvrementTerritorial``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bassin_kg.namespaces import BM
from bassin_kg.web.describe.formatting import format_share
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, node, number, text
from bassin_kg.web.sparql import SparqlService

ZONE_KINDS: dict[str, str] = {
    "http://rdf.insee.fr/def/geo#ZoneDEmploi2020": "zone d'emploi 2020",
    "http://rdf.insee.fr/def/geo#ZoneDEmploi2010": "zone d'emploi 2010",
    str(BM.BassinEmploiBMO): "bassin d'emploi BMO",
}
ZE2020 = "http://rdf.insee.fr/def/geo#ZoneDEmploi2020"


@dataclass(frozen=True)
class Overlap:
    """A territory of another zoning sharing communes with a zone (a ``bm:RecouvrementTerritorial``)."""

    iri: str
    territory: Shown
    kind: str
    code: str
    common: int | None
    #: share of the zone's communes that lie in the other territory (0–1)
    share: float
    #: share of the other territory's communes that lie in the zone (0–1), when the graph gives it
    share_back: float | None = None

    @property
    def share_text(self) -> str:
        return format_share(self.share)

    @property
    def share_back_text(self) -> str | None:
        return None if self.share_back is None else format_share(self.share_back)


async def overlaps(service: SparqlService, territory: str, labels: Labels) -> list[Overlap]:
    """The territories of other zonings sharing communes with ``territory``, 2020 zones first."""
    kinds = " ".join(node(k) for k in ZONE_KINDS)
    me = node(territory)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?other ?kind ?share ?common ?back ?code WHERE {{
  ?overlap bm:territoireSource {me} ; bm:territoireCible ?other ; bm:partCommunes ?share .
  OPTIONAL {{ ?overlap bm:nombreCommunesCommunes ?common }}
  OPTIONAL {{ ?reverse bm:territoireSource ?other ; bm:territoireCible {me} ; bm:partCommunes ?back }}
  OPTIONAL {{ VALUES ?kind {{ {kinds} }} ?other a ?kind }}
  OPTIONAL {{ ?other igeo:codeINSEE|skos:notation ?code }}
}}"""
    )
    found: dict[str, Overlap] = {}
    for row in rows:
        other, share = text(row.get("other")), number(row.get("share"))
        if not other or share is None or other in found:
            continue
        common = number(row.get("common"))
        kind = row.get("kind")
        found[other] = Overlap(
            iri=other,
            territory=Shown(other),  # labelled below, in one query for all
            kind=ZONE_KINDS.get(kind.value, "territoire") if kind is not None else "territoire",
            code=text(row.get("code")) or other.rsplit("/", 1)[-1],
            common=int(common) if common is not None else None,
            share=share,
            share_back=number(row.get("back")),
        )
    await labels.fetch(service, found)
    order = list(ZONE_KINDS.values())
    result = [
        Overlap(o.iri, labels.show(o.iri), o.kind, o.code, o.common, o.share, o.share_back)
        for o in found.values()
    ]
    result.sort(key=lambda o: (order.index(o.kind) if o.kind in order else 9, -o.share, o.territory.text))
    return result


def main_zone(zones: Sequence[Overlap]) -> Overlap | None:
    """The 2020 zone holding most of the zone's communes (more than half), if there is one."""
    candidates = [z for z in zones if z.kind == ZONE_KINDS[ZE2020] and z.share > 0.5]
    return max(candidates, key=lambda z: z.share, default=None)
