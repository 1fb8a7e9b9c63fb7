"""`collab demo`: the Strategic Alliance between Devon & Cornwall Police and Dorset Police.

The alliance's scoping (Phase 1) identified its benefits; its PID (Phase 2) brought a
benefits management strategy (approved October 2014) with seven key benefits: one
economic, one efficiency and five effectiveness. The demo walks it through the gates
with the engine's own API, printing the equivalent `collab` command for each step.
People are named by role; figures are illustrative.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from workflow.clock import LONDON, Clock
from workflow.db import database_url, engine_for, schema_revision, upgrade
from workflow.errors import BadInput, CollabError
from workflow.service import Collab

KEY = "SA"
DC, DORSET = "Devon & Cornwall Police", "Dorset Police"
DEMO_MARKER = "Strategic Alliance: Devon & Cornwall Police and Dorset Police"

USERS = [
    ("admin", "admin", None),
    ("pm.alliance", "programme-manager", None),
    ("cc.devon-cornwall", "chief-officer", DC),
    ("pcc.devon-cornwall", "pcc", DC),
    ("cc.dorset", "chief-officer", DORSET),
    ("pcc.dorset", "pcc", DORSET),
    ("finance.lead", "benefit-owner", None),
    ("workforce.lead", "benefit-owner", None),
    ("contact.lead", "benefit-owner", None),
    ("operations.lead", "benefit-owner", None),
    ("sec.dc-rcb", "board-secretary", None),
    ("sec.dorset-rcb", "board-secretary", None),
    ("sec.dc-performance", "board-secretary", None),
    ("sec.dorset-performance", "board-secretary", None),
    ("auditor", "auditor", None),
]
BOARDS = [
    ("D&C Resource Control Board", DC, "FREQ=MONTHLY;BYDAY=1TU", "sec.dc-rcb"),
    ("Dorset Resource Control Board", DORSET, "FREQ=MONTHLY;BYDAY=2WE", "sec.dorset-rcb"),
    ("D&C Performance Board", DC, "FREQ=MONTHLY;BYMONTHDAY=25", "sec.dc-performance"),
    ("Dorset Performance Board", DORSET, "FREQ=MONTHLY;BYDAY=3TH", "sec.dorset-performance"),
]
# (id, title, category, measure, unit, baseline, target, by, owner, board)
BENEFITS = [
    ("B1", "Cashable savings from shared support services", "economic", "annual revenue saving", "£m",
     0.0, 12.0, date(2018, 3, 31), "finance.lead", "D&C Resource Control Board"),
    ("B2", "Officer and staff hours released to the front line", "efficiency", "hours released a year", "hours",
     0.0, 60000.0, date(2018, 3, 31), "workforce.lead", "Dorset Resource Control Board"),
    ("B3", "Emergency calls answered within 10 seconds", "effectiveness", "share of 999 calls", "%",
     88.0, 92.0, date(2017, 12, 31), "contact.lead", "D&C Performance Board"),
    ("B4", "Average wait to answer a 101 call", "effectiveness", "mean wait", "minutes",
     9.0, 5.0, date(2017, 12, 31), "contact.lead", "Dorset Performance Board"),
    ("B5", "Specialist capabilities available around the clock in both forces", "effectiveness",
     "capabilities with 24/7 cover", "capabilities", 6.0, 10.0, date(2017, 9, 30), "operations.lead", "D&C Performance Board"),
    ("B6", "Victim satisfaction with the service received", "effectiveness", "satisfied victims", "%",
     82.0, 85.0, date(2018, 3, 31), "operations.lead", "Dorset Performance Board"),
    ("B7", "Public confidence in local policing", "effectiveness", "survey agreement", "%",
     74.0, 78.0, date(2018, 3, 31), "operations.lead", "D&C Performance Board"),
]


class Narrator:
    """Runs each step as the named user on the day of the timeline it belongs to, and prints it as
    the `collab` command a person would have typed that day."""

    def __init__(self, db: str, say: Callable[[str], None]) -> None:
        self.db, self.say = db, say
        self.today = date(2014, 2, 3)

    def on(self, day: str) -> None:
        self.today = date.fromisoformat(day)

    def heading(self, text: str) -> None:
        self.say("")
        self.say(f"== {text}")

    def run(self, actor: str | None, argv: list[str], call: Callable[[Collab], Any], *, refused_ok: bool = False) -> Any:
        prefix = f"collab --as {actor} " if actor else "collab "
        self.say(f"{self.today}  $ " + prefix + " ".join(shlex.quote(a) for a in argv))
        clock = Clock(datetime.combine(self.today, time(10, 0), LONDON))
        app = Collab.open(self.db, actor, clock)
        try:
            result = call(app)
        except CollabError as error:
            if not refused_ok:
                raise
            self.say(f"  refused (exit {error.exit_code}):")
            for reason in error.reasons:
                self.say(f"    - {reason}")
            return None
        return result


def _fresh(db: str) -> None:
    """The demo writes a new database; an earlier demo's file is replaced, anything else is left alone."""
    url = database_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            engine = engine_for(db)
            is_demo = schema_revision(engine) is not None and _is_demo(db)
            engine.dispose()
            if not is_demo:
                raise BadInput(f"{path} exists and is not an earlier demo: give the demo a new file with --db")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            engine_for.cache_clear()
    elif schema_revision(engine_for(db)) is not None:
        raise BadInput(f"{db} already holds a collab schema: the demo needs an empty database")


def _is_demo(db: str) -> bool:
    try:
        return Collab.open(db, "admin").show(KEY)["title"] == DEMO_MARKER
    except CollabError:
        return False


