"""The deck's content as RDF: the ``deck`` named graph of ontology/MODEL.md.

Reads the curated tables of ``data/curated/`` (columns in its README): territories and the basin, SWOT
items, links between territories, the employment multiplier, common perspectives, actors and their
types, sectors, the deck's occupation labels mapped to FAP-2009, the deck document, and the three Data
Cube datasets with their observations. Every resource points (``prov:wasDerivedFrom``) to the record of
its curated row, which points to the lines of the deck text it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD

from bassin_kg.errors import DataError
from bassin_kg.french import MONTHS
from bassin_kg.namespaces import BM, INTERVAL_QUARTER, INTERVAL_YEAR, ORG, QB, SCHEMA, SDMX_DIM, Iris
from bassin_kg.namespaces import slugify as _slugify
from bassin_kg.sources.base import CatalogueEntry, ConvertContext, GraphPart, Source, fixed_entry, new_graph
from bassin_kg.sources.common import Row, SourceRecords, Table, decimal, en, fr, integer, read_table

CURATED = "data/curated"
DECK_FILE = "data/sources/deck/trajectoire-economique-bassin-minier-2019.txt"
LICENCE = URIRef("https://www.etalab.gouv.fr/licence-ouverte-open-licence/")

_EXTRACTED = "run `bassin-kg extract` to write it from the deck text"
_REVIEWED = "restore it from git: it is a reviewed table (see data/curated/README.md)"
_DECK_LINES = ("line_start", "line_end")

#: table stem -> (required columns, how to restore a missing file)
TABLES: dict[str, tuple[tuple[str, ...], str]] = {
    "deck_metadata": (("kind", "territory", "value", *_DECK_LINES), _EXTRACTED),
    "territories": (("key", "deck_label", "scheme", "code", *_DECK_LINES), _EXTRACTED),
    "swot_items": (("item", "territory", "category", "rank", "text", *_DECK_LINES), _EXTRACTED),
    "recruitment_projects": (("territory", "rank", "deck_label", "projects", *_DECK_LINES), _EXTRACTED),
    "recruitment_difficulties": (
        ("territory", "rank", "deck_label", "difficult_share_percent", *_DECK_LINES),
        _EXTRACTED,
    ),
    "unemployment": (("territory", "period", "rate_percent", "change_1y_points", *_DECK_LINES), _EXTRACTED),
    "territory_links": (("item", "rank", "text", *_DECK_LINES), _EXTRACTED),
    "multipliers": (
        ("key", "direct_jobs", "indirect_jobs", "induced_jobs", "source", *_DECK_LINES),
        _EXTRACTED,
    ),
    "common_perspectives": (("item", "rank", "text", *_DECK_LINES), _EXTRACTED),
    "territory_names": (("deck_label", "scheme", "code", "insee_name", "note"), _REVIEWED),
    "occupations": (("deck_label", "codes_fap2009", "match", "note"), _REVIEWED),
    "actor_types": (("type", "label_fr", "label_en", "kind"), _REVIEWED),
    "actors": (("actor", "name", "type", "aliases", "note"), _REVIEWED),
    "actor_mentions": (("item", "actor"), _REVIEWED),
    "sectors": (("sector", "label_fr", "label_en"), _REVIEWED),
    "item_sectors": (("item", "sector"), _REVIEWED),
}

BASIN_KEY = "bassin-minier"
BASIN_LABEL_FR = "Bassin minier du Nord–Pas-de-Calais"
BASIN_LABEL_EN = "Nord–Pas-de-Calais mining basin"
#: the only zoning the deck uses (its four zones are ZE2010 zones)
ZONE_SCHEME = "ze2010"
CATEGORIES = {
    "force": BM.Force,
    "faiblesse": BM.Faiblesse,
    "opportunite": BM.Opportunite,
    "menace": BM.Menace,
}
METADATA_KINDS = {"title", "date", "page", "source", "scope", "chart_title"}
ACTOR_KINDS = {"organization": ORG.Organization, "place": SCHEMA.Place}
#: occupations.csv `match` -> SKOS link from the deck label to each FAP-2009 family, and how many codes
MATCHES: dict[str, tuple[URIRef, str]] = {
    "exact": (SKOS.exactMatch, "one"),
    "abbreviation": (SKOS.exactMatch, "one"),
    "variant": (SKOS.exactMatch, "one"),
    "merged": (SKOS.narrowMatch, "several"),
    "approximate": (SKOS.closeMatch, "any"),
}
# The deck's recruitment charts are the BMO 2018 survey (ontology/MODEL.md, Observations).
RECRUITMENT_YEAR = "2018"
DATASET_PROJECTS = "deck-projets-recrutement"
DATASET_DIFFICULTIES = "deck-difficultes-recrutement"
DATASET_UNEMPLOYMENT = "deck-chomage"
#: dataset name -> (title fr, title en)
DATASETS = {
    DATASET_PROJECTS: (
        "Projets de recrutement : les cinq premiers métiers de chaque zone (diaporama 2019)",
        "Recruitment projects: the top five occupations of each zone (2019 deck)",
    ),
    DATASET_DIFFICULTIES: (
        "Difficultés de recrutement : les cinq premiers métiers de chaque zone (diaporama 2019)",
        "Recruitment difficulties: the top five occupations of each zone (2019 deck)",
    ),
    DATASET_UNEMPLOYMENT: (
        "Taux de chômage des zones d'emploi du bassin minier (diaporama 2019)",
        "Unemployment rate of the mining basin's employment zones (2019 deck)",
    ),
}
SCHEMES = {
    "metiers-deck": ("Métiers nommés par le diaporama", "Occupations named by the deck"),
    "secteurs": ("Secteurs d'activité du diaporama", "Sectors of the deck"),
    "types-acteurs": ("Types d'acteurs", "Actor types"),
}
FRENCH_MONTHS = {m: i + 1 for i, m in enumerate(MONTHS)}
#: a deck occupation's link to FAP-2009 and the link stated from the FAP side
_INVERSE = {
    SKOS.exactMatch: SKOS.exactMatch,
    SKOS.narrowMatch: SKOS.broadMatch,
    SKOS.closeMatch: SKOS.closeMatch,
}

_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ZONE_CODE = re.compile(r"^[0-9]{4}$")
_FAP2009 = re.compile(r"^[A-Z][0-9][A-Z][0-9]{2}$")
_QUARTER = re.compile(r"^[0-9]{4}-Q[1-4]$")
_FRENCH_DATE = re.compile(r"^(\d{1,2}) (\w+) (\d{4})$")


def convert(ctx: ConvertContext) -> list[GraphPart]:
    """Read every curated table and return the ``deck`` named graph."""
    root = ctx.settings.root
    tables = {
        stem: read_table(root, f"{CURATED}/{stem}.csv", columns, hint=hint)
        for stem, (columns, hint) in TABLES.items()
    }
    graph = new_graph()
    _Deck(ctx.iris, graph, tables).run()
    sources = [t.file for t in tables.values()] + [DECK_FILE]
    return [GraphPart("deck", graph, sources)]


@dataclass(frozen=True)
class _Page:
    number: int
    first: int
    last: int


class _Deck:
    """Writes the deck graph; keeps the IRIs minted so far to check the references between tables."""

    def __init__(self, iris: Iris, graph: Graph, tables: dict[str, Table]) -> None:
        self.iris = iris
        self.g = graph
        self.t = tables
        self.records = SourceRecords(graph, iris)
        self.document = iris.deck()
        self.basin = iris.bassin_minier()
        self.pages: list[_Page] = []
        self.zones: dict[str, URIRef] = {}
        self.items: dict[str, URIRef] = {}
        self.actors: dict[str, URIRef] = {}
        self.actor_types: dict[str, URIRef] = {}
        #: actor type key -> the reused class of its actors (org:Organization or schema:Place)
        self.actor_kinds: dict[str, URIRef] = {}
        self.sectors: dict[str, URIRef] = {}
        #: deck label -> (concept IRI, slug, FAP-2009 concept of the observations)
        self.occupations: dict[str, tuple[URIRef, str, URIRef]] = {}

    def run(self) -> None:
        self.document_and_pages()
        self.territories()
        self.schemes()
        self.sector_concepts()
        self.actor_type_concepts()
        self.actor_resources()
        self.occupation_concepts()
        self.swot_items()
        links = self.numbered_items(
            "territory_links", "lien", BM.LienEntreTerritoires, self.iris.territory_link
        )
        self.numbered_items(
            "common_perspectives", "perspective", BM.PerspectiveCommune, self.iris.perspective
        )
        self.multipliers(links)
        self.tags("item_sectors", "sector", self.sectors, DCTERMS.subject)
        self.tags("actor_mentions", "actor", self.actors, BM.mentionne)
        self.observations()

    # --- provenance ---------------------------------------------------------------------------------
    def derived(self, subject: URIRef, stem: str, row: Row) -> None:
        """``subject`` prov:wasDerivedFrom the row's record, itself derived from its deck lines if any."""
        table = self.t[stem]
        record = self.records.row(table, row)
        self.g.add((subject, PROV.wasDerivedFrom, record))
        if "line_start" in table.columns:
            self.g.add((record, PROV.wasDerivedFrom, self.deck_record(row)))

    def deck_record(self, row: Row) -> URIRef:
        first = row.integer("line_start", minimum=1)
        last = row.integer("line_end", minimum=first)
        record = self.records.record("deck", DECK_FILE, first, line_end=last, cited_by=row)
        self.g.add((record, DCTERMS.isPartOf, self.document))
        # A `page` row of deck_metadata.csv numbers the deck lines of its range; lines outside every
        # such range are on pages that show no number.
        for page in self.pages:
            if page.first <= first and last <= page.last:
                self.g.add((record, BM.page, integer(page.number)))
        return record

    # --- the document -------------------------------------------------------------------------------
    def document_and_pages(self) -> None:
        g, doc = self.g, self.document
        seen: dict[str, Row] = {}
        for row in self.t["deck_metadata"]:
            kind = row.required("kind")
            if kind not in METADATA_KINDS:
                raise row.error(
                    "unknown kind",
                    field="kind",
                    value=kind,
                    hint=f"use one of {', '.join(sorted(METADATA_KINDS))}",
                )
            if kind == "page":
                number = row.integer("value", minimum=1)
                first = row.integer("line_start", minimum=1)
                self.pages.append(_Page(number, first, row.integer("line_end", minimum=first)))
            elif kind in {"title", "date"} and kind not in seen:
                seen[kind] = row
        for kind in ("title", "date"):
            if kind not in seen:
                raise DataError(
                    f"no {kind} row",
                    file=self.t["deck_metadata"].file,
                    field="kind",
                    hint=f"the deck's {kind} names its document resource: {_EXTRACTED}",
                )
        g.add((doc, RDF.type, FOAF.Document))
        g.add((doc, RDF.type, PROV.Entity))
        g.add((doc, DCTERMS.title, fr(seen["title"].required("value"))))
        g.add((doc, DCTERMS.issued, Literal(_parse_date(seen["date"]), datatype=XSD.date)))
        for row in seen.values():
            self.derived(doc, "deck_metadata", row)

    # --- territories --------------------------------------------------------------------------------
    def territories(self) -> None:
        g = self.g
        names: dict[str, Row] = {}
        by_code: dict[str, list[Row]] = {}
        for (label,), row in self.t["territory_names"].index("deck_label").items():
            scheme, code = row.required("scheme"), row.required("code")
            _check_zone(row, scheme, code)
            names[label] = row
            same = by_code.setdefault(code, [])
            if same and same[0].required("insee_name") != row.required("insee_name"):
                raise row.error(
                    f"zone {code} has another INSEE name on line {same[0].line}",
                    field="insee_name",
                    value=row.text("insee_name"),
                    hint="one zone has one INSEE name: make the rows agree",
                )
            same.append(row)
        self.zones = {f"{ZONE_SCHEME}-{code}": self.iris.ze2010(code) for code in by_code}
        # SKOS allows one prefLabel per language: the zone's name is the spelling of its section heading
        # in territories.csv; the other spellings of territory_names.csv are alternative labels.
        headings: dict[str, str] = {}
        for row in self.t["territories"]:
            key = row.required("key")
            if key == BASIN_KEY:
                self.derived(self.basin, "territories", row)
                continue
            scheme, code = row.required("scheme"), row.required("code")
            if key != f"{scheme}-{code}":
                raise row.error(
                    "key does not match scheme and code",
                    field="key",
                    value=key,
                    hint=f"write {scheme}-{code}",
                )
            if key not in self.zones:
                raise row.error(
                    "unknown territory",
                    field="key",
                    value=key,
                    hint="add the zone's spellings to data/curated/territory_names.csv",
                )
            label = row.required("deck_label")
            if label not in names or names[label].text("code") != code:
                raise row.error(
                    f"deck label not listed for zone {code} in data/curated/territory_names.csv",
                    field="deck_label",
                    value=label,
                    hint="add the spelling to territory_names.csv",
                )
            headings.setdefault(code, label)
            self.derived(self.zones[key], "territories", row)
        for code, rows in by_code.items():
            zone = self.iris.ze2010(code)
            name = headings.get(code, rows[0].text("deck_label"))
            # The zone's type, code and INSEE name are the insee-territoires graph's (each triple in
            # one graph); the deck graph adds what the deck says: its names.
            g.add((zone, SKOS.prefLabel, fr(name)))
            g.add((zone, RDFS.label, fr(name)))
            alternatives = {row.text("deck_label") for row in rows}
            # "Béthune - Bruay" (INSEE) is written "Béthune-Bruay" in running text: users search for it
            insee_names = {row.required("insee_name") for row in rows}
            alternatives |= {hyphenated(n) for n in insee_names} - insee_names
            for alternative in sorted(alternatives - {name}):
                g.add((zone, SKOS.altLabel, fr(alternative)))
            for row in rows:
                self.derived(zone, "territory_names", row)
            g.add((zone, DCTERMS.isPartOf, self.basin))
            g.add((self.basin, DCTERMS.hasPart, zone))
        g.add((self.basin, RDF.type, BM.BassinMinier))
        g.add((self.basin, RDFS.label, fr(BASIN_LABEL_FR)))
        g.add((self.basin, RDFS.label, en(BASIN_LABEL_EN)))
        g.add((self.basin, SKOS.prefLabel, fr(BASIN_LABEL_FR)))

    def territory(self, row: Row, field: str = "territory") -> tuple[str, URIRef]:
        key = row.required(field)
        if key == BASIN_KEY:
            return key, self.basin
        if key not in self.zones:
            known = ", ".join([*sorted(self.zones), BASIN_KEY])
            raise row.error("unknown territory", field=field, value=key, hint=f"use one of {known}")
        return key, self.zones[key]

    # --- concept schemes ----------------------------------------------------------------------------
    def schemes(self) -> None:
        for name, (label_fr, label_en) in SCHEMES.items():
            scheme = self.iris.scheme(name)
            self.g.add((scheme, RDF.type, SKOS.ConceptScheme))
            for prop in (SKOS.prefLabel, RDFS.label):
                self.g.add((scheme, prop, fr(label_fr)))
                self.g.add((scheme, prop, en(label_en)))

    def concept(self, iri: URIRef, scheme_name: str, label_fr: str, label_en: str = "") -> None:
        scheme = self.iris.scheme(scheme_name)
        self.g.add((iri, RDF.type, SKOS.Concept))
        self.g.add((iri, SKOS.inScheme, scheme))
        self.g.add((iri, SKOS.topConceptOf, scheme))
        self.g.add((scheme, SKOS.hasTopConcept, iri))
        self.g.add((iri, SKOS.prefLabel, fr(label_fr)))
        self.g.add((iri, RDFS.label, fr(label_fr)))
        if label_en:
            self.g.add((iri, SKOS.prefLabel, en(label_en)))
            self.g.add((iri, RDFS.label, en(label_en)))

    def sector_concepts(self) -> None:
        for (key,), row in self.t["sectors"].index("sector").items():
            iri = self.iris.sector(_key(row, "sector"))
            self.concept(iri, "secteurs", row.required("label_fr"), row.text("label_en"))
            self.derived(iri, "sectors", row)
            self.sectors[key] = iri

    def actor_type_concepts(self) -> None:
        for (key,), row in self.t["actor_types"].index("type").items():
            kind = row.required("kind")
            if kind not in ACTOR_KINDS:
                raise row.error("unknown kind", field="kind", value=kind, hint="use organization or place")
            iri = self.iris.actor_type(_key(row, "type"))
            self.concept(iri, "types-acteurs", row.required("label_fr"), row.text("label_en"))
            self.derived(iri, "actor_types", row)
            self.actor_types[key] = iri
            self.actor_kinds[key] = ACTOR_KINDS[kind]

    def actor_resources(self) -> None:
        g = self.g
        for (key,), row in self.t["actors"].index("actor").items():
            iri = self.iris.actor(_key(row, "actor"))
            type_key = row.required("type")
            if type_key not in self.actor_types:
                raise row.error(
                    "unknown actor type",
                    field="type",
                    value=type_key,
                    hint="use a type of data/curated/actor_types.csv or add it there",
                )
            name = row.required("name")
            g.add((iri, RDF.type, BM.Acteur))
            g.add((iri, RDF.type, self.actor_kinds[type_key]))
            g.add((iri, SKOS.prefLabel, fr(name)))
            g.add((iri, RDFS.label, fr(name)))
            for alias in _split(row, "aliases", "|"):
                if alias != name:
                    g.add((iri, SKOS.altLabel, fr(alias)))
            g.add((iri, DCTERMS.type, self.actor_types[type_key]))
            if row.text("note"):
                # the curated notes are written in English (data/curated/README.md)
                g.add((iri, SKOS.note, en(row.text("note"))))
            self.derived(iri, "actors", row)
            self.actors[key] = iri

    def occupation_concepts(self) -> None:
        """One concept per deck occupation: the rows with the same FAP-2009 codes are its spellings.

        The spelling matched exactly (else the first) names the concept and is its prefLabel; the others
        are altLabels. The FAP-2009 family (or, for a label merging several families, their common
        FAP-87 parent) is the observations' occupation dimension (MODEL.md, Observations).
        """
        g = self.g
        groups: dict[tuple[URIRef, tuple[str, ...]], list[Row]] = {}
        for row in self.t["occupations"].index("deck_label").values():
            link, listed = _occupation_links(row)
            groups.setdefault((link, tuple(listed)), []).append(row)
        slugs: dict[str, Row] = {}
        for (relation, codes), rows in groups.items():
            preferred = next((r for r in rows if r.text("match") == "exact"), rows[0])
            slug = _slug(preferred, "deck_label")
            if slug in slugs:
                raise preferred.error(
                    f"same occupation IRI ({slug}) as line {slugs[slug].line} but other codes or match",
                    field="codes_fap2009",
                    value=preferred.text("codes_fap2009"),
                    hint="spellings of one occupation need the same codes and the same kind of match",
                )
            slugs[slug] = preferred
            iri = self.iris.deck_occupation(slug)
            label = preferred.text("deck_label")
            self.concept(iri, "metiers-deck", label)
            for code in codes:
                fap = self.iris.fap2009(code)
                g.add((iri, relation, fap))
                g.add((fap, _INVERSE[relation], iri))
            for alternative in sorted({r.text("deck_label") for r in rows} - {label}):
                g.add((iri, SKOS.altLabel, fr(alternative)))
            dimension = self.iris.fap2009(codes[0] if len(codes) == 1 else _common_parent(preferred, codes))
            for row in rows:
                if row.text("note"):
                    # the curated notes are written in English (data/curated/README.md)
                    g.add((iri, SKOS.editorialNote, en(row.text("note"))))
                self.derived(iri, "occupations", row)
                self.occupations[row.text("deck_label")] = (iri, slug, dimension)

    # --- deck items ---------------------------------------------------------------------------------
    def swot_items(self) -> None:
        g = self.g
        self.t["swot_items"].index("item")
        for row in self.t["swot_items"]:
            territory_key, territory = self.territory(row)
            category = row.required("category")
            if category not in CATEGORIES:
                raise row.error(
                    "unknown category",
                    field="category",
                    value=category,
                    hint=f"use one of {', '.join(CATEGORIES)}",
                )
            rank = row.integer("rank", minimum=1)
            expected = f"swot/{territory_key}/{category}-{rank}"
            item = row.required("item")
            if item != expected:
                raise row.error(
                    "item key does not match territory, category and rank",
                    field="item",
                    value=item,
                    hint=f"write {expected}",
                )
            iri = self.iris.swot(territory_key, category, rank)
            g.add((iri, RDF.type, CATEGORIES[category]))
            g.add((iri, BM.territoire, territory))
            g.add((iri, BM.rang, integer(rank)))
            g.add((iri, RDFS.label, fr(row.required("text"))))
            self.derived(iri, "swot_items", row)
            self.items[item] = iri

    def numbered_items(
        self, stem: str, prefix: str, cls: URIRef, mint: Callable[[int], URIRef]
    ) -> list[tuple[Row, URIRef]]:
        """Links between territories and common perspectives: basin-wide items keyed ``<prefix>/<rank>``."""
        g = self.g
        self.t[stem].index("item")
        made: list[tuple[Row, URIRef]] = []
        for row in self.t[stem]:
            rank = row.integer("rank", minimum=1)
            item = row.required("item")
            if item != f"{prefix}/{rank}":
                raise row.error(
                    "item key does not match rank", field="item", value=item, hint=f"write {prefix}/{rank}"
                )
            iri = mint(rank)
            g.add((iri, RDF.type, cls))
            g.add((iri, BM.territoire, self.basin))
            g.add((iri, BM.rang, integer(rank)))
            g.add((iri, RDFS.label, fr(row.required("text"))))
            self.derived(iri, stem, row)
            self.items[item] = iri
            made.append((row, iri))
        return made

    def multipliers(self, links: list[tuple[Row, URIRef]]) -> None:
        g = self.g
        for row in self.t["multipliers"].index("key").values():
            iri = self.iris.multiplier(_key(row, "key"))
            first = row.integer("line_start", minimum=1)
            last = row.integer("line_end", minimum=first)
            # The multiplier is a note inside one link's text: the link whose lines contain it cites it.
            owners = [
                link
                for link_row, link in links
                if link_row.integer("line_start") <= first and last <= link_row.integer("line_end")
            ]
            if not owners:
                raise row.error(
                    f"lines {first}-{last} are inside no link of data/curated/territory_links.csv",
                    field="line_start",
                    value=first,
                    hint="the multiplier must lie within the lines of the link that cites it",
                )
            source = row.required("source")
            g.add((iri, RDF.type, BM.MultiplicateurEmploi))
            g.add((iri, RDFS.label, fr(f"Multiplicateur d'emploi ({source})")))
            g.add((iri, BM.emploisDirects, decimal(row.decimal("direct_jobs"))))
            g.add((iri, BM.emploisIndirects, decimal(row.decimal("indirect_jobs"))))
            g.add((iri, BM.emploisInduits, decimal(row.decimal("induced_jobs"))))
            g.add((iri, DCTERMS.source, fr(source)))
            self.derived(iri, "multipliers", row)
            for link in owners:
                g.add((link, BM.multiplicateur, iri))

    def tags(self, stem: str, field: str, targets: dict[str, URIRef], prop: URIRef) -> None:
        """item_sectors / actor_mentions: a link from an item to a sector or an actor."""
        table = self.t[stem]
        table.index("item", field)
        for row in table:
            item = row.required("item")
            if item not in self.items:
                raise row.error(
                    "unknown item",
                    field="item",
                    value=item,
                    hint="use an item key of swot_items.csv, territory_links.csv or common_perspectives.csv",
                )
            target = row.required(field)
            if target not in targets:
                owner = {"sector": "sectors.csv", "actor": "actors.csv"}[field]
                raise row.error(
                    f"unknown {field}", field=field, value=target, hint=f"add it to data/curated/{owner}"
                )
            self.g.add((self.items[item], prop, targets[target]))

    # --- observations -------------------------------------------------------------------------------
    def observations(self) -> None:
        for name, (title_fr, title_en) in DATASETS.items():
            self.dataset(name, title_fr, title_en)
        year = INTERVAL_YEAR[RECRUITMENT_YEAR]
        self.occupation_observations("recruitment_projects", DATASET_PROJECTS, year, self.projects_measure)
        self.occupation_observations(
            "recruitment_difficulties", DATASET_DIFFICULTIES, year, self.difficulty_measure
        )
        self.unemployment()

    def dataset(self, name: str, title_fr: str, title_en: str) -> None:
        iri = self.iris.dataset(name)
        g = self.g
        g.add((iri, RDF.type, QB.DataSet))
        g.add((iri, RDF.type, DCAT.Dataset))
        g.add((iri, QB.structure, BM[f"dsd-{name}"]))
        g.add((iri, DCTERMS.title, fr(title_fr)))
        g.add((iri, DCTERMS.title, en(title_en)))
        g.add((iri, RDFS.label, fr(title_fr)))
        g.add((iri, RDFS.label, en(title_en)))
        g.add((iri, DCTERMS.source, self.document))
        g.add((iri, DCTERMS.license, LICENCE))

    def projects_measure(self, row: Row) -> Iterable[tuple[URIRef, Literal]]:
        return [(BM.projetsRecrutement, integer(row.integer("projects", minimum=0)))]

    def difficulty_measure(self, row: Row) -> Iterable[tuple[URIRef, Literal]]:
        share = row.decimal("difficult_share_percent")
        if not 0 <= share <= 100:
            raise row.error(
                "share out of 0-100",
                field="difficult_share_percent",
                value=row.text("difficult_share_percent"),
            )
        return [(BM.partProjetsDifficiles, decimal(share))]

    def occupation_observations(
        self,
        stem: str,
        dataset: str,
        period: URIRef,
        measures: Callable[[Row], Iterable[tuple[URIRef, Literal]]],
    ) -> None:
        seen: dict[URIRef, Row] = {}
        for row in self.t[stem]:
            territory_key, territory = self.territory(row)
            label = row.required("deck_label")
            if label not in self.occupations:
                raise row.error(
                    "unknown occupation label",
                    field="deck_label",
                    value=label,
                    hint="add a row for this exact label to data/curated/occupations.csv",
                )
            occupation, slug, fap = self.occupations[label]
            iri = self.iris.observation(dataset, territory_key, slug)
            self.check_new(seen, iri, row, "territory,deck_label")
            self.observation(iri, dataset, territory, period, stem, row)
            # the dimension is the FAP of the vintage, as on every BMO observation; the deck's own
            # occupation stays as an attribute
            self.g.add((iri, SDMX_DIM.occupation, fap))
            self.g.add((iri, BM.metierDiaporama, occupation))
            self.g.add((iri, BM.rang, integer(row.integer("rank", minimum=1))))
            for prop, value in measures(row):
                self.g.add((iri, prop, value))

    def unemployment(self) -> None:
        seen: dict[URIRef, Row] = {}
        for row in self.t["unemployment"]:
            territory_key, territory = self.territory(row)
            period = row.required("period")
            if not _QUARTER.match(period):
                raise row.error("not a quarter", field="period", value=period, hint="write it as 2018-Q2")
            iri = self.iris.observation(DATASET_UNEMPLOYMENT, territory_key, period)
            self.check_new(seen, iri, row, "territory,period")
            self.observation(
                iri, DATASET_UNEMPLOYMENT, territory, INTERVAL_QUARTER[period], "unemployment", row
            )
            self.g.add((iri, BM.tauxChomage, decimal(row.decimal("rate_percent"))))
            self.g.add((iri, BM.evolutionTauxChomage1An, decimal(row.decimal("change_1y_points"))))

    def observation(
        self, iri: URIRef, dataset: str, territory: URIRef, period: URIRef, stem: str, row: Row
    ) -> None:
        g = self.g
        g.add((iri, RDF.type, QB.Observation))
        g.add((iri, QB.dataSet, self.iris.dataset(dataset)))
        g.add((iri, SDMX_DIM.refArea, territory))
        g.add((iri, SDMX_DIM.refPeriod, period))
        self.derived(iri, stem, row)

    @staticmethod
    def check_new(seen: dict[URIRef, Row], iri: URIRef, row: Row, fields: str) -> None:
        if iri in seen:
            raise row.error(
                f"duplicate identifier (same observation as line {seen[iri].line})",
                field=fields,
                value=str(iri),
                hint="a territory has one value per occupation (or period): remove one of the rows",
            )
        seen[iri] = row


