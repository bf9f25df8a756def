"""Consistency checks of the reviewed tables (written by people) against the deck and the references.

``check_consistency`` needs only data/curated/ and the parsed deck, so ``extract`` runs it;
``check_reviewed`` adds the checks against the reference files (FAP-2009 codes used by the BMO survey,
INSEE zone names), for ``build`` and the tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from bassin_kg.errors import DataError
from bassin_kg.extract.csvio import Row, read_rows
from bassin_kg.extract.deck import Deck, load_territory_names
from bassin_kg.extract.tables import columns_of
from bassin_kg.extract.text import same_words
from bassin_kg.namespaces import slugify
from bassin_kg.settings import Settings

OCCUPATION_MATCHES = ("exact", "abbreviation", "variant", "merged", "approximate")
ACTOR_KINDS = ("organization", "place")
#: reference files the checks read, as named in data/reference/
FAP_CODES_FILE = "bmo_2014_2018_metiers_fap2009.csv"
ZE2010_FILE = "insee_ze2010_list_2018.csv"

COLUMNS: dict[str, tuple[str, ...]] = {
    "territory_names": ("deck_label", "scheme", "code", "insee_name", "note"),
    "occupations": ("deck_label", "codes_fap2009", "match", "note"),
    "actor_types": ("type", "label_fr", "label_en", "kind"),
    "actors": ("actor", "name", "type", "aliases", "note"),
    "actor_mentions": ("item", "actor"),
    "sectors": ("sector", "label_fr", "label_en"),
    "item_sectors": ("item", "sector"),
}


@dataclass(frozen=True)
class Extracted:
    """What the reviewed tables are checked against: item texts and the deck's occupation labels."""

    item_texts: Mapping[str, str]
    occupation_labels: Collection[str]

    @classmethod
    def from_deck(cls, deck: Deck) -> Extracted:
        return cls(deck.item_texts(), set(deck.occupation_labels()))

    @classmethod
    def from_curated(cls, curated: Path) -> Extracted:
        """Read the committed extracted tables (what ``build`` converts)."""
        texts: dict[str, str] = {}
        for name in ("swot_items", "territory_links", "common_perspectives"):
            rows = read_rows(curated / f"{name}.csv", columns_of(name))
            texts.update({r.values["item"]: r.values["text"] for r in rows})
        labels: set[str] = set()
        for name in ("recruitment_projects", "recruitment_difficulties"):
            rows = read_rows(curated / f"{name}.csv", columns_of(name))
            labels.update(r.values["deck_label"] for r in rows)
        return cls(texts, labels)


def _table(curated: Path, name: str) -> tuple[Path, list[Row]]:
    path = curated / f"{name}.csv"
    return path, read_rows(path, COLUMNS[name])


def _unique_slugs(path: Path, rows: list[Row], column: str) -> dict[str, Row]:
    """Rows by their slug column; each slug well formed ('critt-m2a') and used once."""
    found: dict[str, Row] = {}
    for row in rows:
        value = row.values[column]
        if not value or value != slugify(value):
            raise DataError(
                "not a slug",
                file=path,
                line=row.line,
                field=column,
                value=value,
                hint=f"use {slugify(value)!r}",
            )
        if value in found:
            raise DataError("listed twice", file=path, line=row.line, field=column, value=value)
        found[value] = row
    return found


def _require(path: Path, row: Row, *columns: str) -> None:
    for column in columns:
        if not row.values[column].strip():
            raise DataError("value required", file=path, line=row.line, field=column)


