"""Small readers of the pages' HTML for the tests (standard library parser, no browser needed)."""

from __future__ import annotations

from html.parser import HTMLParser


class SwotReader(HTMLParser):
    """Counts the items (``li`` directly in the box's list) of each SWOT box of a territory page."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}
        self._box: str | None = None
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "section" and "swot-box" in classes:
            self._box = next(c.removeprefix("swot-") for c in classes if c != "swot-box")
            self.counts[self._box] = 0
            self._depth = 0
        elif self._box is not None:
            if tag == "section":
                self._depth += 1
            if tag == "li":
                self.counts[self._box] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self._box is not None:
            if self._depth == 0:
                self._box = None
            else:
                self._depth -= 1


def swot_counts(html: str) -> dict[str, int]:
    reader = SwotReader()
    reader.feed(html)
    return reader.counts


class SvgReader(HTMLParser):
    """The accessible SVG charts of a page: their ``aria-labelledby`` targets' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict[str, str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "svg":
            self.charts.append(
                {"role": values.get("role") or "", "labelledby": values.get("aria-labelledby") or ""}
            )
        elif tag in ("title", "desc") and self.charts:
            self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in is not None and self.charts:
            self.charts[-1][self._in] = self.charts[-1].get(self._in, "") + data

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None


def svg_charts(html: str) -> list[dict[str, str]]:
    reader = SvgReader()
    reader.feed(html)
    return reader.charts
