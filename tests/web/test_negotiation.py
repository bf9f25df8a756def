"""Accept parsing, q-values, wildcards and format= (pure functions, no server)."""

from __future__ import annotations

import pytest

from bassin_kg.web.negotiation import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    NegotiationError,
    by_format_param,
    check_format_param,
    choose,
    negotiate,
    parse_accept,
    quality,
)


def name(accept: str | None, offers: tuple[object, ...] = SOLUTION_FORMATS) -> str | None:
    found = negotiate(accept, offers)  # type: ignore[arg-type]
    return found.name if found else None


def test_missing_or_empty_accept_means_anything() -> None:
    assert name(None) == "json"
    assert name("") == "json"
    assert name(None, GRAPH_FORMATS) == "ttl"


def test_q_values_order_choices() -> None:
    assert name("text/csv;q=0.4, text/tab-separated-values;q=0.6") == "tsv"


def test_most_specific_range_wins() -> None:
    ranges = parse_accept("text/*;q=0.3, text/csv;q=0.9, */*;q=0.1")
    assert quality(ranges, "text/csv") == 0.9
    assert quality(ranges, "text/tab-separated-values") == 0.3
    assert quality(ranges, "application/sparql-results+json") == 0.1


def test_q_zero_excludes() -> None:
    assert name("*/*, application/sparql-results+json;q=0") == "xml"
    assert name("application/sparql-results+json;q=0") is None


def test_ties_follow_server_preference() -> None:
    assert name("text/tab-separated-values, text/csv") == "csv"


def test_aliases_count_only_when_named() -> None:
    assert name("application/json") == "json"
    assert name("application/json", GRAPH_FORMATS) == "jsonld"
    assert name("application/*", GRAPH_FORMATS) == "nt"


def test_params_and_case_are_tolerated() -> None:
    assert name("Text/CSV; charset=utf-8; q=0.8") == "csv"


def test_malformed_q_is_an_error() -> None:
    with pytest.raises(NegotiationError, match="q-value"):
        parse_accept("text/csv;q=high")


def test_malformed_range_is_an_error() -> None:
    with pytest.raises(NegotiationError, match="media range"):
        parse_accept("csv")


def test_format_param_names_and_media_types() -> None:
    assert by_format_param("json", SOLUTION_FORMATS).name == "json"  # type: ignore[union-attr]
    assert by_format_param("json", GRAPH_FORMATS).name == "jsonld"  # type: ignore[union-attr]
    assert by_format_param("turtle", GRAPH_FORMATS).name == "ttl"  # type: ignore[union-attr]
    assert by_format_param("application/n-triples", GRAPH_FORMATS).name == "nt"  # type: ignore[union-attr]
    assert by_format_param("csv", GRAPH_FORMATS) is None


def test_format_param_wins_over_accept() -> None:
    assert choose("text/csv", "tsv", SOLUTION_FORMATS).name == "tsv"  # type: ignore[union-attr]


def test_unknown_format_param() -> None:
    with pytest.raises(NegotiationError, match="docx"):
        check_format_param("docx", (SOLUTION_FORMATS, GRAPH_FORMATS))