def check_occupations(curated: Path, labels: Collection[str]) -> dict[str, tuple[str, ...]]:
    """occupations.csv covers exactly the deck's labels, with well-formed codes and match kinds."""
    path, rows = _table(curated, "occupations")
    codes_by_label: dict[str, tuple[str, ...]] = {}
    codes_by_slug: dict[str, tuple[str, ...]] = {}
    for row in rows:
        label, match = row.values["deck_label"], row.values["match"]
        codes = tuple(row.values["codes_fap2009"].split())
        if label in codes_by_label:
            raise DataError(
                "deck label listed twice", file=path, line=row.line, field="deck_label", value=label
            )
        if label not in labels:
            raise DataError(
                "label does not occur in the recruitment tables",
                file=path,
                line=row.line,
                field="deck_label",
                value=label,
                hint="deck_label must be written exactly as in recruitment_*.csv (’ and ' differ)",
            )
        if match not in OCCUPATION_MATCHES:
            raise DataError(
                "unknown match",
                file=path,
                line=row.line,
                field="match",
                value=match,
                hint="use one of " + ", ".join(OCCUPATION_MATCHES),
            )
        if (match == "merged") != (len(codes) > 1) or not codes:
            raise DataError(
                "a merged label has several codes, any other exactly one",
                file=path,
                line=row.line,
                field="codes_fap2009",
                value=row.values["codes_fap2009"],
            )
        if match != "exact":
            _require(path, row, "note")
        # labels that differ only by apostrophe or hyphen share an IRI: they must share their codes
        slug = slugify(label)
        if codes_by_slug.setdefault(slug, codes) != codes:
            raise DataError(
                f"same occupation IRI slug {slug!r} as another row but other codes",
                file=path,
                line=row.line,
                field="codes_fap2009",
                value=" ".join(codes),
            )
        codes_by_label[label] = codes
    missing = sorted(set(labels) - set(codes_by_label))
    if missing:
        raise DataError(
            "deck occupation label has no row",
            file=path,
            field="deck_label",
            value=missing[0],
            hint="add it with its FAP-2009 code(s)",
        )
    return codes_by_label


def check_actors(curated: Path, item_texts: Mapping[str, str]) -> None:
    """Types, actors and mentions agree, and every mention is visible in its item's text."""
    types_path, type_rows = _table(curated, "actor_types")
    types = _unique_slugs(types_path, type_rows, "type")
    for row in type_rows:
        _require(types_path, row, "label_fr", "label_en")
        if row.values["kind"] not in ACTOR_KINDS:
            raise DataError(
                "unknown kind",
                file=types_path,
                line=row.line,
                field="kind",
                value=row.values["kind"],
                hint="use organization or place",
            )
    actors_path, actor_rows = _table(curated, "actors")
    actors = _unique_slugs(actors_path, actor_rows, "actor")
    aliases: dict[str, list[str]] = {}
    for row in actor_rows:
        _require(actors_path, row, "name", "aliases")
        if row.values["type"] not in types:
            raise DataError(
                "unknown actor type",
                file=actors_path,
                line=row.line,
                field="type",
                value=row.values["type"],
                hint="add it to actor_types.csv",
            )
        aliases[row.values["actor"]] = [a for a in row.values["aliases"].split("|") if a]
    used = {t.values["type"] for t in actor_rows}
    for name in types:
        if name not in used:
            raise DataError("actor type used by no actor", file=types_path, line=types[name].line, value=name)
    mentions_path, mention_rows = _table(curated, "actor_mentions")
    mentioned: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for row in mention_rows:
        item, actor = row.values["item"], row.values["actor"]
        text = _item_text(mentions_path, row, item_texts)
        if actor not in actors:
            raise DataError("unknown actor", file=mentions_path, line=row.line, field="actor", value=actor)
        if not any(alias in text for alias in aliases[actor]):
            raise DataError(
                f"none of the actor's aliases {aliases[actor]!r} occurs in the item's text",
                file=mentions_path,
                line=row.line,
                field="actor",
                value=actor,
                hint="add the spelling the item uses to the actor's aliases in actors.csv",
            )
        if (item, actor) in pairs:
            raise DataError(
                "mention listed twice", file=mentions_path, line=row.line, value=f"{item},{actor}"
            )
        pairs.add((item, actor))
        mentioned.add(actor)
    for actor, row in actors.items():
        if actor not in mentioned:
            raise DataError(
                "actor mentioned by no item",
                file=actors_path,
                line=row.line,
                field="actor",
                value=actor,
                hint="add its mention to actor_mentions.csv or remove it",
            )


