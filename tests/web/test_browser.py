"""The territory page in a REAL headless Chromium, served by a REAL server process (`bassin-kg serve`).

The graph is the real one (real_graph.py). Chromium (Debian package ``chromium``) is required: without
it this test FAILS, it does not skip — ``.ci/run`` installs it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bassin_kg.settings import Settings
from serving import bassin_kg_server, cli

from .html_checks import svg_charts, swot_counts
from .real_graph import real_settings

__all__ = ["real_settings"]

PAGE = "/id/territoire/ze2010/3123"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium is not installed: install chromium (Debian: `apt-get install -y chromium`; "
            ".ci/run does it) — this browser test fails rather than skips"
        )
    return found


@pytest.fixture(scope="module")
def server(real_settings: Settings) -> Iterator[str]:
    """``bassin-kg serve`` on 127.0.0.1 and a free port, over the real build; stopped at teardown."""
    command = cli("-q", "--root", str(real_settings.root), "serve", "--store", str(real_settings.store_path))
    with bassin_kg_server(command, ready_path="/", timeout=60) as running:
        yield running.url


def run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class TestTerritoryPageInChromium:
    def test_swot_grid_and_charts_are_in_the_rendered_dom(self, server: str, tmp_path: Path) -> None:
        result = run_chromium(tmp_path, "--dump-dom", server + PAGE)
        assert result.returncode == 0, result.stderr[-2000:]
        dom = result.stdout
        assert "<h1>Béthune Bruay</h1>" in dom
        assert swot_counts(dom) == {"force": 3, "faiblesse": 4, "opportunite": 2, "menace": 2}
        charts = svg_charts(dom)
        # the projects' chart; the five occupations all at 100 % are a sentence, not five equal bars
        assert len(charts) == 1
        assert "5 métiers à 100 % de projets jugés difficiles en 2018" in dom
        assert all(chart["role"] == "img" and chart.get("title") for chart in charts)
        assert "<rect" in dom or "<path" in dom  # the bars themselves

    def test_screenshot_renders(self, server: str, tmp_path: Path) -> None:
        shot = tmp_path / "territory.png"
        result = run_chromium(tmp_path, "--window-size=1280,2000", f"--screenshot={shot}", server + PAGE)
        assert result.returncode == 0, result.stderr[-2000:]
        data = shot.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        assert len(data) > 50_000  # a page with content, not a blank or error page
