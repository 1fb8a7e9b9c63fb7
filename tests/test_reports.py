"""`collab report`: one collaboration's report and the portfolio, as HTML, JSON and CSV (real CLI, real databases)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from builders import DC, DORSET, MARKUP_TITLE, in_delivery, measured, open_as, people
from conftest import COLLAB, collab
from tampering import tamper
from workflow import verification, views

BUILT = "2020-01-06T09:00"  # the builders' clock: in_delivery enters delivery on 2020-01-06
NOW = {"COLLAB_NOW": "2021-07-01T12:00"}  # when the reports are made


@pytest.fixture(autouse=True)
def built_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLAB_NOW", BUILT)


class Page(HTMLParser):
    """The text of an HTML page, the text of each element with an id, and every tag used."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.by_id: dict[str, list[str]] = {}
        self.open_ids: list[tuple[str, str]] = []
        self.tags: list[str] = []
        self.feed(html)
        self.text = " ".join(" ".join(self.parts).split())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        ident = dict(attrs).get("id")
        if ident:
            self.open_ids.append((tag, ident))
            self.by_id[ident] = []

    def handle_endtag(self, tag: str) -> None:
        if self.open_ids and self.open_ids[-1][0] == tag:
            self.open_ids.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        for _, ident in self.open_ids:
            self.by_id[ident].append(data)

    def section(self, ident: str) -> str:
        return " ".join(" ".join(self.by_id[ident]).split())


def report(db: str, *args: str, actor: str = "audit", check: int = 0) -> str:
    return collab(db, "report", *args, actor=actor, env=NOW, check=check).out


def test_the_html_report_holds_the_collaborations_facts(db: str, tmp_path: Path) -> None:
    people(db)
    measured(db)
    out = tmp_path / "sa.html"
    assert report(db, "SA", "--out", str(out)).strip() == f"wrote {out}"
    html = out.read_text(encoding="utf-8")
    page = Page(html)

    purpose = page.section("purpose")
    assert "Share services" in purpose and "Protect the front line" in purpose and "s.22A agreements considered" in purpose
    partners = page.section("partners")
    assert f"{DC} police cautious 70%" in partners and f"{DORSET} police open 30%" in partners

    timeline = page.section("timeline")
    for stage, entered, left, days in (("scoping", "2 Jan 2019", "3 Jun 2019", 152), ("pid", "3 Jun 2019", "6 Jan 2020", 217),
                                       ("delivery", "6 Jan 2020", "current", 542)):
        assert f"{stage} {entered} {left} {days} pm" in timeline
    for approver, force, role in (("cc.dc", DC, "chief-officer"), ("pcc.dc", DC, "pcc"), ("cc.do", DORSET, "chief-officer"),
                                  ("pcc.do", DORSET, "pcc")):
        assert f"delivery {force} {role} {approver} 2 Dec 2019" in timeline

    benefits = page.section("benefits")
    assert "B1 · Savings behind" in benefits and "6.1 on 30 Jun 2021 (51% of the way)" in benefits
    assert "30 Jun 2020 1.5" in benefits and "Plan: 5 by 31 Mar 2021; 12 by 31 Mar 2022." in benefits
    assert "B2 · Public confidence on track" in benefits
    assert "Officer travel" not in benefits and "D1 · Officer travel between sites" in page.section("dis-benefits")
    assert f"B1 · Savings 6.1 4.27 1.83" in page.section("savings").replace(f"{DC} (70%) {DORSET} (30%) ", "")
    # RCB meets on the first Tuesday: 4 May, 1 Jun and 6 Jul 2021. As of 1 Jul 2021, B2's last figure (31 Mar)
    # predates 4 May, so its 1 Jun review was missed (overdue) and its 6 Jul one is due (agenda out on 29 Jun).
    # B1, B3 and D1 were measured on 30 Jun, after the 1 Jun meeting: nothing owed.
    assert page.section("reviews") == ("Open reviews and escalations Benefit Board Due on Status "
                                       "B2 RCB 1 Jun 2021 overdue B2 RCB 6 Jul 2021 due")

    events = open_as(db, "audit").history("SA")
    history = page.section("history")
    assert all(f"{e['effective_on']} {e['actor']} {e['action']}" in history for e in events)
    assert "scoping complete" not in history and "pid → delivery" in history

    # the benefit title is text everywhere (heading, chart title), never markup; no script at all
    assert MARKUP_TITLE in page.text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script" not in html.lower() and "script" not in page.tags and "b" not in page.tags
    assert "Q4 <i>return</i>" in page.text and "i" not in page.tags

    head = collab(db, "audit", "verify", "--json", actor="audit", check=0).json()["head"]
    assert page.section("head-hash") == head
    assert "The history verifies: every one of its" in page.section("verification")