def run(db: str, say: Callable[[str], None]) -> None:
    _fresh(db)
    upgrade(engine_for(db))
    n = Narrator(db, say)
    say(f"Building the Strategic Alliance example in {db}.")

    n.on("2014-01-20")
    n.heading("People and boards (an admin registers them; the first user is the admin)")
    for name, role, partner in USERS:
        argv = ["user", "add", name, "--role", role] + (["--partner", partner] if partner else [])
        n.run(None if name == "admin" else "admin", argv,
              lambda app, name=name, role=role, partner=partner: app.add_user(name, role, email=f"{name}@alliance.example", partner=partner))
    for name, partner, meets, secretary in BOARDS:
        n.run("admin", ["board", "add", name, "--partner", partner, "--meets", meets, "--secretary", secretary],
              lambda app, a=(name, partner, meets, secretary): app.add_board(*a))

    pm = "pm.alliance"
    n.on("2014-02-03")
    n.heading("Phase 1, scoping: the programme manager registers the collaboration")
    n.run(pm, ["new", KEY, "--title", DEMO_MARKER],
          lambda app: app.new(KEY, DEMO_MARKER))
    n.on("2014-03-03")
    n.run(pm, ["advance", KEY],
          lambda app: app.advance(KEY), refused_ok=True)
    say("  Nothing changed: every unmet requirement of the pid gate is listed at once.")

    n.heading("Meeting the pid gate")
    objective = "One alliance of two forces sharing support, operational and specialist services"
    public_benefit = "Protect frontline policing in both force areas while budgets fall"
    rationale = ("Existing s.22A agreements for firearms training and major crime were considered; a wider "
                 "alliance serves efficiency (shared support services) and effectiveness (resilience, contact)")
    n.run(pm, ["update", KEY, "--objective", objective, "--public-benefit", public_benefit, "--rationale", rationale],
          lambda app: app.update(KEY, objective=objective, public_benefit=public_benefit, rationale=rationale))
    for org, appetite in ((DC, "cautious"), (DORSET, "open")):
        n.run(pm, ["partner", "add", KEY, org, "--kind", "police", "--risk-appetite", appetite],
              lambda app, org=org, appetite=appetite: app.add_partner(KEY, org, kind="police", risk_appetite=appetite))
    n.on("2014-04-01")
    for code, title, category, *_ in BENEFITS:
        n.run(pm, ["benefit", "add", KEY, code, "--title", title, "--category", category],
              lambda app, c=code, t=title, k=category: app.add_benefit(KEY, c, title=t, category=k))
    n.on("2014-06-02")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY))

    n.heading("Phase 2, the PID: profiles, artefacts, cost shares and approvals")
    n.on("2014-07-01")
    n.run(pm, ["advance", KEY],
          lambda app: app.advance(KEY), refused_ok=True)
    for code, _, _, measure, unit, baseline, target, by, owner, board in BENEFITS:
        argv = ["benefit", "update", KEY, code, "--measure", measure, "--unit", unit, "--baseline", f"{baseline:g}",
                "--target", f"{target:g}", "--by", by.isoformat(), "--owner", owner, "--board", board]
        n.run(pm, argv, lambda app, c=code, m=measure, u=unit, b=baseline, t=target, y=by, o=owner, d=board:
              app.update_benefit(KEY, c, measure=m, unit=u, baseline=b, target=t, by=y, owner=o, board=d))
    for kind, ref, on in (("pid", "ABC/PID/v1.3", "2014-07-15"),
                          ("benefits-management-strategy", "Alliance Benefits Management Strategy", "2014-10-20"),
                          ("benefits-logic-map", "ABC/BLM/v2", "2014-10-20"),
                          ("collaboration-agreement", "s.22A Strategic Alliance agreement", "2014-12-15")):
        n.on(on)
        n.run(pm, ["artefact", "add", KEY, kind, "--ref", ref],
              lambda app, k=kind, r=ref: app.add_artefact(KEY, k, r))
    for org, share in ((DC, "70"), (DORSET, "30")):
        n.run(pm, ["partner", "add", KEY, org, "--cost-share", share],
              lambda app, o=org, s=share: app.add_partner(KEY, o, cost_share=s))
    n.on("2014-12-18")
    for approver in ("cc.devon-cornwall", "pcc.devon-cornwall", "cc.dorset", "pcc.dorset"):
        n.run(approver, ["approve", KEY, "--gate", "delivery"],
              lambda app: app.approve(KEY, "delivery"))
    n.run("auditor", ["approve", KEY, "--gate", "delivery"],
          lambda app: app.approve(KEY, "delivery"), refused_ok=True)
    n.on("2015-01-05")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY))

    n.heading("What an auditor sees")
    shown = n.run("auditor", ["show", KEY], lambda app: app.show(KEY))
    say(f"  {shown['key']} is at {shown['stage']} since {shown['since']}, {len(shown['benefits'])} benefits, "
        f"{len(shown['approvals'])} approvals")
    events = n.run("auditor", ["history", KEY], lambda app: app.history(KEY))
    for e in events:
        move = f" {e['from_stage'] or ''} -> {e['to_stage']}" if e["to_stage"] else ""
        say(f"  {e['seq']:>3} {e['effective_on']} {e['actor']:<20} {e['action']}{move}")
    verdict = n.run("auditor", ["audit", "verify"], lambda app: app.verify())
    say(f"  history verified: {verdict.ok}, {verdict.events} events, head {verdict.head[:16]}...")
    say("")
    say(f"Done. Explore it: collab --db {db} --as auditor show {KEY}")
