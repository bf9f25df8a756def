"""Tests of bassin_kg.extract.deck: the parser on the real deck text, and on broken copies of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from bassin_kg.errors import DataError
from bassin_kg.extract.deck import Deck, load_territory_names, parse_deck
from bassin_kg.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DECK = ROOT / "data/sources/deck/trajectoire-economique-bassin-minier-2019.txt"
CURATED = ROOT / "data/curated"
Edit = Callable[[int, str], None]

BETHUNE, LENS, DOUAI, VALENCIENNES = "ze2010-3123", "ze2010-3122", "ze2010-3114", "ze2010-3115"


@pytest.fixture(scope="module")
def deck() -> Deck:
    return parse_deck(DECK, load_territory_names(CURATED / "territory_names.csv"))


def _parse(settings: Settings) -> Deck:
    names = load_territory_names(settings.data_dir / "curated/territory_names.csv")
    return parse_deck(settings.data_dir / "sources/deck" / DECK.name, names)


# --- counts -------------------------------------------------------------------------------------


def test_four_zones_and_the_basin(deck: Deck) -> None:
    zones = [(t.key, t.deck_label, t.scheme, t.code) for t in deck.territories if t.scheme == "ze2010"]
    assert zones == [
        (BETHUNE, "Béthune Bruay", "ze2010", "3123"),
        (LENS, "Lens Hénin", "ze2010", "3122"),
        (DOUAI, "Douaisis", "ze2010", "3114"),
        (VALENCIENNES, "Valenciennois", "ze2010", "3115"),
    ]
    basin = deck.territories[-1]
    assert (basin.key, basin.scheme, basin.code) == ("bassin-minier", "", "")
    assert (basin.line_start, basin.line_end) == (369, 397)


def test_territory_line_ranges_cover_their_slides(deck: Deck) -> None:
    spans = {t.key: (t.line_start, t.line_end) for t in deck.territories}
    assert spans[BETHUNE] == (1, 86)
    assert spans[VALENCIENNES] == (254, 368)  # from "Le Valenciennois" to its unemployment line


def test_47_swot_items_by_zone_and_category(deck: Deck) -> None:
    counts = Counter((i.territory, i.category) for i in deck.swot_items)
    expected = {
        BETHUNE: (3, 4, 2, 2),
        LENS: (4, 2, 5, 3),
        DOUAI: (4, 1, 4, 1),
        VALENCIENNES: (4, 2, 4, 2),
    }
    for zone, numbers in expected.items():
        categories = ("force", "faiblesse", "opportunite", "menace")
        assert tuple(counts[(zone, c)] for c in categories) == numbers, zone
    assert len(deck.swot_items) == 47


def test_items_are_ranked_in_their_box(deck: Deck) -> None:
    lens_opportunities = [i for i in deck.swot_items if (i.territory, i.category) == (LENS, "opportunite")]
    assert [i.rank for i in lens_opportunities] == [1, 2, 3, 4, 5]
    assert lens_opportunities[2].item == "swot/ze2010-3122/opportunite-3"
    assert lens_opportunities[2].text.endswith("(Delta3, Euralogistic, CD2E, Team2)")


def test_top_five_recruitment_tables(deck: Deck) -> None:
    assert len(deck.recruitment_projects) == 20
    assert len(deck.recruitment_difficulties) == 20
    for rows in (deck.recruitment_projects, deck.recruitment_difficulties):
        by_zone = Counter(r.territory for r in rows)
        assert by_zone == {BETHUNE: 5, LENS: 5, DOUAI: 5, VALENCIENNES: 5}
        assert [r.rank for r in rows] == [1, 2, 3, 4, 5] * 4
    assert {r.difficult_share_percent for r in deck.recruitment_difficulties} == {Decimal(100)}


def test_valenciennes_rank_one_reads_a_grouped_number_over_two_lines(deck: Deck) -> None:
    first = deck.recruitment_projects[15]
    assert (first.territory, first.rank) == (VALENCIENNES, 1)
    assert first.deck_label == "Ouvriers non qualifiés métallerie, serrurerie, montage"
    assert first.projects == 1152
    assert (first.line_start, first.line_end) == (354, 355)


def test_lens_rank_one(deck: Deck) -> None:
    first = deck.recruitment_projects[5]
    assert (first.territory, first.rank, first.deck_label, first.projects) == (
        LENS,
        1,
        "Agents d’entretien de locaux",
        1576,
    )


def test_wrapped_labels_are_joined_with_one_space(deck: Deck) -> None:
    labels = deck.occupation_labels()
    assert "Ouvriers non qualifiés des industries chimiques et plastiques" in labels
    assert "Chaudronniers, tôliers, traceurs, serruriers, métalliers, forgerons" in labels
    assert "Bouchers, boulangers pâtissiers, charcutiers, Traiteurs" in labels
    # apostrophes as written: the deck uses both
    assert "Agents d'entretien de locaux" in labels
    assert "Agents d’entretien de locaux" in labels


def test_33_distinct_labels_as_written(deck: Deck) -> None:
    assert len(set(deck.occupation_labels())) == 33


def test_unemployment_rates_and_yearly_changes(deck: Deck) -> None:
    rows = [(u.territory, u.period, u.rate_percent, u.change_1y_points) for u in deck.unemployment]
    assert rows == [
        (BETHUNE, "2018-Q2", Decimal("10.7"), Decimal("-0.4")),
        (LENS, "2018-Q2", Decimal("13.8"), Decimal("-0.7")),
        (DOUAI, "2018-Q2", Decimal("12.7"), Decimal("-0.4")),
        (VALENCIENNES, "2018-Q2", Decimal("14.9"), Decimal("-0.5")),
    ]
    assert deck.unemployment[0].line_start == 86


def test_links_and_the_insee_multiplier(deck: Deck) -> None:
    assert [link.item for link in deck.territory_links] == ["lien/1", "lien/2"]
    assert deck.territory_links[1].text == "Complémentarité des filières industrielles"
    (multiplier,) = deck.multipliers
    assert multiplier.key == "insee-2015"
    assert (multiplier.direct_jobs, multiplier.indirect_jobs, multiplier.induced_jobs) == (
        Decimal(1),
        Decimal("1.5"),
        Decimal(3),
    )
    assert multiplier.source == "étude INSEE 2015"
    assert (multiplier.line_start, multiplier.line_end) == (376, 379)


def test_six_common_perspectives(deck: Deck) -> None:
    assert [p.item for p in deck.common_perspectives] == [f"perspective/{n}" for n in range(1, 7)]
    assert deck.common_perspectives[3].text == (
        "Tourisme (Louvre Lens, patrimoine de l’UNESCO : beffrois, terrils, …..)"
    )
    assert (deck.common_perspectives[5].line_start, deck.common_perspectives[5].line_end) == (395, 397)


# --- artefacts of the text ----------------------------------------------------------------------


def test_chart_title_is_not_a_threat(deck: Deck) -> None:
    threats = [i for i in deck.swot_items if (i.territory, i.category) == (BETHUNE, "menace")]
    assert len(threats) == 2
    assert threats[-1].text.endswith("de la production des secteurs historiques")
    assert (threats[-1].line_start, threats[-1].line_end) == (55, 61)
    assert all("La crise" not in i.text for i in deck.swot_items)
    charts = [(m.territory, m.line_start) for m in deck.metadata if m.kind == "chart_title"]
    assert charts == [(BETHUNE, 62), (DOUAI, 229), (VALENCIENNES, 337)]


def test_hyphenated_word_is_rejoined(deck: Deck) -> None:
    threat = next(i for i in deck.swot_items if i.item == "swot/ze2010-3123/menace-1")
    assert threat.text == (
        "Trop d’entreprises encore largement positionnées sur des activités de sous-traitance "
        "de type « monoclient »"
    )
    assert (threat.line_start, threat.line_end) == (49, 53)


def test_text_keeps_the_deck_typography(deck: Deck) -> None:
    texts = deck.item_texts()
    assert (
        texts["swot/ze2010-3123/opportunite-1"] == "Développement de l’université d’Artois vers la recherche"
    )
    assert texts["swot/ze2010-3123/force-1"].endswith("(CRITT M2A,CREPIM, PLASTIUM)")


def test_page_footers_and_notes_are_metadata(deck: Deck) -> None:
    found = [(m.kind, m.value, m.line_start, m.line_end) for m in deck.metadata]
    assert ("title", "Trajectoire économique des territoires du bassin minier", 329, 329) in found
    assert ("page", "16", 330, 330) in found
    assert ("page", "17", 339, 339) in found
    assert ("date", "2019-04-08", 335, 335) in found
    scope = (
        "salariés du secteur privé hors agriculture, salariés des particuliers employeurs et "
        "activités extraterritoriales."
    )
    assert [(m.line_start, m.line_end) for m in deck.metadata if m.kind == "scope"] == [
        (65, 67),
        (157, 159),
        (232, 234),
        (342, 344),
    ]
    assert {m.value for m in deck.metadata if m.kind == "scope"} == {scope}
    assert {m.value for m in deck.metadata if m.kind == "source"} == {"Acoss."}
    # the Lens-Hénin notes follow its last threat directly: they end the item
    assert deck.item_texts()["swot/ze2010-3122/menace-3"] == "Pouvoir d’investissement local faible"


# --- malformed input (synthetic edits of a copy of the deck) -------------------------------------


def test_unknown_section_header_names_file_and_line(project: Settings, edit_deck: Edit) -> None:
    edit_deck(3, "Atouts ")
    with pytest.raises(
        DataError, match=r"trajectoire-economique-bassin-minier-2019\.txt:3: unexpected text"
    ) as err:
        _parse(project)
    assert err.value.line == 3
    assert err.value.value == "Atouts"


def test_misspelt_header_inside_a_box_is_refused(project: Settings, edit_deck: Edit) -> None:
    # without the check, "Menace" would be glued to the last opportunity as a wrapped line
    edit_deck(48, "Menace ")
    with pytest.raises(DataError, match=r"\.txt:48: line looks like the header 'Menaces'"):
        _parse(project)


def test_recruitment_row_without_a_number(project: Settings, edit_deck: Edit) -> None:
    edit_deck(358, "Télévendeurs ")
    with pytest.raises(DataError, match=r"\.txt:358: recruitment row without a number") as err:
        _parse(project)
    assert err.value.value == "Télévendeurs"


def test_last_recruitment_row_without_a_number(project: Settings, edit_deck: Edit) -> None:
    edit_deck(359, "Employés de libre service ")
    with pytest.raises(DataError, match=r"\.txt:359: recruitment row without a number"):
        _parse(project)


def test_percentage_in_the_projects_table(project: Settings, edit_deck: Edit) -> None:
    edit_deck(358, "Télévendeurs   62% ")
    with pytest.raises(DataError, match=r"\.txt:358: recruitment row does not end with a number of projects"):
        _parse(project)


def test_unreadable_unemployment_line(project: Settings, edit_deck: Edit) -> None:
    edit_deck(86, " Taux de chômage  T2 2018  10.7%      -0,4% sur 1 an ")
    with pytest.raises(DataError, match=r"\.txt:86: unemployment line not understood"):
        _parse(project)


def test_section_twice_for_one_zone(project: Settings, edit_deck: Edit) -> None:
    edit_deck(22, "Forces ")
    with pytest.raises(DataError, match=r"\.txt:22: section appears twice for ze2010-3123"):
        _parse(project)


def test_bullet_in_a_recruitment_table(project: Settings, edit_deck: Edit) -> None:
    edit_deck(73, "\uf071 Employés de libre service     347 ")
    with pytest.raises(DataError, match=r"\.txt:73: bullet item outside a SWOT box"):
        _parse(project)


def test_unfinished_scope_note(project: Settings, edit_deck: Edit) -> None:
    edit_deck(67, "employeurs et activités extraterritoriales ")
    with pytest.raises(DataError, match=r"\.txt:65: scope note .* does not end with a full stop"):
        _parse(project)


def test_unknown_territory_spelling(project: Settings, edit_deck: Edit) -> None:
    edit_deck(178, "        Le Douaisis ")
    with pytest.raises(DataError, match=r"\.txt:178: unexpected text outside any item") as err:
        _parse(project)
    assert "territory_names.csv" in str(err.value)


def test_territory_names_listed_twice(tmp_path: Path) -> None:
    path = tmp_path / "territory_names.csv"
    path.write_text(
        "deck_label,scheme,code,insee_name,note\nDouaisis,ze2010,3114,Douai,\nDouaisis,ze2010,3115,x,\n",
        encoding="utf-8",
    )
    with pytest.raises(DataError, match=r"territory_names\.csv:3: deck spelling listed twice"):
        load_territory_names(path)
