"""Tests of bassin_kg.extract.text: whitespace, wrapped lines, French numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bassin_kg.extract.text import (
    Segment,
    collapse,
    header_key,
    join_lines,
    parse_decimal,
    parse_integer,
    same_words,
)


def test_collapse_strips_and_joins_runs_of_spaces() -> None:
    assert collapse("  avec  axes de\ttransports  ") == "avec axes de transports"


def test_join_keeps_a_hyphen_at_line_end_without_adding_a_space() -> None:
    joined = join_lines([Segment(51, "de sous- "), Segment(53, "traitance de type")])
    assert joined.text == "de sous-traitance de type"


def test_join_puts_one_space_between_lines_and_skips_blank_ones() -> None:
    joined = join_lines([Segment(4, "Densité des acteurs "), Segment(5, "   "), Segment(6, " et plasturgie")])
    assert joined.text == "Densité des acteurs et plasturgie"
    assert joined.starts == ((0, 4), (20, 6))


def test_a_lone_dash_is_not_a_hyphenated_word() -> None:
    # "x -" ends with a dash that follows a space: not a split word, so a space is kept
    assert join_lines([Segment(1, "x -"), Segment(2, "y")]).text == "x - y"


def test_line_at_maps_offsets_back_to_lines() -> None:
    joined = join_lines([Segment(10, "abc"), Segment(12, "def")])
    assert joined.line_at(0) == 10
    assert joined.line_at(3) == 10  # the joining space belongs to the first line
    assert joined.line_at(4) == 12


@pytest.mark.parametrize(
    ("text", "value"), [("1 152", 1152), ("1576", 1576), ("1\u00a0152", 1152), ("12 345 678", 12345678)]
)
def test_parse_integer_reads_grouped_thousands(text: str, value: int) -> None:
    assert parse_integer(text) == value


@pytest.mark.parametrize("text", ["1 15", "1,5", "", "12a"])
def test_parse_integer_refuses_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="not an integer"):
        parse_integer(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10,7", Decimal("10.7")),
        ("-0,4", Decimal("-0.4")),
        ("\u22120,5", Decimal("-0.5")),
        ("100", Decimal(100)),
    ],
)
def test_parse_decimal_reads_french_decimals(text: str, value: Decimal) -> None:
    assert parse_decimal(text) == value


def test_parse_decimal_refuses_a_point() -> None:
    with pytest.raises(ValueError, match="not a French decimal"):
        parse_decimal("10.7")


def test_same_words_ignores_apostrophe_style_and_spacing() -> None:
    assert same_words("Agents d’entretien  de locaux", "Agents d'entretien de locaux")
    assert not same_words("Aides soignants", "Aides-soignants")


def test_header_key_spots_near_misses() -> None:
    assert header_key("Menace") == header_key("Menaces") == header_key("MENACES :")
    assert header_key("Opportunites") == header_key("Opportunités")
    assert header_key("forte") != header_key("Forces")
