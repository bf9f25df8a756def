"""Charts: Vega-Lite specifications rendered to SVG on the server by vl-convert (no network, no JS).

Each chart carries its text alternatives: the SVG gets ``role="img"`` with a ``<title>`` and a
``<desc>`` it is labelled by, and the page shows the same numbers as a table (with their sources)
beside it, for screen readers, text browsers and copy-paste.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import vl_convert
from markupsafe import Markup, escape

from bassin_kg.web.describe import Figure

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: one colour per kind of figure, readable on white (WCAG AA for large marks)
COLOURS = {"projects": "#1f5f8b", "difficulties": "#b5541c"}
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
#: Vega resolves a relative link against its loader's base URL; links are written against this
#: placeholder origin instead and turned back into site paths after rendering
_LINK_ORIGIN = "https://links.bassin-kg.invalid"
_FORBIDDEN = re.compile(r"<script|<foreignobject", re.IGNORECASE)


class ChartError(ValueError):
    """vl-convert produced something that is not a plain SVG chart."""


@dataclass(frozen=True)
class Chart:
    """An SVG chart and the data it shows, for the page's table fallback."""

    id: str
    title: str
    description: str
    svg: Markup
    value_title: str
    figures: tuple[Figure, ...]


def bar_spec(description: str, figures: Sequence[Figure], value_title: str, colour: str) -> dict[str, object]:
    """A horizontal bar chart in the order of ``figures`` (the deck's ranking); each bar links to its page."""
    values = [
        {"libelle": f.label.text, "valeur": f.value, "lien": _absolute(f.label.href), "ordre": i}
        for i, f in enumerate(figures)
    ]
    return {
        "$schema": SCHEMA,
        "description": description,
        "width": 300,
        "height": {"step": 26},
        "data": {"values": values},
        "mark": {"type": "bar", "color": colour, "cornerRadiusEnd": 2},
        "encoding": {
            "y": {
                "field": "libelle",
                "type": "nominal",
                "sort": {"field": "ordre", "order": "ascending"},
                "title": None,
                "axis": {"labelLimit": 230, "labelFontSize": 12},
            },
            "x": {
                "field": "valeur",
                "type": "quantitative",
                "title": value_title,
                "axis": {"labelFontSize": 11, "titleFontSize": 12},
            },
            "href": {"field": "lien"},
        },
        "config": {"view": {"stroke": None}, "font": "sans-serif"},
    }


def _absolute(href: str | None) -> str:
    if not href:
        return ""
    return _LINK_ORIGIN + href if href.startswith("/") else href


@functools.lru_cache(maxsize=256)
def _render(spec_json: str) -> str:
    # the same spec always gives the same SVG: pages for unchanged data reuse it (~50 ms per render)
    svg = str(vl_convert.vegalite_to_svg(json.loads(spec_json), format_locale="fr-FR"))
    if _FORBIDDEN.search(svg):
        raise ChartError("the rendered chart contains a script or foreign object; refusing to inline it")
    return svg


def render_svg(spec: dict[str, object], chart_id: str, title: str, description: str) -> Markup:
    """``spec`` as inline SVG labelled by a ``<title>`` and ``<desc>`` (ids prefixed by ``chart_id``)."""
    svg = _render(json.dumps(spec, sort_keys=True, ensure_ascii=False))
    # two charts on a page must not share the ids Vega gives its clip paths (clip1, …)
    svg = _ID.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', svg)
    svg = _URL_REF.sub(lambda m: f"url(#{chart_id}-{m.group(1)})", svg)
    svg = svg.replace(f'href="{_LINK_ORIGIN}/', 'href="/')
    match = _SVG_OPEN.search(svg)
    if match is None:
        raise ChartError("vl-convert returned no <svg> element")
    opening = match.group(0)[:-1].rstrip("/")
    label_ids = f"{chart_id}-title {chart_id}-desc"
    accessible = (
        f'{opening} role="img" aria-labelledby="{escape(label_ids)}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
    )
    return Markup(svg[: match.start()] + accessible + svg[match.end() :])


def describe_figures(figures: Sequence[Figure]) -> str:
    """A sentence listing the bars, used as the chart's text alternative."""
    return "; ".join(f"{f.label.text} : {f.shown}" for f in figures)


def bar_chart(
    chart_id: str, title: str, figures: Sequence[Figure], value_title: str, *, kind: str
) -> Chart | None:
    """The chart of ``figures``, or None when there is nothing to draw."""
    if not figures:
        return None
    description = f"{title}. " + describe_figures(figures) + "."
    spec = bar_spec(description, figures, value_title, COLOURS.get(kind, "#1f5f8b"))
    svg = render_svg(spec, chart_id, title, description)
    return Chart(chart_id, title, description, svg, value_title, tuple(figures))
