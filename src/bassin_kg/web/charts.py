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

from bassin_kg.web.describe import EmploymentSeries, Figure, SeriesPoint

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
#: one colour per kind of figure, readable on white (WCAG AA for large marks)
COLOURS = {"projects": "#1f5f8b", "difficulties": "#b5541c", "employment": "#1f5f8b", "marker": "#b3261e"}
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")
_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
#: Vega resolves a relative link against its loader's base URL; links are written against this
#: placeholder origin instead and turned back into site paths after rendering
_LINK_ORIGIN = "https://links.bassin-kg.invalid"
_FORBIDDEN = re.compile(r"<script|<foreignobject", re.IGNORECASE)
#: no ARIA on the marks: the SVG is one image with its own title and description, and the labels Vega
#: would generate read out field names and the placeholder link origin below
CONFIG: dict[str, object] = {"view": {"stroke": None}, "font": "sans-serif", "aria": False}


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
    #: what each bar is, as the heading of the data table's column ("métier", "zone d'emploi")
    subject: str = "métier"


def bar_spec(description: str, figures: Sequence[Figure], value_title: str, colour: str) -> dict[str, object]:
    """A horizontal bar chart in the order of ``figures`` (the deck's ranking); each bar links to its page
    and ends with its value as the page shows it ('656', '100 %'), so no one has to read it off the axis."""
    values = [
        {
            "libelle": f.label.text,
            "valeur": f.value,
            "texte": f.shown,
            "lien": _absolute(f.label.href),
            "ordre": i,
        }
        for i, f in enumerate(figures)
    ]
    x_scale: dict[str, object] = {}
    lowest = min((f.value for f in figures), default=0.0)
    if lowest < 0:
        # room on the left of the longest negative bar for its value, clear of the names
        x_scale = {"domain": [lowest * 1.6, max(0.0, *(f.value for f in figures))], "nice": False}
    return {
        "$schema": SCHEMA,
        "description": description,
        "width": 230,
        "height": {"step": 26},
        "data": {"values": values},
        "encoding": {
            "y": {
                "field": "libelle",
                "type": "nominal",
                "sort": {"field": "ordre", "order": "ascending"},
                "title": None,
                # long occupation names are the point of the chart: room for them before truncation
                # long occupation names ("Monteurs, ajusteurs et autres ouvriers qualifiés de la
                # mécanique") must not be cut
                "axis": {"labelLimit": 420, "labelFontSize": 12},
            },
            "x": {
                "field": "valeur",
                "type": "quantitative",
                "title": value_title,
                "axis": {"labelFontSize": 11, "titleFontSize": 12, "tickCount": 5},
                **({"scale": x_scale} if x_scale else {}),
            },
        },
        "layer": [
            {
                "mark": {"type": "bar", "color": colour, "cornerRadiusEnd": 2},
                "encoding": {"href": {"field": "lien"}},
            },
            {
                "mark": {
                    "type": "text",
                    # a negative bar ends on the left: its value goes beyond that end, not over the bar
                    "align": {"expr": "datum.valeur < 0 ? 'right' : 'left'"},
                    "dx": {"expr": "datum.valeur < 0 ? -3 : 3"},
                    "fontSize": 11,
                    "color": "#1d2733",
                },
                "encoding": {"text": {"field": "texte"}},
            },
        ],
        "config": dict(CONFIG),
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
    chart_id: str,
    title: str,
    figures: Sequence[Figure],
    value_title: str,
    *,
    kind: str,
    subject: str = "métier",
) -> Chart | None:
    """The chart of ``figures``, or None when there is nothing to draw."""
    if not figures:
        return None
    description = f"{title}. " + describe_figures(figures) + "."
    spec = bar_spec(description, figures, value_title, COLOURS.get(kind, "#1f5f8b"))
    svg = render_svg(spec, chart_id, title, description)
    return Chart(chart_id, title, description, svg, value_title, tuple(figures), subject)


# --- side by side: one group of bars per subject, one bar per source (deck 2018, BMO 2024…) -----------
#: the deck's year first in a dark tone, then the BMO surveys
GROUP_COLOURS = ("#1f5f8b", "#b5541c", "#5b7f2a", "#6d4c9a", "#8a6d1f")


@dataclass(frozen=True)
class Bar:
    """One bar of a group: which source, its value (None: no figure) and the value as shown."""

    series: str
    value: float | None
    shown: str


