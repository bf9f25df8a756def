"""What the named-query pages add for people: availability, select lists, unknown values, French headers.

- A query that cannot answer on this server (a SERVICE the endpoint refuses, a data set not loaded) is
  shown greyed out with the reason, never offered as a link that always fails.
- A parameter whose values form a closed set in the graph (the zones, bassins, actors, sectors) is a
  select list of those values with their labels.
- A well-formed value naming nothing in the graph (``territoire=9999``) is said to be unknown instead of
  giving an empty table.
- Result columns keep their SPARQL variable names in the data formats; pages show French labels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bassin_kg.namespaces import Iris
from bassin_kg.queries import KINDS, NamedQuery, QueryParam
from bassin_kg.settings import Settings
from bassin_kg.web.describe import Labels
from bassin_kg.web.describe.rows import PREFIX_LINES, node, text
from bassin_kg.web.query_text import QueryTextError, check_services, service_calls
from bassin_kg.web.sparql import SparqlService

#: parameter kinds whose values are resources of one class: offered as a list when the graph has few
#: (class, "no such thing" in French)
CLOSED_KINDS: dict[str, tuple[str, str]] = {
    "ze2010": ("igeo:ZoneDEmploi2010", "aucune zone d'emploi 2010"),
    "ze2020": ("igeo:ZoneDEmploi2020", "aucune zone d'emploi 2020"),
    "bassin-bmo": ("bm:BassinEmploiBMO", "aucun bassin d'emploi BMO"),
    "actor": ("bm:Acteur", "aucun acteur"),
    "sector": ("skos:Concept", "aucun secteur"),
    "commune": ("igeo:Commune", "aucune commune"),
    "rome": ("skos:Concept", "aucune fiche ROME"),
    "fap2009": ("skos:Concept", "aucune famille FAP-2009"),
    "fap2021": ("skos:Concept", "aucune famille FAP-2021"),
}
#: more values than this: a text field (a list of hundreds of codes helps no one)
MAX_CHOICES = 60

#: French headers for the result columns of the named queries (variables stay as they are)
COLUMN_LABELS: dict[str, str] = {
    "actorLabel": "acteur",
    "actorType": "type d'acteur",
    "bassin": "bassin BMO",
    "bassinBmo": "bassin BMO",
    "bassinCount": "nombre de bassins",
    "bassinName": "nom du bassin",
    "bassinShare": "part dans le bassin",
    "bassins": "bassins",
    "category": "catégorie",
    "change1y": "évolution sur un an (points)",
    "code": "code",
    "commune": "commune",
    "created": "créée le",
    "dataset": "jeu de données",
    "deckChange1y": "évolution sur un an, diaporama (points)",
    "deckRate": "taux de chômage, diaporama (%)",
    "deckZone": "zone d'emploi du diaporama",
    "departements": "départements (projets)",
    "difficultShare2024": "part des projets jugés difficiles 2024 (%)",
    "effectifsBrut": "effectifs salariés (bruts)",
    "effectifsCvs": "effectifs salariés (CVS)",
    "esco": "métier ESCO",
    "escoExact": "métier ESCO (exact)",
    "escoExactMatches": "dont correspondances exactes",
    "escoOccupations": "métiers ESCO",
    "fap2009": "FAP-2009",
    "fap2021": "FAP-2021",
    "fapCode": "code FAP",
    "insee": "IRI INSEE",
    "insee2018": "code INSEE 2018",
    "insee2022": "code INSEE 2022",
    "inseeName": "nom INSEE",
    "inseeRegionCode": "code de région INSEE",
    "inseeRegionName": "région INSEE",
    "label": "libellé",
    "link": "lien",
    "masseBrut": "masse salariale (brute)",
    "masseCvs": "masse salariale (CVS)",
    "name": "nom",
    "occupation": "métier",
    "occupation2024": "métier 2024",
    "occupationLink": "rapprochement des familles",
    "period": "période",
    "prefecture": "préfecture",
    "projects": "projets de recrutement",
    "projects2018": "projets 2018",
    "projects2024": "projets 2024",
    "rank": "rang",
    "rate": "taux de chômage (%)",
    "relation": "relation",
    "rome": "code ROME",
    "romeLabel": "intitulé ROME",
    "sameName": "même nom",
    "sameRegion": "même région",
    "sectorLabel": "secteur",
    "source": "source",
    "territories": "territoires",
    "territory": "territoire",
    "territoryCount": "nombre de territoires",
    "territoryLabel": "territoire",
    "territoryShare": "part du territoire",
    "text": "texte",
    "ze2010": "zone d'emploi 2010",
    "ze2010Name": "nom de la zone 2010",
    "ze2020": "zone d'emploi 2020",
    "ze2020Name": "nom de la zone 2020",
    "zone": "zone",
}
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def column_label(variable: str) -> str:
    """The French header of a result column; an unknown variable is shown spaced out, as it is."""
    return COLUMN_LABELS.get(variable) or _CAMEL.sub(" ", variable)


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


async def unavailable_reason(
    query: NamedQuery, settings: Settings, service: SparqlService, loaded: dict[str, bool]
) -> str | None:
    """Why ``query`` cannot answer here, in French, or None when it can.

    ``loaded``: the data sets already looked up (name -> present), filled in as a cache for one page.
    """
    try:
        check_services(query.text, settings.service_allowlist)
    except QueryTextError:
        hosts = sorted({c.iri.split("/")[2] for c in service_calls(query.text) if c.iri and "//" in c.iri})
        where = ", ".join(hosts) or "un autre point d'accès"
        return f"requête fédérée (SERVICE vers {where}) désactivée sur ce serveur"
    iris = Iris(settings.base_iri)
    for dataset, description in query.requires:
        present = loaded.get(dataset)
        if present is None:
            rows = await service.solutions(
                f"SELECT ?p WHERE {{ {node(str(iris.dataset(dataset)))} ?p ?o }} LIMIT 1"
            )
            present = loaded[dataset] = bool(rows)
        if not present:
            return f"données non chargées sur ce serveur : {description or dataset}"
    return None


async def unavailable_queries(
    queries: Mapping[str, NamedQuery], settings: Settings, service: SparqlService
) -> dict[str, str]:
    """The reason each unavailable query cannot answer here (absent: it can)."""
    loaded: dict[str, bool] = {}
    reasons: dict[str, str] = {}
    for name, query in queries.items():
        reason = await unavailable_reason(query, settings, service, loaded)
        if reason:
            reasons[name] = reason
    return reasons


def _scheme_filter(kind: str, iris: Iris) -> str:
    scheme = {"sector": "secteurs", "rome": "rome", "fap2009": "fap2009", "fap2021": "fap2021"}.get(kind)
    return f"?x skos:inScheme {node(str(iris.scheme(scheme)))} ." if scheme else ""


async def choices(
    param: QueryParam, service: SparqlService, labels: Labels, base: str
) -> list[Choice] | None:
    """The values ``param`` can take in this graph, with labels, when they are few; None otherwise."""
    if param.kind not in CLOSED_KINDS:
        return None
    iris = Iris(base)
    cls, _ = CLOSED_KINDS[param.kind]
    prefix = str(KINDS[param.kind].to_term("0000", iris).value).rsplit("/", 1)[0] + "/"
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?x WHERE {{
  ?x a {cls} . {_scheme_filter(param.kind, iris)}
  FILTER(STRSTARTS(STR(?x), "{prefix}"))
}} LIMIT {MAX_CHOICES + 1}"""
    )
    found = sorted({text(r.get("x")) for r in rows})
    if not found or len(found) > MAX_CHOICES:
        return None
    await labels.fetch(service, found)
    result = []
    for iri in found:
        value = iri.rsplit("/", 1)[-1]
        label = labels.get(iri)
        result.append(Choice(value, value if label == value else f"{label} ({value})"))
    result.sort(key=lambda c: c.label.lower())
    return result


async def unknown_values(
    query: NamedQuery, values: Mapping[str, str], service: SparqlService, base: str
) -> str | None:
    """A French message naming the first value that names no resource of the graph, or None."""
    iris = Iris(base)
    for param in query.params:
        value = values.get(param.name)
        if value is None or param.kind not in CLOSED_KINDS:
            continue
        iri = KINDS[param.kind].to_term(value, iris).value
        rows = await service.solutions(f"SELECT ?p WHERE {{ {node(iri)} ?p ?o }} LIMIT 1")
        if not rows:
            _, nothing = CLOSED_KINDS[param.kind]
            return (
                f"paramètre « {param.name} » : {nothing} n'a le code « {value} » dans ce graphe ; "
                "choisissez une valeur de la liste ou vérifiez le code"
            )
    return None
