"""Charts (web/charts.py): Vega-Lite rendered to SVG by vl-convert, with text alternatives.

The figures below are SYNTHETIC (made-up labels and values).
"""

from __future__ import annotations

import re

from bassin_kg.web.charts import bar_chart, bar_spec
from bassin_kg.web.describe import Figure, Shown

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
