"""The trajectory of a zone: the deck's 2018 figures beside every BMO survey loaded, occupation by occupation.

The deck names its occupations in its own words (deck concepts, mapped to FAP-2009 families); BMO
surveys from 2022 on count FAP-2021 families, earlier ones FAP-2009. The path is therefore deck
occupation → FAP-2009 (``skos:exactMatch|narrowMatch|closeMatch``) → FAP-2021 (the graph's
``bm:CorrespondanceMetier``, no official table), read in the BMO bassin that holds most of the zone.

The queries reach the deck concept by ``bm:metierDiaporama|sdmx-dimension:occupation`` restricted to the
deck's scheme, so they read both models: the deck concept as the observation's occupation dimension, or
the FAP concept as dimension with the deck concept kept in ``bm:metierDiaporama``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from bassin_kg.namespaces import Iris
from bassin_kg.web.describe.basin import bmo_years, main_bassins, shown_number
from bassin_kg.web.describe.key_figures import datasets
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.rows import PREFIX_LINES, node, number, text
from bassin_kg.web.describe.sources import Source, fetch_sources
from bassin_kg.web.describe.zonings import Overlap, overlaps
from bassin_kg.web.sparql import SparqlService


@dataclass
class Counterpart:
    """A family of a later nomenclature matched to the deck occupation, with its BMO figure per year."""

    family: Shown
    code: str
    #: how the FAP-2009 family was matched to this one (e.g. "même code, même libellé")
    link: str
    #: year -> (projects, share of difficult projects, secret): None when the survey has no row for it
    years: dict[str, BmoCell | None] = field(default_factory=dict)


@dataclass(frozen=True)
class BmoCell:
    projects: float | None
    difficult: float | None
    secret: bool

    @property
    def share(self) -> float | None:
        if self.projects and self.difficult is not None:
            return round(100 * self.difficult / self.projects, 1)
        return None

    @property
    def projects_text(self) -> str | None:
        return None if self.projects is None else shown_number(self.projects)

    @property
    def share_text(self) -> str | None:
        share = self.share
        return None if share is None else shown_number(share) + "\u202f%"


@dataclass
class TrajectoryRow:
    """One of the deck's ten occupations of the zone (five by projects, five by difficulty)."""

    rank: int
    occupation: Shown
    value: float
    shown: str
    sources: list[Source]
    fap2009: list[Shown]
    counterparts: list[Counterpart]

    def total(self, year: str, measure: str) -> float | None:
        """The counterparts' figures of ``year`` summed ('projects'), or the share over them ('share')."""
        cells = [c.years.get(year) for c in self.counterparts]
        known = [c for c in cells if c is not None and c.projects is not None]
        if not known:
            return None
        projects = sum(c.projects or 0.0 for c in known)
        if measure == "projects":
            return projects
        with_share = [c for c in known if c.difficult is not None]
        if not with_share or not projects:
            return None
        difficult = sum(c.difficult or 0.0 for c in with_share)
        return round(100 * difficult / sum(c.projects or 0.0 for c in with_share), 1)

    def shown_total(self, year: str, measure: str) -> str | None:
        value = self.total(year, measure)
        if value is None:
            return None
        return shown_number(value) + (" %" if measure == "share" else "")


@dataclass
class TrajectoryView:
    zone: Shown
    code: str
    bassin: Overlap | None
    years: list[str]
    projects: list[TrajectoryRow]
    difficulties: list[TrajectoryRow]


