"""The occupation view: recruitment figures and the FAP-2009 and ROME codes it matches."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from bassin_kg.namespaces import BM, Iris
from bassin_kg.web.describe.formatting import FRENCH_LABELS
from bassin_kg.web.describe.key_figures import Figure, datasets, figures
from bassin_kg.web.describe.labels import Labels, Shown
from bassin_kg.web.describe.resource import Description
from bassin_kg.web.describe.rows import PREFIX_LINES, node, text
from bassin_kg.web.sparql import SparqlService


@dataclass
class Code:
    scheme: str
    code: str
    relation: str
    concept: Shown


@dataclass
class OccupationView:
    description: Description
    projects: list[Figure]
    difficulties: list[Figure]
    fap: list[Code]
    rome: list[Code]


_MATCHES = ("exactMatch", "narrowMatch", "closeMatch", "broadMatch")


async def occupation_view(
    service: SparqlService, description: Description, labels: Labels, base: str
) -> OccupationView:
    projects_ds, difficulties_ds = datasets(base)
    iri = description.iri
    projects = await figures(service, labels, str(BM.projetsRecrutement), dataset=projects_ds, occupation=iri)
    hard = await figures(
        service, labels, str(BM.partProjetsDifficiles), dataset=difficulties_ds, occupation=iri, unit=" %"
    )
    iris = Iris(base)
    fap_prefix, rome_prefix = str(iris.fap2009("")), str(iris.rome(""))
    matches = " ".join(f"skos:{m}" for m in _MATCHES)
    rows = await service.solutions(
        f"""{PREFIX_LINES}
SELECT DISTINCT ?fap ?rel ?fapCode ?rome ?romeRel ?romeCode WHERE {{
  VALUES ?rel {{ {matches} }}
  {node(iri)} ?rel ?fap .
  FILTER(STRSTARTS(STR(?fap), "{fap_prefix}"))
  OPTIONAL {{ ?fap skos:notation ?fapCode }}
  OPTIONAL {{
    VALUES ?romeRel {{ {matches} }}
    ?fap ?romeRel ?rome .
    FILTER(STRSTARTS(STR(?rome), "{rome_prefix}") && !CONTAINS(STR(?rome), "/appellation/"))
    OPTIONAL {{ ?rome skos:notation ?romeCode }}
  }}
}}"""
    )
    await labels.fetch(service, [text(r.get("fap")) for r in rows] + [text(r.get("rome")) for r in rows])
    fap: dict[str, Code] = {}
    rome: dict[str, Code] = {}
    for row in rows:
        fap_iri = text(row.get("fap"))
        code = text(row.get("fapCode")) or fap_iri.rsplit("/", 1)[-1]
        relation = FRENCH_LABELS.get(text(row.get("rel")), "")
        fap.setdefault(fap_iri, Code("FAP-2009", code, relation, labels.show(fap_iri)))
        rome_iri = row.get("rome")
        if isinstance(rome_iri, ox.NamedNode):
            rome_code = text(row.get("romeCode")) or rome_iri.value.rsplit("/", 1)[-1]
            rome.setdefault(
                rome_iri.value,
                Code("ROME", rome_code, f"via FAP {code}", labels.show(rome_iri.value)),
            )
    return OccupationView(
        description=description,
        projects=projects,
        difficulties=hard,
        fap=sorted(fap.values(), key=lambda c: c.code),
        rome=sorted(rome.values(), key=lambda c: c.code),
    )