def test_json_and_csv_carry_the_same_facts(db: str) -> None:
    people(db)
    measured(db)
    facts = collab(db, "report", "SA", "--format", "json", actor="audit", env=NOW, check=0).json()
    assert facts["report"] | {"generated_at": None} == {"kind": "collaboration", "generated_at": None, "as_of": "2021-07-01",
                                                          "generated_by": "audit", "collab_version": facts["report"]["collab_version"]}
    assert facts["collaboration"]["stage"] == "delivery" and facts["collaboration"]["days_in_stage"] == 542
    assert [(s["stage"], s["on"], s["until"]) for s in facts["stages"]] == [
        ("scoping", "2019-01-02", "2019-06-03"), ("pid", "2019-06-03", "2020-01-06"), ("delivery", "2020-01-06", None)]
    assert {a["by"] for a in facts["approvals"] if a["gate"] == "delivery"} == {"cc.dc", "pcc.dc", "cc.do", "pcc.do"}
    listed = collab(db, "benefit", "list", "SA", "--json", actor="audit", env=NOW, check=0).json()
    assert [{k: b[k] for k in listed[0]} for b in facts["benefits"]] == listed
    b1 = next(b for b in facts["benefits"] if b["id"] == "B1")
    assert b1["plan"] == [{"on": "2021-03-31", "value": 5.0}, {"on": "2022-03-31", "value": 12.0}]
    # planned on 2020-12-31: the plan runs 0 -> 5 from 2019-01-02 (B1 identified) to 2021-03-31 (819 days);
    # 729 days in: 5 * 729 / 819 = 4.450549
    assert b1["measured"][1] == {"on": "2020-12-31", "value": 3.2, "note": None, "planned": 4.450549}
    assert facts["history"] == collab(db, "history", "SA", "--json", actor="audit", check=0).json()
    assert facts["verification"] == collab(db, "audit", "verify", "--json", actor="audit", check=0).json()

    rows = list(csv.DictReader(io.StringIO(report(db, "SA", "--format", "csv"))))
    by_section: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_section.setdefault(row["section"], []).append(row)
    assert {row["collaboration"] for row in rows if row["section"] != "verification"} == {"SA"}
    assert [r["id"] for r in by_section["benefit"]] == [b["id"] for b in facts["benefits"]]
    assert [(r["benefit"], r["on"], r["value"], r["planned"]) for r in by_section["measurement"]][1] == ("B1", "2020-12-31", "3.2", "4.450549")
    assert {(r["partner"], r["value"]) for r in by_section["saving"]} == {(DC, "4.27"), (DORSET, "1.83")}
    assert [int(r["seq"]) for r in by_section["event"]] == [e["seq"] for e in facts["history"]]
    assert [r["stage"] for r in by_section["stage"]] == ["scoping", "pid", "delivery"]
    assert by_section["verification"][0]["head"] == facts["verification"]["head"]
    assert next(r for r in by_section["benefit"] if r["id"] == "B3")["title"] == MARKUP_TITLE


