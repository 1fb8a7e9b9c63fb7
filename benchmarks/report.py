"""Benchmark: the HTML report of a collaboration with 200 history events and 20 benefits.

Builds the collaboration through the service API in a fresh SQLite file (or the database given as the
first argument, which must be empty), then times `collab report KEY` as a library call: reading the facts
in one transaction, verifying the chain, drawing the charts and rendering the page. Prints the median.

    .venv/bin/python benchmarks/report.py [DB]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

from workflow.clock import LONDON, Clock
from workflow.db import engine_for, upgrade
from workflow.report_formats import render
from workflow.reports import collaboration_report
from workflow.service import Collab

KEY, EVENTS, BENEFITS, RUNS, LIMIT_MS = "BENCH", 200, 20, 9, 1000
FORCES = ("Devon & Cornwall Police", "Dorset Police")
START = date(2020, 1, 6)


def at(db: str, actor: str | None, day: date) -> Collab:
    return Collab.open(db, actor, Clock(datetime.combine(day, datetime.min.time(), LONDON).replace(hour=10)))


def build(db: str) -> None:
    """Register, scope and deliver a collaboration with 20 benefits, then measure until it has 200 events."""
    upgrade(engine_for(db))
    at(db, None, START).add_user("root", "admin")
    admin = at(db, "root", START)
    admin.add_user("pm", "programme-manager")
    admin.add_user("owner", "benefit-owner")
    admin.add_user("sec", "board-secretary")
    for n, force in enumerate(FORCES):
        admin.add_user(f"cc{n}", "chief-officer", partner=force)
        admin.add_user(f"pcc{n}", "pcc", partner=force)
    admin.add_board("RCB", FORCES[0], "FREQ=MONTHLY;BYDAY=1TU", "sec")
    pm = at(db, "pm", START)
    pm.new(KEY, "Benchmark alliance", objective="Share services", public_benefit="Protect the front line", on=START)
    pm.update(KEY, rationale="s.22A agreements considered; serves efficiency and effectiveness")
    for force, share in zip(FORCES, ("60", "40")):
        pm.add_partner(KEY, force, risk_appetite="cautious", cost_share=share)
    for n in range(1, BENEFITS + 1):
        category = ("economic", "efficiency", "effectiveness")[n % 3]
        pm.add_benefit(KEY, f"B{n}", title=f"Benefit {n}", category=category, measure="measure", unit="£k",
                       baseline=100, target=100 + 10 * n, by=date(2023, 3, 31), owner="owner", board="RCB", on=START)
    pm = at(db, "pm", START + timedelta(days=60))
    pm.advance(KEY, on=START + timedelta(days=60))
    pm.add_objective(KEY, "O1", title="Protect the front line")  # the delivery gate wants every benefit linked
    for n in range(1, BENEFITS + 1):
        pm.link_benefit(KEY, f"B{n}", kind="objective", to="O1")
    for kind in ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement"):
        pm.add_artefact(KEY, kind, f"ref/{kind}")
    for approver in ("cc0", "pcc0", "cc1", "pcc1"):
        at(db, approver, START + timedelta(days=60)).approve(KEY, "delivery")
    pm.advance(KEY, on=START + timedelta(days=60))
    for n in range(1, BENEFITS + 1):
        pm.plan(KEY, f"B{n}", [(date(2021, 3, 31), 100 + 4 * n), (date(2023, 3, 31), 100 + 10 * n)])
    owner = at(db, "owner", date(2023, 3, 31))
    done = len(owner.history(KEY))
    for i in range(EVENTS - done):
        n = i % BENEFITS + 1
        day = START + timedelta(days=90 + 30 * (i // BENEFITS))
        owner.measure(KEY, f"B{n}", 100 + n * (i // BENEFITS + 1), on=day)
    assert len(owner.history(KEY)) == EVENTS


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = sys.argv[1] if len(sys.argv) > 1 else str(Path(folder) / "bench.db")
        build(db)
        app = at(db, "owner", date(2023, 3, 31))
        timings = []
        for _ in range(RUNS):
            began = time.perf_counter()
            page = render(collaboration_report(app.ctx, KEY), "html")
            timings.append((time.perf_counter() - began) * 1000)
        assert page.count("<figure") == BENEFITS
        engine_for(db).dispose()
    print(f"report_html_{EVENTS}_events_{BENEFITS}_benefits: {statistics.median(timings):.0f} ms (limit {LIMIT_MS} ms)")


if __name__ == "__main__":
    main()
