"""report.html: self-contained (no network at view time), with the charts and tables a trader
reads, and rendered by headless Chromium into a screenshot that is not blank."""

from __future__ import annotations

import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.db.engine import get_engine
from pipeline.db.migrate import upgrade
from pipeline.reports.html import report_html
from pipeline.statuses import RunStatus
from tests.reports.fabricate import fill_outputs, insert_run
from tests.reports.pngpixels import colour_share, distinct_colours, read_png

CHROMIUM = "/usr/bin/chromium"
CHARTS = {"Trade fill against the min/max window", "Value by instrument and coupon", "Kickouts by reason",
          "Synthetic trade recommendations (what to sell next)"}


class Collector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Collector:
    c = Collector()
    c.feed(page)
    c.close()
    return c


@pytest.fixture
def complete_run(db, tenant_id):
    rid = insert_run(db, tenant_id)
    fill_outputs(db, tenant_id, rid)
    return rid


def chart_titles(page: str) -> set[str]:
    # plotly's JSON escapes '/' as \u002f
    return {json.loads(f'"{t}"') for t in re.findall(r'"title":\{"text":"([^"]+)"', page)}


def test_report_html_is_self_contained_with_charts_and_tables(db, tenant_id, complete_run):
    page = report_html(db, tenant_id, complete_run)
    doc = parse(page)
    scripts = [a for t, a in doc.tags if t == "script"]
    assert scripts and not any("src" in a for a in scripts), "every script is inline"
    assert not any(t == "link" for t, _ in doc.tags)
    assert page.count("Plotly.newPlot") == 4 and page.count("plotly.js v") == 1  # the library inlined once
    assert chart_titles(page) >= CHARTS
    text = " ".join(doc.text)
    for heading in ("Summary", "Trade recap", "Kickouts by reason", "Synthetic trade recommendations", "Run log"):
        assert heading in text
    assert "=HYPERLINK" not in page or "&quot;" in page  # text is escaped


def test_failed_run_page_shows_the_note(db, tenant_id):
    rid = insert_run(db, tenant_id, status=RunStatus.CANCELLED, failure_step="allocation", failure_message="<cancelled>")
    fill_outputs(db, tenant_id, rid, user_facing=False)
    page = report_html(db, tenant_id, rid)
    assert "failure step: allocation" in page and "&lt;cancelled&gt;" in page
    assert chart_titles(page) & CHARTS == {"Synthetic trade recommendations (what to sell next)"}


def chromium_or_skip() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.environ.get("POWERFILL_REQUIRE_SERVICES") == "1" or os.environ.get("CI"):
        pytest.fail("Debian chromium is required (make test installs it)")
    pytest.skip("no /usr/bin/chromium")


def screenshot(html_file: Path, out: Path, profile: Path) -> bytes:
    subprocess.run(
        [chromium_or_skip(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", f"--screenshot={out}", "--window-size=1280,2000",
         "--virtual-time-budget=5000", html_file.as_uri()],
        check=True, capture_output=True, timeout=120,
    )
    return out.read_bytes()


def test_report_renders_in_headless_chromium(sqlite_url, tenant_id, tmp_path):
    chromium_or_skip()
    upgrade(sqlite_url)  # one dialect is enough here: the page, not the database, is under test
    db = get_engine(sqlite_url)
    rid = insert_run(db, tenant_id)
    fill_outputs(db, tenant_id, rid)
    html_file = tmp_path / "report.html"
    html_file.write_text(report_html(db, tenant_id, rid), encoding="utf-8")
    image = read_png(screenshot(html_file, tmp_path / "shot.png", tmp_path / "profile"))
    # Not blank, and the charts were drawn (plotly.js ran): each chart's bar colour covers a
    # visible share of the page. A page of text alone has plenty of antialiased greys but none
    # of these colours.
    assert distinct_colours(image) > 100
    for name, rgb in (("fill bars", (0x1F, 0x77, 0xB4)), ("kickout bars", (0x94, 0x67, 0xBD)),
                      ("synthetic bars", (0x17, 0xBE, 0xCF))):
        assert colour_share(image, rgb) > 0.005, f"no {name} in the screenshot"
