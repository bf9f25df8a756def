"""Tests of bassin_kg.extract.reviewed: the reviewed tables agree with the deck and the references."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bassin_kg.errors import DataError
from bassin_kg.extract import extract_deck
from bassin_kg.extract.csvio import read_rows
from bassin_kg.extract.reviewed import COLUMNS, FAP_CODES_FILE, check_reviewed
from bassin_kg.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CURATED = ROOT / "data/curated"


def _rows(name: str) -> list[dict[str, str]]:
    return [r.values for r in read_rows(CURATED / f"{name}.csv", COLUMNS[name])]


def _replace(settings: Settings, name: str, old: str, new: str) -> None:
    path = settings.data_dir / "curated" / f"{name}.csv"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_committed_reviewed_tables_pass(reference_dir: Path) -> None:
    check_reviewed(Settings(root=ROOT), reference_dir=reference_dir)


def test_every_deck_label_has_an_occupation_row() -> None:
    labels = set(extract_deck(Settings(root=ROOT)).occupation_labels())
    rows = _rows("occupations")
    assert {r["deck_label"] for r in rows} == labels
    assert len(rows) == 33


def test_every_code_is_a_bmo_code(reference_dir: Path) -> None:
    with (reference_dir / FAP_CODES_FILE).open(encoding="utf-8", newline="") as handle:
        known = {row["code_metier_bmo"] for row in csv.DictReader(handle)}
    codes = {code for r in _rows("occupations") for code in r["codes_fap2009"].split()}
    assert codes <= known
    assert len(codes) == 30  # 29 occupations; the merged label adds S0Z40 and S0Z42 (S0Z41 is its own row)


def test_reviewed_decisions_of_the_brief() -> None:
    rows = {r["deck_label"]: r for r in _rows("occupations")}
    merged = rows["Bouchers, boulangers pâtissiers, charcutiers, Traiteurs"]
    assert (merged["codes_fap2009"], merged["match"]) == ("S0Z40 S0Z41 S0Z42", "merged")
    cooks = rows["Cuisiniers, hôtellerie"]
    assert (cooks["codes_fap2009"], cooks["match"]) == ("S1Z40", "approximate")
    assert "S2Z60" in cooks["note"]
    assert rows["Conducteurs d’engins du BTP"]["match"] == "abbreviation"
    for label in (
        "Aides soignants",
        "Professionnels de l’animation socio culturelle",
        "Aides à domicile-aides ménagères",
    ):
        assert rows[label]["match"] == "variant"


def test_every_mention_shows_an_alias_in_its_item() -> None:
    texts = extract_deck(Settings(root=ROOT)).item_texts()
    aliases = {r["actor"]: r["aliases"].split("|") for r in _rows("actors")}
    mentions = _rows("actor_mentions")
    for mention in mentions:
        assert any(alias in texts[mention["item"]] for alias in aliases[mention["actor"]]), mention
    assert {m["actor"] for m in mentions} == set(aliases)


def test_actors_named_in_the_brief_are_listed() -> None:
    actors = {r["actor"]: r for r in _rows("actors")}
    named = (
        "critt-m2a crepim plastium inotep campus-des-metiers-des-travaux-publics universite-d-artois "
        "ecole-des-mines delta3 euralogistic cd2e team2 rubika transalley i-trans railenium renault-douai "
        "pole-image louvre-lens gare-de-triage-de-somain port-a-containers-du-valenciennois "
        "communaute-french-tech"
    )
    for slug in named.split():
        assert slug in actors
    assert actors["i-trans"]["type"] == "pole-de-competitivite"
    assert actors["railenium"]["type"] == "institut-de-recherche"
    assert actors["transalley"]["type"] == "parc-scientifique"
    assert actors["team2"]["aliases"] == "Team2|TEAM2"


def test_mention_without_alias_in_the_text(project: Settings, reference_dir: Path) -> None:
    _replace(
        project,
        "actor_mentions",
        "perspective/6,communaute-french-tech",
        "perspective/5,communaute-french-tech",
    )
    with pytest.raises(DataError, match=r"actor_mentions\.csv:\d+: none of the actor's aliases"):
        check_reviewed(project, reference_dir=reference_dir)


def test_actor_never_mentioned(project: Settings, reference_dir: Path) -> None:
    _replace(project, "actor_mentions", "lien/1,insee\n", "")
    with pytest.raises(
        DataError, match=r"actors\.csv:\d+: actor mentioned by no item; field 'actor'; value 'insee'"
    ):
        check_reviewed(project, reference_dir=reference_dir)


def test_unknown_code(project: Settings, reference_dir: Path) -> None:
    _replace(project, "occupations", "Télévendeurs,R1Z67", "Télévendeurs,R1Z99")
    with pytest.raises(DataError, match=r"occupations\.csv:\d+: code is not a BMO 2014–2018 occupation code"):
        check_reviewed(project, reference_dir=reference_dir)


def test_exact_match_must_be_the_fap_label(project: Settings, reference_dir: Path) -> None:
    _replace(project, "occupations", "Aides soignants,V0Z60,variant", "Aides soignants,V0Z60,exact")
    with pytest.raises(DataError, match=r"match 'exact' but the FAP-2009 label is 'Aides-soignants'"):
        check_reviewed(project, reference_dir=reference_dir)


def test_deck_label_missing(project: Settings, reference_dir: Path) -> None:
    _replace(project, "occupations", "Vétérinaires,V2Z92,exact,\n", "")
    with pytest.raises(
        DataError, match=r"deck occupation label has no row; field 'deck_label'; value 'Vétérinaires'"
    ):
        check_reviewed(project, reference_dir=reference_dir)


def test_deck_label_with_the_other_apostrophe(project: Settings, reference_dir: Path) -> None:
    _replace(project, "occupations", "Conducteurs d’engins du BTP", "Conducteurs d'engins du BTP")
    with pytest.raises(DataError, match=r"label does not occur in the recruitment tables"):
        check_reviewed(project, reference_dir=reference_dir)


def test_unknown_sector_and_item(project: Settings, reference_dir: Path) -> None:
    _replace(project, "item_sectors", "perspective/4,tourisme", "perspective/4,peche")
    with pytest.raises(DataError, match=r"item_sectors\.csv:\d+: unknown sector"):
        check_reviewed(project, reference_dir=reference_dir)


def test_unknown_item(project: Settings, reference_dir: Path) -> None:
    _replace(project, "item_sectors", "perspective/4,tourisme", "perspective/7,tourisme")
    with pytest.raises(DataError, match=r"item_sectors\.csv:\d+: unknown item"):
        check_reviewed(project, reference_dir=reference_dir)


def test_insee_name_must_match(project: Settings, reference_dir: Path) -> None:
    _replace(project, "territory_names", "Douaisis,ze2010,3114,Douai", "Douaisis,ze2010,3114,Douaisis")
    with pytest.raises(DataError, match=r"territory_names\.csv:4: INSEE names zone 3114 'Douai'"):
        check_reviewed(project, reference_dir=reference_dir)


def test_bad_slug(project: Settings, reference_dir: Path) -> None:
    _replace(project, "actors", "i-trans,i-Trans", "i_Trans,i-Trans")
    with pytest.raises(DataError, match=r"not a slug; field 'actor'; value 'i_Trans'. use 'i-trans'"):
        check_reviewed(project, reference_dir=reference_dir)