# --- small helpers --------------------------------------------------------------------------------------
def _key(row: Row, field: str) -> str:
    key = row.required(field)
    if not _KEY.match(key):
        raise row.error(
            "not a valid key",
            field=field,
            value=key,
            hint=f"use lower-case letters, digits and hyphens: {_slugify(key)}",
        )
    return key


def _slug(row: Row, field: str) -> str:
    slug = _slugify(row.required(field))
    if not slug:
        raise row.error("no letter or digit to build an identifier from", field=field, value=row.text(field))
    return slug


def _split(row: Row, field: str, separator: str | None) -> list[str]:
    parts = [p.strip() for p in row.text(field).split(separator)]
    if separator is not None and any(not p for p in parts) and row.text(field):
        raise row.error(
            "empty entry in list",
            field=field,
            value=row.text(field),
            hint=f"separate entries by {separator!r}",
        )
    return [p for p in parts if p]


def _occupation_links(row: Row) -> tuple[URIRef, list[str]]:
    """The SKOS link and the FAP-2009 codes of an occupations.csv row, checked against its match."""
    match = row.required("match")
    if match not in MATCHES:
        raise row.error("unknown match", field="match", value=match, hint=f"use one of {', '.join(MATCHES)}")
    relation, count = MATCHES[match]
    codes = _split(row, "codes_fap2009", None)
    for code in codes:
        if not _FAP2009.match(code):
            raise row.error(
                "not a FAP-2009 family code",
                field="codes_fap2009",
                value=code,
                hint="write detailed family codes such as T2A60, separated by spaces",
            )
    wanted = {"one": "exactly one code", "several": "two codes or more", "any": "at least one code"}[count]
    if not codes or (count == "one" and len(codes) != 1) or (count == "several" and len(codes) < 2):
        raise row.error(
            f"match {match!r} needs {wanted}",
            field="codes_fap2009",
            value=row.text("codes_fap2009"),
            hint="fix the codes or the match (merged = one deck label for several FAP families)",
        )
    return relation, codes