def check_sectors(curated: Path, item_texts: Mapping[str, str]) -> None:
    """Sectors are well formed and used; every tag names a known item and sector, once."""
    sectors_path, sector_rows = _table(curated, "sectors")
    sectors = _unique_slugs(sectors_path, sector_rows, "sector")
    for row in sector_rows:
        _require(sectors_path, row, "label_fr", "label_en")
    tags_path, tag_rows = _table(curated, "item_sectors")
    pairs: set[tuple[str, str]] = set()
    for row in tag_rows:
        item, sector = row.values["item"], row.values["sector"]
        _item_text(tags_path, row, item_texts)
        if sector not in sectors:
            raise DataError("unknown sector", file=tags_path, line=row.line, field="sector", value=sector)
        if (item, sector) in pairs:
            raise DataError("tag listed twice", file=tags_path, line=row.line, value=f"{item},{sector}")
        pairs.add((item, sector))
    used = Counter(sector for _, sector in pairs)
    for sector, row in sectors.items():
        if not used[sector]:
            raise DataError("sector tags no item", file=sectors_path, line=row.line, value=sector)


def _item_text(path: Path, row: Row, item_texts: Mapping[str, str]) -> str:
    item = row.values["item"]
    if item not in item_texts:
        raise DataError(
            "unknown item",
            file=path,
            line=row.line,
            field="item",
            value=item,
            hint="items are keys of swot_items.csv, territory_links.csv or common_perspectives.csv",
        )
    return item_texts[item]


def check_consistency(curated: Path, extracted: Extracted) -> None:
    """Every check that needs only data/curated/ and the extracted content."""
    load_territory_names(curated / "territory_names.csv")
    check_occupations(curated, extracted.occupation_labels)
    check_actors(curated, extracted.item_texts)
    check_sectors(curated, extracted.item_texts)


def check_references(curated: Path, reference_dir: Path) -> None:
    """FAP-2009 codes exist in the BMO 2014–2018 list; zone codes and INSEE names match INSEE's list."""
    fap_path = reference_dir / FAP_CODES_FILE
    fap = {
        r.values["code_metier_bmo"]: r.values["libelle_fap2009_dares"]
        for r in read_rows(
            fap_path, ("code_metier_bmo", "libelle_fap2009_dares", "in_bmo_2014", "in_bmo_2018")
        )
    }
    path, rows = _table(curated, "occupations")
    for row in rows:
        codes = row.values["codes_fap2009"].split()
        for code in codes:
            if code not in fap:
                raise DataError(
                    f"code is not a BMO 2014–2018 occupation code of {fap_path.name}",
                    file=path,
                    line=row.line,
                    field="codes_fap2009",
                    value=code,
                )
        if row.values["match"] == "exact" and not same_words(row.values["deck_label"], fap[codes[0]]):
            raise DataError(
                f"match 'exact' but the FAP-2009 label is {fap[codes[0]]!r}",
                file=path,
                line=row.line,
                field="match",
                value=row.values["deck_label"],
                hint="use variant, abbreviation or approximate, with a note",
            )
    ze_path = reference_dir / ZE2010_FILE
    zones = {r.values["ZE2010"]: r.values["LIBZE2010"] for r in read_rows(ze_path, ("ZE2010", "LIBZE2010"))}
    path, rows = _table(curated, "territory_names")
    for row in rows:
        code, name = row.values["code"], row.values["insee_name"]
        if row.values["scheme"] != "ze2010":
            raise DataError(
                "unknown scheme", file=path, line=row.line, field="scheme", value=row.values["scheme"]
            )
        if zones.get(code) != name:
            raise DataError(
                f"INSEE names zone {code} {zones.get(code)!r} in {ze_path.name}",
                file=path,
                line=row.line,
                field="insee_name",
                value=name,
            )


def check_reviewed(settings: Settings, *, reference_dir: Path | None = None) -> None:
    """All checks of the reviewed tables, against the committed extracted tables and the references.

    ``reference_dir`` defaults to data/reference/ of the project.
    """
    curated = settings.data_dir / "curated"
    check_consistency(curated, Extracted.from_curated(curated))
    check_references(curated, reference_dir if reference_dir is not None else settings.data_dir / "reference")
