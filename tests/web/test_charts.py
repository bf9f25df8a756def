"""Charts (web/charts.py): Vega-Lite rendered to SVG by vl-convert, with text alternatives.

The figures below are SYNTHETIC (made-up labels and values).
"""

from __future__ import annotations

import re

import pytest

from bassin_kg.web.charts import (
    Marker,
    bar_chart,
    bar_spec,
    line_spec,
    line_values,
    quarter_date,
    quarters_between,
    series_chart,
)
from bassin_kg.web.describe import EmploymentSeries, Figure, Overlap, SeriesPoint, Shown

FIGURES = [
    Figure(Shown("Soudeurs", "/id/metier/deck/soudeurs"), 420.0, "420", 1, []),
    Figure(Shown("<script>alert(1)</script> & co", "/id/metier/deck/x"), 12.5, "12,5", 2, []),
]


def test_no_figures_no_chart() -> None:
    assert bar_chart("c", "Titre", [], "projets", kind="projects") is None


def test_svg_is_labelled_by_its_title_and_description() -> None:
    chart = bar_chart("chart-x", "Projets de recrutement", FIGURES, "projets", kind="projects")
    assert chart is not None
    svg = str(chart.svg)
    assert svg.startswith("<svg ")
    assert 'role="img" aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert '<title id="chart-x-title">Projets de recrutement</title>' in svg
    assert "Soudeurs : 420" in chart.description
    assert re.search(r'<desc id="chart-x-desc">[^<]*Soudeurs : 420', svg)


def test_labels_from_data_are_escaped_in_the_svg() -> None:
    chart = bar_chart("c", "T", FIGURES, "projets", kind="projects")
    assert chart is not None
    svg = str(chart.svg)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_bars_are_in_rank_order_and_link_to_their_pages() -> None:
    spec = bar_spec("d", FIGURES, "projets", "#000000")
    data = spec["data"]
    assert isinstance(data, dict)
    assert [v["libelle"] for v in data["values"]] == ["Soudeurs", "<script>alert(1)</script> & co"]
    chart = bar_chart("c", "T", FIGURES, "projets", kind="projects")
    assert chart is not None
    assert 'href="/id/metier/deck/soudeurs"' in str(chart.svg)


def test_two_charts_on_a_page_do_not_share_ids() -> None:
    first = bar_chart("one", "T", FIGURES, "projets", kind="projects")
    second = bar_chart("two", "T", FIGURES[:1], "projets", kind="projects")
    assert first is not None
    assert second is not None
    ids_one = set(re.findall(r'\bid="([^"]+)"', str(first.svg)))
    ids_two = set(re.findall(r'\bid="([^"]+)"', str(second.svg)))
    assert ids_one
    assert not ids_one & ids_two
    for reference in re.findall(r"url\(#([^)]+)\)", str(second.svg)):
        assert reference in ids_two


def test_the_svg_needs_no_inline_style_or_script() -> None:
    # the pages' Content-Security-Policy allows neither
    chart = bar_chart("c", "T", FIGURES, "projets", kind="difficulties")
    assert chart is not None
    assert " style=" not in str(chart.svg)
    assert "<style" not in str(chart.svg)


def test_bars_end_with_their_value_as_the_page_shows_it() -> None:
    chart = bar_chart("c", "T", FIGURES, "projets", kind="projects")
    assert chart is not None
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", str(chart.svg))
    assert "420" in texts
    assert "12,5" in texts


# --- the quarterly line chart (Urssaf series); SYNTHETIC points, made-up values --------------------------
def point(period: str, value: float | None, shown: str = "") -> SeriesPoint:
    return SeriesPoint(period, f"trimestre {period}", value, shown or str(value), "", [])


def series(*points: SeriesPoint) -> EmploymentSeries:
    zone = Overlap("http://example.org/ze2020/1", Shown("Zone"), "zone d'emploi 2020", "0001", 10, 0.8, 0.7)
    return EmploymentSeries(zone, list(points), Shown("Jeu"), "Urssaf", Shown("ODbL 1.0"), [])


def test_quarters_between_crosses_years() -> None:
    assert quarters_between("2018-Q3", "2019-Q2") == ["2018-Q3", "2018-Q4", "2019-Q1", "2019-Q2"]
    assert quarter_date("2018-Q1") == "2018-02-15"  # mid-quarter: the point sits inside its year
    assert quarter_date("2018-Q4") == "2018-11-15"


def test_a_missing_quarter_is_null_so_the_line_breaks() -> None:
    values = line_values([point("2018-Q4", 10.0), point("2019-Q3", 12.0), point("2019-Q1", None)])
    assert [v["date"] for v in values] == ["2018-11-15", "2019-02-15", "2019-05-15", "2019-08-15"]
    assert [v["valeur"] for v in values] == [10.0, None, None, 12.0]
    spec = line_spec("d", [point("2018-Q4", 10.0), point("2019-Q3", 12.0)], "salariés", "#000000", None)
    layers = spec["layer"]
    assert isinstance(layers, list)
    assert layers[0]["mark"]["invalid"] == "break-paths-show-domains"
    assert len(layers) == 1  # no marker asked for


def test_the_marker_is_drawn_only_inside_the_series() -> None:
    points = [point("2018-Q1", 10.0), point("2018-Q2", 11.0), point("2018-Q3", 12.0)]
    inside = line_spec("d", points, "v", "#000000", Marker("2018-Q2", "repère"))
    outside = line_spec("d", points, "v", "#000000", Marker("2017-Q2", "repère"))
    assert isinstance(inside["layer"], list)
    assert isinstance(outside["layer"], list)
    assert len(inside["layer"]) == 2
    assert len(outside["layer"]) == 1


def test_series_chart_is_accessible_and_needs_no_style() -> None:
    chart = series_chart(
        "chart-s",
        "Effectifs",
        series(
            point("2018-Q1", 100.0, "100"), point("2018-Q2", 105.5, "105,5"), point("2018-Q3", 90.0, "90")
        ),
        "salariés",
        Marker("2018-Q2", "2e trimestre 2018 : chômage 10,7 % (diaporama)"),
    )
    assert chart is not None
    svg = str(chart.svg)
    assert 'role="img" aria-labelledby="chart-s-title chart-s-desc"' in svg
    assert "chômage 10,7 % (diaporama)" in svg  # the marker's text is drawn
    assert " style=" not in svg
    assert "<style" not in svg
    assert "<script" not in svg
    # the text alternative gives the ends and the extremes of the series, and the marker
    assert "3 trimestres" in chart.description
    assert "trimestre 2018-Q1 : 100" in chart.description
    assert "minimum 90 (trimestre 2018-Q3), maximum 105,5 (trimestre 2018-Q2)" in chart.description
    assert "Repère : 2e trimestre 2018" in chart.description


def test_no_value_no_series_chart() -> None:
    assert series_chart("c", "T", series(point("2018-Q1", None)), "v") is None
    with pytest.raises(ValueError, match="not a quarter"):
        quarter_date("2018-T1")