@dataclass(frozen=True)
class Group:
    label: str
    href: str | None
    bars: tuple[Bar, ...]


@dataclass(frozen=True)
class GroupChart:
    """Grouped bars rendered to SVG, and the groups for the page's table fallback."""

    id: str
    title: str
    description: str
    svg: Markup
    value_title: str
    series: tuple[str, ...]
    groups: tuple[Group, ...]


def group_spec(
    description: str, groups: Sequence[Group], series: Sequence[str], value_title: str
) -> dict[str, object]:
    """Horizontal grouped bars: one row per group, one bar per series; a missing figure draws no bar."""
    values = [
        {
            "libelle": g.label,
            "serie": b.series,
            "valeur": b.value,
            "texte": b.shown if b.value is not None else "",
            "lien": _absolute(g.href),
            "ordre": i,
        }
        for i, g in enumerate(groups)
        for b in g.bars
    ]
    colours = list(GROUP_COLOURS[: len(series)])
    return {
        "$schema": SCHEMA,
        "description": description,
        "width": 420,
        "height": {"step": 14},
        "data": {"values": values},
        "encoding": {
            "y": {
                "field": "libelle",
                "type": "nominal",
                # the groups' own order (the deck's ranks); a field sort would be summed over the bars
                "sort": [g.label for g in groups],
                "title": None,
                "axis": {"labelLimit": 320, "labelFontSize": 12},
            },
            "yOffset": {"field": "serie", "type": "nominal", "sort": list(series)},
            "x": {
                "field": "valeur",
                "type": "quantitative",
                "title": value_title,
                "axis": {"labelFontSize": 11, "titleFontSize": 12, "tickCount": 5},
            },
            "color": {
                "field": "serie",
                "type": "nominal",
                "title": None,
                "scale": {"domain": list(series), "range": colours},
                "legend": {"orient": "top", "labelFontSize": 12},
            },
        },
        "layer": [
            {"mark": {"type": "bar", "cornerRadiusEnd": 2}, "encoding": {"href": {"field": "lien"}}},
            {
                "mark": {"type": "text", "align": "left", "dx": 3, "fontSize": 10, "color": "#1d2733"},
                "encoding": {"text": {"field": "texte"}, "color": {"value": "#1d2733"}},
            },
        ],
        "config": dict(CONFIG),
    }


def _bar_text(bar: Bar) -> str:
    return f"{bar.series} {bar.shown if bar.value is not None else 'sans chiffre'}"


def group_chart(
    chart_id: str, title: str, groups: Sequence[Group], series: Sequence[str], value_title: str
) -> GroupChart | None:
    """The grouped chart of ``groups``, or None when no bar has a value."""
    if not any(b.value is not None for g in groups for b in g.bars):
        return None
    parts = [g.label + " : " + ", ".join(_bar_text(b) for b in g.bars) for g in groups]
    description = f"{title}. " + " ; ".join(parts) + "."
    spec = group_spec(description, groups, series, value_title)
    svg = render_svg(spec, chart_id, title, description)
    return GroupChart(chart_id, title, description, svg, value_title, tuple(series), tuple(groups))


# --- time series ------------------------------------------------------------------------------------
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True)
class Marker:
    """A quarter picked out on a series chart (a dashed rule and its text), e.g. the deck's figure."""

    period: str
    text: str


@dataclass(frozen=True)
class SeriesChart:
    """An SVG line chart of a quarterly series, and its points for the page's table fallback."""

    id: str
    title: str
    description: str
    svg: Markup
    value_title: str
    series: EmploymentSeries
    marker: Marker | None


def quarter_key(period: str) -> tuple[int, int]:
    match = _QUARTER.match(period)
    if match is None:
        raise ValueError(f"not a quarter: {period!r} (expected e.g. 2018-Q2)")
    return int(match.group(1)), int(match.group(2))


def quarter_date(period: str) -> str:
    """The middle of the quarter, where its point is drawn: inside its year on a year axis."""
    year, quarter = quarter_key(period)
    return f"{year}-{3 * quarter - 1:02d}-15"


def quarters_between(first: str, last: str) -> list[str]:
    """Every quarter from ``first`` to ``last``, both included."""
    (year, quarter), end = quarter_key(first), quarter_key(last)
    result = []
    while (year, quarter) <= end:
        result.append(f"{year}-Q{quarter}")
        year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    return result