def test_the_portfolio_sights_operational_collaborations(db: str, tmp_path: Path) -> None:
    people(db)
    measured(db)
    pm = open_as(db, "pm")
    pm.new("CYBER", "Regional cyber unit", objective="Shared cyber investigators", origin="operational")
    pm.new("ESTATE", "Shared estate with fire")
    pm.hold("ESTATE", reason="awaiting the fire authority")

    facts = collab(db, "report", "--all", "--format", "json", actor="audit", env=NOW, check=0).json()
    rows = {row["key"]: row for row in facts["collaborations"]}
    assert sorted(rows) == ["CYBER", "ESTATE", "SA"]
    assert (rows["SA"]["stage"], rows["SA"]["days_in_stage"], rows["SA"]["origin"]) == ("delivery", 542, "programme")
    assert rows["SA"]["benefits"] == {"on-track": 1, "behind": 2, "realised": 0, "no-data": 0, "retired": 0}
    assert rows["SA"]["gates"][0]["to"] == "closure" and not rows["SA"]["gates"][0]["ready"]
    assert rows["ESTATE"]["gates"] == [{"to": "scoping", "trigger": "resume", "ready": True, "unmet": [], "reasons": []}]
    assert rows["CYBER"]["origin"] == "operational" and not rows["CYBER"]["gates"][0]["ready"]
    assert facts["totals"]["operational"] == 1 and facts["totals"]["by_stage"] == {"delivery": 1, "scoping": 1, "on-hold": 1}
    # SA's B2 missed its 1 Jun 2021 review (see the collaboration report's test); the others have no benefits
    assert {key: row["overdue_reviews"] for key, row in rows.items()} == {"SA": 1, "CYBER": 0, "ESTATE": 0}
    text = collab(db, "report", "--all", "--format", "json", actor="audit", env=NOW, check=0).out
    listed = [line for line in text.splitlines() if line.startswith('    {"key": ')]
    assert [json.loads(line.rstrip(","))["key"] for line in listed] == ["CYBER", "ESTATE", "SA"]  # one a line

    out = tmp_path / "portfolio.html"
    report(db, "--all", "--out", str(out))
    page = Page(out.read_text(encoding="utf-8"))
    every = page.section("collaborations")
    assert all(key in every for key in rows) and "delivery 542 days, since 6 Jan 2020" in every
    operational = page.section("operational")
    assert "CYBER Regional cyber unit pm scoping" in operational and "Shared cyber investigators" in operational
    assert "SA" not in operational.split() and "ESTATE" not in operational
    assert page.section("head-hash") == facts["verification"]["head"]

    table = list(csv.DictReader(io.StringIO(report(db, "--all", "--format", "csv"))))
    assert [(r["collaboration"], r["origin"], r["behind"]) for r in table if r["section"] == "collaboration"] == [
        ("CYBER", "operational", "0"), ("ESTATE", "programme", "0"), ("SA", "programme", "2")]


def test_report_usage_default_file_and_reading_rights(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    for args in ((), ("SA", "--all")):
        assert "give a collaboration KEY or --all" in collab(db, "report", *args, actor="audit", check=2).err
    collab(db, "report", "SA", check=2)  # reads name the acting user once users exist
    assert "unknown collaboration 'NOPE'" in collab(db, "report", "NOPE", actor="audit", check=2).err
    collab(db, "report", "SA", "--format", "pdf", actor="audit", check=2)

    env = {"COLLAB_DB": db, "COLLAB_USER": "audit", "PATH": "/usr/bin:/bin"}
    for args, name in ((["SA"], "SA-report.html"), (["--all"], "portfolio-report.html")):
        done = subprocess.run([COLLAB, "report", *args], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == f"wrote {name}" and (tmp_path / name).read_text().startswith("<!DOCTYPE html>")
    assert collab(db, "report", "SA", "--out", "-", actor="audit", check=0).out.startswith("<!DOCTYPE html>")


def test_a_report_on_a_tampered_history_says_so_and_exits_3(db: str, tmp_path: Path) -> None:
    people(db)
    in_delivery(db)
    tamper(db, "UPDATE events SET reason = 'rewritten' WHERE seq = 3")
    out = tmp_path / "sa.html"
    failed = collab(db, "report", "SA", "--out", str(out), actor="audit", check=3)
    assert "history does NOT verify: event 3 does not match its hash" in failed.err
    verification = Page(out.read_text(encoding="utf-8")).section("verification")
    assert "The history does NOT verify: event 3 does not match its hash (the row was edited)" in verification
    assert "2 events before it verify" in verification


def test_a_report_reads_one_snapshot_while_others_write(db: str) -> None:
    people(db)
    in_delivery(db)
    with open_as(db, "audit").ctx.snapshot() as session:
        history, verified = views.history(session, "SA"), verification.verify(session)
        open_as(db, "pm").add_lesson("SA", "recorded while the report was being read")
        assert views.history(session, "SA") == history and verification.verify(session) == verified
    assert len(open_as(db, "audit").history("SA")) == len(history) + 1
