"""Tests of bassin_kg.extract.lines: one line at a time, what kind of line it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from bassin_kg.extract.lines import Classifier, Kind

CLASSIFIER = Classifier(Path("deck.txt"), ["Béthune Bruay", "Le Valenciennois", "Valenciennois"])


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        ("", Kind.BLANK, ""),
        ("       ", Kind.BLANK, ""),
        ("\uf071 Densité des acteurs ", Kind.BULLET, "Densité des acteurs"),
        ("• Territoires de l’industrie", Kind.BULLET, "Territoires de l’industrie"),
        ("Trajectoire économique des territoires du bassin minier ", Kind.TITLE, ""),
        ("8 avril 2019 ", Kind.DATE, "2019-04-08"),
        ("16 ", Kind.PAGE, "16"),
        (" Source : Acoss. ", Kind.SOURCE, "Acoss."),
        ("Champ : salariés du secteur privé hors ", Kind.SCOPE, "salariés du secteur privé hors"),
        (" La crise et son impact sur l’emploi ", Kind.CHART_TITLE, ""),
        ("        La crise et son impact sur l'emploi", Kind.CHART_TITLE, ""),
        ("        Béthune Bruay ", Kind.TERRITORY, "Béthune Bruay"),
        ("        Le Valenciennois ", Kind.TERRITORY, "Le Valenciennois"),
        ("Opportunités ", Kind.SWOT_SECTION, "opportunite"),
        ("Menaces ", Kind.SWOT_SECTION, "menace"),
        ("Difficultés de recrutement ", Kind.TABLE_SECTION, "difficulties"),
        ("        Liens entre les territoires ", Kind.BASIN_SECTION, "links"),
        (" Taux de chômage  T2 2018  10,7%      -0,4% sur 1 an ", Kind.UNEMPLOYMENT, ""),
        ("Lille ", Kind.TEXT, "Lille"),
        ("Télévendeurs        621 ", Kind.TEXT, "Télévendeurs 621"),
    ],
)
def test_classify(raw: str, kind: Kind, value: str) -> None:
    line = CLASSIFIER.classify(7, raw)
    assert line.kind is kind
    assert line.number == 7
    if value:
        assert line.value == value


def test_an_unknown_zone_name_is_plain_text() -> None:
    assert CLASSIFIER.classify(1, "        Lens Hénin ").kind is Kind.TEXT


@pytest.mark.parametrize("text", ["Menace", "OPPORTUNITES :", "Projet de recrutement", "Valenciennois:"])
def test_near_header_names_the_header_meant(text: str) -> None:
    assert CLASSIFIER.near_header(text) is not None


@pytest.mark.parametrize("text", ["Lille", "forte", "Rubika", "Renault Douai"])
def test_ordinary_continuations_are_not_near_headers(text: str) -> None:
    assert CLASSIFIER.near_header(text) is None