def line_values(points: Sequence[SeriesPoint]) -> list[dict[str, object]]:
    """One value per quarter from the first point to the last; a missing quarter is null, so the line
    breaks there instead of drawing a straight segment across quarters the file does not give."""
    known = {p.period: p for p in points}
    values: list[dict[str, object]] = []
    if not points:
        return values
    ordered = sorted(known, key=quarter_key)
    for period in quarters_between(ordered[0], ordered[-1]):
        point = known.get(period)
        values.append(
            {
                "trimestre": point.label if point else period,
                "date": quarter_date(period),
                "valeur": point.value if point else None,
            }
        )
    return values


def line_spec(
    description: str, points: Sequence[SeriesPoint], value_title: str, colour: str, marker: Marker | None
) -> dict[str, object]:
    """A line chart of ``points`` by quarter (years on the axis, zero not forced: a head count moves by a
    few percent), with ``marker`` as a dashed rule when its quarter lies within the series."""
    values = line_values(points)
    x_axis = {
        "field": "date",
        "type": "temporal",
        "title": None,
        "axis": {
            "format": "%Y",
            "tickCount": {"interval": "year", "step": 1},
            "grid": False,
            "labelFontSize": 11,
        },
    }
    layers: list[dict[str, object]] = [
        {
            "mark": {
                "type": "line",
                "color": colour,
                "strokeWidth": 2,
                "invalid": "break-paths-show-domains",
                "point": {"filled": True, "size": 26, "color": colour},
            },
            "encoding": {
                "x": x_axis,
                "y": {
                    "field": "valeur",
                    "type": "quantitative",
                    "title": value_title,
                    "scale": {"zero": False},
                    "axis": {"labelFontSize": 11, "titleFontSize": 12},
                },
            },
        }
    ]
    periods = [str(v["date"]) for v in values]
    if marker is not None and quarter_date(marker.period) in periods:
        # the text goes on the side of the rule with more room
        right_half = periods.index(quarter_date(marker.period)) > len(periods) / 2
        marker_colour = COLOURS["marker"]
        marker_x = {"field": "date", "type": "temporal"}
        layers.append(
            {
                "data": {"values": [{"date": quarter_date(marker.period), "texte": marker.text}]},
                "layer": [
                    {
                        "mark": {"type": "rule", "color": marker_colour, "strokeDash": [4, 3]},
                        "encoding": {"x": marker_x},
                    },
                    {
                        "mark": {
                            "type": "text",
                            "color": marker_colour,
                            "align": "right" if right_half else "left",
                            "dx": -4 if right_half else 4,
                            "y": 2,
                            "baseline": "top",
                            "fontSize": 11,
                        },
                        "encoding": {"x": marker_x, "text": {"field": "texte"}},
                    },
                ],
            }
        )
    return {
        "$schema": SCHEMA,
        "description": description,
        "width": 600,
        "height": 230,
        "data": {"values": values},
        "layer": layers,
        "config": dict(CONFIG),
    }


def describe_series(series: EmploymentSeries) -> str:
    """A sentence giving the series' first, last, lowest and highest values, for the text alternative."""
    known = [p for p in series.points if p.value is not None]
    if not known:
        return "aucune valeur publiée"
    first, last = known[0], known[-1]
    low = min(known, key=lambda p: p.value or 0.0)
    high = max(known, key=lambda p: p.value or 0.0)
    parts = [f"{first.label} : {first.shown}", f"{last.label} : {last.shown}"]
    if len(known) > 2:
        parts.append(f"minimum {low.shown} ({low.label}), maximum {high.shown} ({high.label})")
    return f"{len(known)} trimestres ; " + " ; ".join(parts)


def series_chart(
    chart_id: str, title: str, series: EmploymentSeries, value_title: str, marker: Marker | None = None
) -> SeriesChart | None:
    """The line chart of ``series``, or None when it has no value to draw."""
    if not any(p.value is not None for p in series.points):
        return None
    description = f"{title}. " + describe_series(series) + "."
    if marker is not None:
        description += f" Repère : {marker.text}."
    spec = line_spec(description, series.points, value_title, COLOURS["employment"], marker)
    svg = render_svg(spec, chart_id, title, description)
    return SeriesChart(chart_id, title, description, svg, value_title, series, marker)
