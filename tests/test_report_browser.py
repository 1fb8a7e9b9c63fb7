"""The HTML report in a real browser: Debian's headless Chromium, driven by playwright, offline.

CI installs /usr/bin/chromium (.ci/run); without it this test fails rather than skips, because the
report's promise (opens cleanly, draws its pictures, fetches nothing) is only checked here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import measured, people
from conftest import collab

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_report_renders_offline_in_chromium(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("COLLAB_NOW", "2020-01-06T09:00")
    people(db)
    measured(db)
    page_file = tmp_path / "SA-report.html"
    collab(db, "report", "SA", "--out", str(page_file), actor="audit", env={"COLLAB_NOW": "2021-07-01T12:00"}, check=0)
    url = page_file.as_uri()

    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True, args=ARGS,
            viewport={"width": 900, "height": 1200})
        try:
            page = browser.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("request", lambda request: requests.append(request.url) if request.url != url else None)
            page.goto(url, wait_until="load")

            timeline = page.locator("svg.timeline")
            box = timeline.bounding_box()
            assert box and box["width"] > 600 and box["height"] > 100
            assert timeline.locator("rect").count() == 3  # scoping, pid, delivery
            assert timeline.locator("path.approval").count() == 1  # four approvals on one day
            charts = page.locator("svg.chart")
            assert charts.count() == 4  # B1, B2, B3 and the dis-benefit D1
            chart = charts.first.bounding_box()
            assert chart and chart["width"] > 250 and chart["height"] > 150
            assert charts.first.locator("circle").count() == 3 and charts.first.locator("polyline.plan").count() == 1
            assert page.evaluate("document.documentElement.scrollHeight") > 2000
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
            page.pdf(path=str(tmp_path / "report.pdf"), format="A4", print_background=True)
        finally:
            browser.close()

    assert errors == [] and requests == []
    assert (tmp_path / "report.png").stat().st_size > 50_000
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")  # it prints