async def trajectory_view(service: SparqlService, zone: str, labels: Labels, base: str) -> TrajectoryView:
    iris = Iris(base)
    projects_ds, difficulties_ds = datasets(base)
    await labels.fetch(service, [zone])
    years = await bmo_years(service, base)
    bassins = await main_bassins(service, [zone])
    bassin_iri = bassins.get(zone)
    bassin = next((o for o in await overlaps(service, zone, labels) if o.iri == bassin_iri), None)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?obs ?ds ?deckOcc ?value ?rank WHERE {{
  VALUES ?ds {{ {node(projects_ds)} {node(difficulties_ds)} }}
  ?obs qb:dataSet ?ds ; sdmx-dimension:refArea {node(zone)} ;
       bm:metierDiaporama|sdmx-dimension:occupation ?deckOcc .
  ?deckOcc skos:inScheme {node(str(iris.scheme("metiers-deck")))} .
  ?obs bm:projetsRecrutement|bm:partProjetsDifficiles ?value .
  OPTIONAL {{ ?obs bm:rang ?rank }}
}}"""
    )
    occupations = sorted({text(r.get("deckOcc")) for r in rows})
    fap_of, new_of = await _families(service, occupations, iris)
    all_new = sorted({n for pairs in new_of.values() for n, _ in pairs})
    cells = await _bmo_cells(service, bassin_iri, all_new, years) if bassin_iri else {}
    await labels.fetch(service, [*occupations, *{f for fs in fap_of.values() for f in fs}, *all_new])
    sources = await fetch_sources(service, (text(r.get("obs")) for r in rows), labels)
    projects: list[TrajectoryRow] = []
    difficulties: list[TrajectoryRow] = []
    for row in rows:
        value = number(row.get("value"))
        if value is None:
            continue
        occupation = text(row.get("deckOcc"))
        faps = sorted(fap_of.get(occupation, set()))
        counterparts: dict[str, Counterpart] = {}
        for fap in faps:
            for new, link in new_of.get(fap, []):
                if new in counterparts:
                    continue
                counterparts[new] = Counterpart(
                    family=labels.show(new),
                    code=new.rsplit("/", 1)[-1],
                    link=link,
                    years={y: cells.get((new, y)) for y in years},
                )
        is_projects = text(row.get("ds")) == projects_ds
        trajectory = TrajectoryRow(
            rank=int(number(row.get("rank")) or 0),
            occupation=labels.show(occupation),
            value=value,
            shown=shown_number(value) + ("" if is_projects else " %"),
            sources=sources.get(text(row.get("obs")), []),
            fap2009=[labels.show(f) for f in faps],
            counterparts=sorted(counterparts.values(), key=lambda c: c.code),
        )
        (projects if is_projects else difficulties).append(trajectory)
    projects.sort(key=lambda r: (r.rank, r.occupation.text))
    difficulties.sort(key=lambda r: (r.rank, r.occupation.text))
    return TrajectoryView(
        zone=labels.show(zone),
        code=zone.rsplit("/", 1)[-1],
        bassin=bassin,
        years=list(years),
        projects=projects,
        difficulties=difficulties,
    )


async def _families(
    service: SparqlService, occupations: list[str], iris: Iris
) -> tuple[dict[str, set[str]], dict[str, list[tuple[str, str]]]]:
    """Deck occupation -> its FAP-2009 families; FAP-2009 family -> FAP-2021 families and how matched."""
    if not occupations:
        return {}, {}
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?deckOcc ?fap ?new ?link WHERE {{
  VALUES ?deckOcc {{ {" ".join(node(o) for o in occupations)} }}
  ?deckOcc skos:exactMatch|skos:narrowMatch|skos:closeMatch ?fap .
  ?fap skos:inScheme {node(str(iris.scheme("fap2009")))} .
  OPTIONAL {{
    ?correspondence bm:metierSource ?fap ; bm:metierCible ?new .
    ?new skos:inScheme {node(str(iris.scheme("fap2021")))} .
    OPTIONAL {{ ?correspondence bm:methodeCorrespondance/rdfs:label ?link .
               FILTER(LANGMATCHES(LANG(?link), "fr")) }}
  }}
}}"""
    )
    fap_of: dict[str, set[str]] = defaultdict(set)
    new_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        fap = text(row.get("fap"))
        fap_of[text(row.get("deckOcc"))].add(fap)
        new = text(row.get("new"))
        if new and all(n != new for n, _ in new_of[fap]):
            new_of[fap].append((new, text(row.get("link"))))
    return fap_of, new_of


async def _bmo_cells(
    service: SparqlService, bassin: str, families: list[str], years: dict[str, str]
) -> dict[tuple[str, str], BmoCell]:
    """The BMO figures of ``families`` in ``bassin``, per year (summed over départements if split)."""
    if not families or not years:
        return {}
    by_dataset = {ds: year for year, ds in years.items()}
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?obs ?ds ?family ?met ?xmet ?secret WHERE {{
  VALUES ?family {{ {" ".join(node(f) for f in families)} }}
  VALUES ?ds {{ {" ".join(node(d) for d in by_dataset)} }}
  ?obs qb:dataSet ?ds ; sdmx-dimension:refArea {node(bassin)} ; sdmx-dimension:occupation ?family .
  OPTIONAL {{ ?obs bm:projetsRecrutement ?met }}
  OPTIONAL {{ ?obs bm:projetsDifficiles ?xmet }}
  OPTIONAL {{ ?obs bm:mesureConfidentielle ?hidden }}
  BIND(BOUND(?hidden) AS ?secret)
}}"""
    )
    sums: dict[tuple[str, str], list[float | None]] = {}
    secret: dict[tuple[str, str], bool] = defaultdict(bool)
    seen: set[str] = set()
    for row in rows:
        obs = text(row.get("obs"))
        if obs in seen:
            continue
        seen.add(obs)
        key = (text(row.get("family")), by_dataset.get(text(row.get("ds")), ""))
        met, xmet = number(row.get("met")), number(row.get("xmet"))
        current = sums.setdefault(key, [0.0, 0.0])
        current[0] = None if met is None or current[0] is None else current[0] + met
        current[1] = None if xmet is None or current[1] is None else current[1] + xmet
        secret[key] |= text(row.get("secret")) == "true"
    return {key: BmoCell(values[0], values[1], secret[key]) for key, values in sums.items()}