def hyphenated(name: str) -> str:
    """INSEE's "Béthune - Bruay" as running text writes it: "Béthune-Bruay"."""
    return re.sub(r"\s+-\s+", "-", name)


def _common_parent(row: Row, codes: Iterable[str]) -> str:
    """The FAP-87 family of detailed FAP-2009 codes (their first three characters), which must agree."""
    parents = {code[:3] for code in codes}
    if len(parents) != 1:
        raise row.error(
            "a merged occupation must lie in one FAP-87 family",
            field="codes_fap2009",
            value=row.text("codes_fap2009"),
            hint="split the row, or map the label to codes of one family (same first three characters)",
        )
    return parents.pop()


def _check_zone(row: Row, scheme: str, code: str) -> None:
    if scheme != ZONE_SCHEME:
        raise row.error(
            "unknown scheme", field="scheme", value=scheme, hint=f"the deck's zones are {ZONE_SCHEME} zones"
        )
    if not _ZONE_CODE.match(code):
        raise row.error(
            "not a zone code", field="code", value=code, hint="write the four-digit INSEE code, e.g. 3123"
        )


def _parse_date(row: Row) -> date:
    """The deck's date, written ISO (2019-04-08) or as in the deck (8 avril 2019)."""
    raw = row.required("value")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        pass
    found = _FRENCH_DATE.match(raw)
    if found and found.group(2).lower() in FRENCH_MONTHS:
        try:
            return date(int(found.group(3)), FRENCH_MONTHS[found.group(2).lower()], int(found.group(1)))
        except ValueError:
            pass
    raise row.error("not a date", field="value", value=raw, hint="write 2019-04-08 or 8 avril 2019")


