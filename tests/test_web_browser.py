"""The web app in Debian's headless Chromium: the Strategic Alliance walked from scoping to pir by the people
who own each step, each logged in as themselves, against `collab serve` (waitress) in a subprocess.

Every page visited must load with no console error, no failed request and no serious or critical axe-core
violation; the history it leaves must be the one the same steps make through the CLI. Like the report's
browser test, it fails rather than skips without /usr/bin/chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from builders import DC, DORSET, open_as, people
from conftest import COLLAB, collab
from test_report_browser import ARGS, CHROMIUM

NOW = "2026-03-02T10:00"
PASSWORD = "a long enough password"
PASSPHRASE = "key passphrase for pcc.do"
WALKERS = ("pm", "cc.dc", "pcc.dc", "cc.do", "pcc.do", "owner", "owner2", "audit")
OBJECTIVE, PUBLIC_BENEFIT = "Share support and specialist services", "Protect frontline policing in both areas"
RATIONALE = "s.22A agreements considered; serves efficiency and effectiveness"
ARTEFACTS = ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`collab serve` on a free port, over plain http (so --insecure-cookies), as of NOW."""
    monkeypatch.setenv("COLLAB_NOW", NOW)
    people(db)
    for name in WALKERS:
        open_as(db, "root").set_password(name, PASSWORD)
    open_as(db, "pcc.do").new_key(PASSPHRASE, tmp_path / "pcc.do.key")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")} | {"COLLAB_DB": db, "COLLAB_NOW": NOW}
    process = subprocess.Popen([COLLAB, "serve", "--port", str(port), "--insecure-cookies"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, process.stdout.read() if process.stdout else ""
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


class Walk:
    """Each person in a browser context of their own; every page checked as it loads."""

    def __init__(self, browser: Any, base: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.browser, self.base, self.axe = browser, base, Axe()
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.pages: list[str] = []

    def person(self, name: str) -> Any:
        """A fresh context, logged in by keyboard alone."""
        context = self.browser.new_context(viewport={"width": 1024, "height": 1366})  # a tablet, upright
        page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"failed request {r.url}"))
        page.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.visit(page, "/login")
        for _ in range(12):
            if page.evaluate("document.activeElement && document.activeElement.id") == "name":
                break
            page.keyboard.press("Tab")
        page.keyboard.type(name)
        page.keyboard.press("Tab")
        page.keyboard.type(PASSWORD)
        self.follow(page, lambda: page.keyboard.press("Enter"))
        assert f"{name} (" in page.locator("header").inner_text()
        return page

    def visit(self, page: Any, path: str) -> None:
        page.goto(self.base + path)
        self.check(page)

    def follow(self, page: Any, act: Any) -> None:
        """Do `act` (a click, a key) and check the page it leads to."""
        with page.expect_navigation():
            act()
        self.check(page)

    def check(self, page: Any) -> None:
        self.pages.append(page.url)
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            self.violations.append(f"{page.url}: wider than a tablet's screen")
        results = self.axe.run(page)
        assert results.response["testEngine"]["name"] == "axe-core"  # it ran, and found what it lists
        self.violations += [f"{page.url}: {v['id']} ({v['impact']}): {v['help']}"
                            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]

    def submit(self, page: Any, path: str, fields: dict[str, str], files: dict[str, Path] | None = None) -> str:
        """Fill the action form at `path` and send it; the text of the page it lands on."""
        self.visit(page, path)
        form = page.locator("main form.form")
        for name, value in fields.items():
            field = form.locator(f"[name='{name}']")
            if field.evaluate("e => e.tagName") == "SELECT":
                field.select_option(value)
            elif field.get_attribute("type") == "checkbox":
                field.check()
            else:
                field.fill(value)
        for name, file in (files or {}).items():
            form.locator(f"[name='{name}']").set_input_files(str(file))
        self.follow(page, form.locator("button[type=submit]").click)
        text = page.locator("main").inner_text()
        assert "Refused" not in text, text
        return str(text)


def walk_in_browser(walk: Walk, key_file: Path) -> None:
    pm = walk.person("pm")
    walk.submit(pm, "/new", {"key": "SA", "title": "Strategic Alliance", "objective": OBJECTIVE,
                             "public_benefit": PUBLIC_BENEFIT, "origin": "programme"})
    walk.submit(pm, "/c/SA/do/update", {"rationale": RATIONALE})
    for org, appetite in ((DC, "cautious"), (DORSET, "open")):
        walk.submit(pm, "/c/SA/do/partner", {"org": org, "kind": "police", "risk_appetite": appetite})
    walk.submit(pm, "/c/SA/do/benefit-add", {"benefit": "B1", "title": "Public confidence", "category": "effectiveness"})
    assert "scoping -> pid" in walk.submit(pm, "/c/SA/do/advance", {"reason": "scoping complete"})
    assert "pid -> on-hold" in walk.submit(pm, "/c/SA/do/hold", {"reason": "budget review"})
    assert "on-hold -> pid" in walk.submit(pm, "/c/SA/do/resume", {})
    walk.submit(pm, "/c/SA/do/benefit-update", {"benefit": "B1", "measure": "survey agreement", "unit": "%",
                                                "baseline": "74", "target": "78", "by": "2030-03-31", "owner": "owner",
                                                "board": "RCB"})
    for kind in ARTEFACTS:
        walk.submit(pm, "/c/SA/do/artefact", {"kind": kind, "ref": f"ref/{kind}"})
    for org, share in ((DC, "70"), (DORSET, "30")):
        walk.submit(pm, "/c/SA/do/partner", {"org": org, "cost_share": share})
    page = pm.locator("main").inner_text()
    assert "To delivery: not ready" in page and "benefit B1 is linked to no objective" in page
    walk.submit(pm, "/c/SA/do/objective", {"objective": "O1", "title": "Public confidence in policing"})
    walk.submit(pm, "/c/SA/do/link?benefit=B1", {"kind": "objective", "to": "O1"})
    assert "one-off £1,000.00" in walk.submit(pm, "/c/SA/do/cost", {
        "partner": DC, "year": "2026-27", "category": "staff", "one_off": "1000", "recurring": "250.50"})
    page = pm.locator("main").inner_text()
    assert "linked to no objective" not in page and "has not approved the delivery gate" in page

    for approver in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
        them = walk.person(approver)
        walk.follow(them, them.get_by_role("link", name="Approve a gate: SA delivery").click)
        assert "What you approve" in them.locator("main").inner_text()
        signing = {"password": PASSWORD, "passphrase": PASSPHRASE} if approver == "pcc.do" else {}
        done = walk.submit(them, "/c/SA/do/approve?gate=delivery", signing,
                           files={"key_file": key_file} if signing else None)
        assert "approved the delivery gate" in done and (", signed" in done) == bool(signing)

    assert "pid -> delivery" in walk.submit(pm, "/c/SA/do/advance", {})
    owner = walk.person("owner")
    walk.submit(owner, "/c/SA/do/measure?benefit=B1", {"value": "75.5", "note": "first survey"})
    walk.submit(pm, "/c/SA/do/handover", {"benefit": "B1", "business_area": "Alliance Operations", "to": "owner2",
                                          "board": "RCB"})
    assert "delivery -> closure" in walk.submit(pm, "/c/SA/do/advance", {"reason": "programme closed"})
    walk.submit(pm, "/c/SA/do/artefact", {"kind": "closure-report", "ref": "ref/closure"})
    area = walk.person("owner2")
    walk.follow(area, area.get_by_role("link", name="Accept a handover: SA B1").click)
    assert "handover accepted" in walk.submit(area, "/c/SA/do/accept?benefit=B1", {})
    assert "closure -> pir" in walk.submit(pm, "/c/SA/do/advance", {})
    walk.submit(pm, "/c/SA/do/lesson", {"text": "Agree benefit owners at PID", "theme": "benefits"})

    auditor = walk.person("audit")
    for path in ("/portfolio?stage=pir", "/portfolio?force=Dorset+Police&origin=programme", "/c/SA", "/history?key=SA",
                 "/history?actor=pcc.do&action=approved", "/agenda?board=RCB", "/account"):
        walk.visit(auditor, path)
    walk.visit(auditor, "/audit")
    assert "The history verifies" in auditor.locator("main").inner_text()
    walk.visit(auditor, "/c/SA/report")
    assert "pir" in auditor.locator("body").inner_text()
    auditor.emulate_media(media="print")
    walk.visit(auditor, "/c/SA")
    assert not auditor.locator("header nav").is_visible()  # printed without the navigation


def walk_in_cli(db: str, key_file: Path) -> None:
    """The same steps through the command line."""
    env = {"COLLAB_NOW": NOW, "COLLAB_KEY_PASSPHRASE": PASSPHRASE}

    def run(actor: str, *args: str) -> None:
        collab(db, *args, actor=actor, env=env, check=0)

    run("pm", "new", "SA", "--title", "Strategic Alliance", "--objective", OBJECTIVE, "--public-benefit", PUBLIC_BENEFIT)
    run("pm", "update", "SA", "--rationale", RATIONALE)
    for org, appetite in ((DC, "cautious"), (DORSET, "open")):
        run("pm", "partner", "add", "SA", org, "--kind", "police", "--risk-appetite", appetite)
    run("pm", "benefit", "add", "SA", "B1", "--title", "Public confidence", "--category", "effectiveness")
    run("pm", "advance", "SA", "--reason", "scoping complete")
    run("pm", "hold", "SA", "--reason", "budget review")
    run("pm", "resume", "SA")
    run("pm", "benefit", "update", "SA", "B1", "--measure", "survey agreement", "--unit", "%", "--baseline", "74",
        "--target", "78", "--by", "2030-03-31", "--owner", "owner", "--board", "RCB")
    for kind in ARTEFACTS:
        run("pm", "artefact", "add", "SA", kind, "--ref", f"ref/{kind}")
    for org, share in ((DC, "70"), (DORSET, "30")):
        run("pm", "partner", "add", "SA", org, "--cost-share", share)
    run("pm", "objective", "add", "SA", "O1", "--title", "Public confidence in policing")
    run("pm", "benefit", "link", "SA", "B1", "--objective", "O1")
    run("pm", "cost", "set", "SA", "--partner", DC, "--year", "2026-27", "--category", "staff", "--one-off", "1000",
        "--recurring", "250.50")
    for approver in ("cc.dc", "pcc.dc", "cc.do"):
        run(approver, "approve", "SA", "--gate", "delivery")
    run("pcc.do", "approve", "SA", "--gate", "delivery", "--key", str(key_file))
    run("pm", "advance", "SA")
    run("owner", "benefit", "measure", "SA", "B1", "75.5", "--note", "first survey")
    run("pm", "benefit", "handover", "SA", "B1", "--business-area", "Alliance Operations", "--to", "owner2", "--board", "RCB")
    run("pm", "advance", "SA", "--reason", "programme closed")
    run("pm", "artefact", "add", "SA", "closure-report", "--ref", "ref/closure")
    run("owner2", "benefit", "accept", "SA", "B1")
    run("pm", "advance", "SA")
    run("pm", "lesson", "add", "SA", "Agree benefit owners at PID", "--theme", "benefits")


def events(db: str) -> list[tuple[Any, ...]]:
    """SA's history as the facts it records: who did what, which move, and the payload bar the signature's bytes."""
    return [(e["actor"], e["action"], e["from_stage"], e["to_stage"], e["effective_on"], e["reason"],
             {k: v for k, v in e["payload"].items() if k != "signature"}, "signature" in e["payload"])
            for e in open_as(db, "audit").history("SA")]


@pytest.mark.slow
@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_the_strategic_alliance_walks_to_pir_in_chromium(db: str, other_db: str, server: str, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            walk = Walk(browser, server)
            walk_in_browser(walk, tmp_path / "pcc.do.key")
        finally:
            browser.close()
    assert walk.errors == []
    assert walk.violations == []
    assert len(walk.pages) > 40

    people(other_db)
    open_as(other_db, "pcc.do").new_key(PASSPHRASE, tmp_path / "other.key")
    walk_in_cli(other_db, tmp_path / "other.key")
    assert events(db) == events(other_db)
    assert open_as(db, "audit").show("SA")["stage"] == "pir" and open_as(db, "audit").verify().ok