SOURCE = Source(
    "deck",
    graphs=("deck",),
    catalogue=fixed_entry(
        CatalogueEntry(
            "plaquette",
            ("deck",),
            title=(
                "Trajectoire économique des territoires du bassin minier (diaporama du 8 avril 2019)",
                "Economic trajectory of the mining basin's territories (slide deck of 8 April 2019)",
            ),
            description=(
                "Forces, faiblesses, opportunités et menaces des quatre zones d'emploi du bassin minier "
                "(Béthune-Bruay, Lens-Hénin, Douaisis, Valenciennois), acteurs, secteurs, principaux projets "
                "de recrutement et métiers difficiles à recruter en 2018, taux de chômage au 2e trimestre "
                "2018 ; chaque élément renvoie à la ligne du diaporama dont il provient.",
                "Strengths, weaknesses, opportunities and threats of the four employment zones of the mining "
                "basin, actors, sectors, main recruitment projects and hard-to-fill occupations in 2018, "
                "unemployment rates in 2018 Q2; each item points to the line of the deck it comes from.",
            ),
            keywords=(
                "bassin minier",
                "zones d'emploi",
                "emploi",
                "recrutement",
                "chômage",
                "AFOM",
                "Hauts-de-France",
            ),
            themes=("ECON", "REGI"),
        )
    ),
    convert=convert,
)
