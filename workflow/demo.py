"""`collab demo`: the Strategic Alliance between Devon & Cornwall Police and Dorset Police.

The alliance's scoping (Phase 1) identified its benefits; its PID (Phase 2) brought a benefits management strategy
(approved October 2014) with seven key benefits: one economic, one efficiency and five effectiveness. The demo walks
it through the gates with the engine's own API, printing the equivalent `collab` command for each step. People are
named by role; figures are illustrative.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, text
from sqlalchemy.exc import DBAPIError

from workflow.clock import LONDON, Clock, parse_moment
from workflow.db import UnitOfWork, database_url, engine_for, folder_beside, schema_revision, upgrade
from workflow.errors import BadInput, CollabError
from workflow.reminders import Reminders
from workflow.service import Collab
from workflow.signing import load_private_key
from workflow.stored import install_packaged

KEY = "SA"
DC, DORSET = "Devon & Cornwall Police", "Dorset Police"
DEMO_MARKER = "Strategic Alliance: Devon & Cornwall Police and Dorset Police"
SIGNATORIES = ("cc.devon-cornwall", "pcc.devon-cornwall", "cc.dorset", "pcc.dorset")
KEY_PASSPHRASE = "alliance demo"  # the demo's signatories' keys are for trying it out, never for real decisions

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
    ("ba.finance", "benefit-owner", None),
    ("ba.people", "benefit-owner", None),
    ("ba.contact", "benefit-owner", None),
    ("ba.operations", "benefit-owner", None),
    ("auditor", "auditor", None),
]
BOARDS = [
    ("D&C Resource Control Board", DC, "FREQ=MONTHLY;BYDAY=1TU", "sec.dc-rcb", "resource-control"),
    ("Dorset Resource Control Board", DORSET, "FREQ=MONTHLY;BYDAY=2WE", "sec.dorset-rcb", "resource-control"),
    ("D&C Performance Board", DC, "FREQ=MONTHLY;BYMONTHDAY=25", "sec.dc-performance", "performance"),
    ("Dorset Performance Board", DORSET, "FREQ=MONTHLY;BYDAY=3TH", "sec.dorset-performance", "performance"),
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

# The logic map: objectives, the programme benefits serving each, and what contributes to those.
OBJECTIVES = {"O1": "Protect frontline policing while budgets fall", "O2": "A better service to the public"}
LINKS = [("B1", "objective", "O1"), ("B2", "objective", "O1"), ("B5", "objective", "O2"), ("B7", "objective", "O2"),
         ("B3", "contributes-to", "B6"), ("B4", "contributes-to", "B6"), ("B6", "contributes-to", "B7")]
# Business areas that take each benefit on at closure: (area, receiving owner, reviewing board after closure)
HANDOVERS = {
    "B1": ("Alliance Finance", "ba.finance", "D&C Resource Control Board"),
    "B2": ("Alliance People Services", "ba.people", "Dorset Resource Control Board"),
    "B3": ("Alliance Contact Centres", "ba.contact", "D&C Performance Board"),
    "B4": ("Alliance Contact Centres", "ba.contact", "Dorset Performance Board"),
    "B5": ("Alliance Operations", "ba.operations", "D&C Performance Board"),
    "B6": ("Alliance Operations", "ba.operations", "Dorset Performance Board"),
    "B7": ("Alliance Operations", "ba.operations", "D&C Performance Board"),
}
# Each force's costs (partner, financial year, category, one-off, recurring; illustrative pounds).
COSTS = [(DC, "2014-15", "ict", "1800000", "0"), (DC, "2014-15", "staff", "950000", "0"), (DC, "2015-16", "ict", "0", "420000"),
         (DC, "2015-16", "estates", "0", "180000"), (DORSET, "2014-15", "ict", "770000", "0"), (DORSET, "2015-16", "ict", "0", "180000")]
# Quarterly measurements while the programme ran (by the programme's owners), illustrative figures.
MEASUREMENTS = {
    "2015-06-30": {"B1": 1.8, "B2": 9000, "B3": 88.5, "B4": 8.6, "B5": 7, "B6": 82.4, "B7": 74.2},
    "2015-12-31": {"B1": 3.9, "B2": 17500, "B3": 89.2, "B4": 8.1, "B5": 7, "B6": 82.9, "B7": 74.9},
    "2016-06-30": {"B1": 6.2, "B2": 28000, "B3": 90.1, "B4": 7.4, "B5": 8, "B6": 83.1, "B7": 75.3},
    "2016-12-31": {"B1": 8.4, "B2": 39000, "B3": 90.6, "B4": 6.9, "B5": 9, "B6": 83.0, "B7": 75.8},
}
# After closure the business areas go on measuring: the failure this product exists to prevent.
AFTER_CLOSURE = {"2017-06-30": {"B1": 10.9, "B2": 52000, "B3": 91.4, "B4": 6.1, "B5": 10, "B6": 84.1, "B7": 76.9}}


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
            result = call(app)  # called here and now, so a step's lambda may read its loop's variables
        except CollabError as error:
            if not refused_ok:
                raise
            self.say(f"  refused (exit {error.exit_code}):")
            for reason in error.reasons:
                self.say(f"    - {reason}")
            return None
        return result


def _register(n: Narrator, actor: str) -> None:
    """Print the benefits register as `collab benefit list` shows it."""
    rows = n.run(actor, ["benefit", "list", KEY], lambda app: app.benefits(KEY))
    for r in rows:
        latest = f"{r['latest']:g} {r['unit']}" if r["latest"] is not None else "-"
        progress = f"{r['progress']:.0%}" if r["progress"] is not None else "-"
        n.say(f"  {r['id']} {r['status']:<9} latest {latest:<16} progress {progress:>5}  owner {r['owner']:<15} {r['title']}")


def _fresh(db: str) -> None:
    """The demo writes a new database; an earlier demo's file (of any schema revision) is replaced,
    anything else is left alone."""
    url = database_url(db)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if path.exists():
            engine = engine_for(db)
            is_demo = _is_demo(engine)
            engine.dispose()
            engine_for.cache_clear()
            if not is_demo:
                raise BadInput(f"{path} exists and is not an earlier demo alone (it holds other users, "
                               "collaborations or history): give the demo a new file with --db")
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    elif schema_revision(engine_for(db)) is not None:
        raise BadInput(f"{db} already holds a collab schema: the demo needs an empty database")


# The demo's timeline: every event it records is dated in it (its clock is set to each step's day).
DEMO_PERIOD = ("2014-01-20", "2017-10-03")  # from the first step's day up to, not including, this one


def _is_demo(engine: Engine) -> bool:
    """Whether the database holds an earlier demo and nothing else, and so may be replaced.

    Nothing else: no collaboration but the demo's, no user or board it did not add, and a history
    recorded on the demo's timeline by its people. A person who explored the demo and added a user,
    a collaboration or a measurement has work there that a rerun must not delete.
    """
    people, boards = [name for name, *_ in USERS], [name for name, *_ in BOARDS]
    try:
        with engine.connect() as connection:
            def count(sql: str, **values: object) -> int:
                statement = text(sql)
                if "names" in values:
                    statement = statement.bindparams(bindparam("names", expanding=True))
                return connection.execute(statement, values).scalar() or 0

            title = connection.execute(text("SELECT title FROM collaborations WHERE key = :key"), {"key": KEY}).scalar()
            strangers = (
                count("SELECT count(*) FROM collaborations WHERE key <> :key", key=KEY)
                + count("SELECT count(*) FROM users WHERE name NOT IN :names", names=people)
                + count("SELECT count(*) FROM boards WHERE name NOT IN :names", names=boards)
                + count("SELECT count(*) FROM events WHERE actor NOT IN :names OR recorded_at < :first "
                        "OR recorded_at >= :after", names=people, first=DEMO_PERIOD[0], after=DEMO_PERIOD[1])
            )
    except DBAPIError:
        return False
    return title == DEMO_MARKER and strangers == 0


def _key_files(db: str) -> dict[str, Path]:
    """Where the demo keeps its signatories' private keys: demo-keys/ beside the database."""
    return {name: folder_beside(db, "demo-keys") / f"{name}.key" for name in SIGNATORIES}


def _signed_approval(n: Narrator, approver: str, gate: str, path: Path) -> None:
    """A signatory approves a gate, signing with their key (once registered, they must)."""
    n.run(approver, ["approve", KEY, "--gate", gate, "--key", str(path)],
          lambda app: app.approve(KEY, gate, signing_key=load_private_key(path, KEY_PASSPHRASE)))


def run(db: str, say: Callable[[str], None]) -> None:
    _fresh(db)
    keys = _key_files(db)
    for path in keys.values():  # an earlier demo's keys: their public halves went with its database
        path.unlink(missing_ok=True)
    next(iter(keys.values())).parent.mkdir(mode=0o700, exist_ok=True)
    upgrade(engine_for(db))
    install_packaged(UnitOfWork(engine_for(db)))  # as `collab init`: the board types are the definitions'
    n = Narrator(db, say)
    say(f"Building the Strategic Alliance example in {db}.")

    n.on("2014-01-20")
    n.heading("People and boards (an admin registers them; the first user is the admin)")
    for name, role, partner in USERS:
        argv = ["user", "add", name, "--role", role] + (["--partner", partner] if partner else [])
        n.run(None if name == "admin" else "admin", argv,
              lambda app: app.add_user(name, role, email=f"{name}@alliance.example", partner=partner))
    for name, partner, meets, secretary, kind in BOARDS:
        n.run("admin", ["board", "add", name, "--partner", partner, "--meets", meets, "--secretary", secretary,
                        "--type", kind], lambda app: app.add_board(name, partner, meets, secretary, type=kind))

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
              lambda app: app.add_partner(KEY, org, kind="police", risk_appetite=appetite))
    n.on("2014-04-01")
    for code, title, category, *_ in BENEFITS:
        n.run(pm, ["benefit", "add", KEY, code, "--title", title, "--category", category],
              lambda app: app.add_benefit(KEY, code, title=title, category=category))
    n.on("2014-06-02")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY))

    n.heading("Phase 2, the PID: profiles, artefacts, cost shares and approvals")
    n.on("2014-07-01")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY), refused_ok=True)
    for code, _, _, measure, unit, baseline, target, by, owner, board in BENEFITS:
        argv = ["benefit", "update", KEY, code, "--measure", measure, "--unit", unit, "--baseline", f"{baseline:g}",
                "--target", f"{target:g}", "--by", by.isoformat(), "--owner", owner, "--board", board]
        n.run(pm, argv, lambda app:
              app.update_benefit(KEY, code, measure=measure, unit=unit, baseline=baseline, target=target, by=by,
                                 owner=owner, board=board))
    for code, title in OBJECTIVES.items():
        n.run(pm, ["objective", "add", KEY, code, "--title", title], lambda app: app.add_objective(KEY, code, title=title))
    for code, kind, to in LINKS:
        n.run(pm, ["benefit", "link", KEY, code, f"--{kind}", to], lambda app: app.link_benefit(KEY, code, kind=kind, to=to))
    for kind, ref, on in (("pid", "ABC/PID/v1.3", "2014-07-15"),
                          ("benefits-management-strategy", "Alliance Benefits Management Strategy", "2014-10-20"),
                          ("benefits-logic-map", "ABC/BLM/v2", "2014-10-20"),
                          ("collaboration-agreement", "s.22A Strategic Alliance agreement", "2014-12-15")):
        n.on(on)
        n.run(pm, ["artefact", "add", KEY, kind, "--ref", ref], lambda app: app.add_artefact(KEY, kind, ref))
    for org, share in ((DC, "70"), (DORSET, "30")):
        n.run(pm, ["partner", "add", KEY, org, "--cost-share", share], lambda app: app.add_partner(KEY, org, cost_share=share))
    n.on("2014-12-18")
    say(f"  The four signatories sign with keys of their own (passphrase from COLLAB_KEY_PASSPHRASE; "
        f"the demo's is '{KEY_PASSPHRASE}'):")
    for approver, path in keys.items():
        n.run(approver, ["key", "new", "--out", str(path)], lambda app: app.new_key(KEY_PASSPHRASE, path))
        _signed_approval(n, approver, "delivery", path)
    n.run("auditor", ["approve", KEY, "--gate", "delivery"],
          lambda app: app.approve(KEY, "delivery"), refused_ok=True)
    n.on("2015-01-05")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY))

    n.heading("Reminders: agendas, requests for figures and an escalation (to outbox/ beside the database)")
    demo_reminders(db, say, ["2015-01-07T09:00", "2015-01-28T09:00"])

    n.heading("Delivery: the owners measure their benefits each quarter")
    n.on("2015-01-12")
    n.run(pm, ["benefit", "plan", KEY, "B1", "--point", "2016-03-31=4", "--point", "2017-03-31=9", "--point", "2018-03-31=12"],
          lambda app: app.plan(KEY, "B1", [(date(2016, 3, 31), 4.0), (date(2017, 3, 31), 9.0), (date(2018, 3, 31), 12.0)]))
    for org, year, kind, one_off, recurring in COSTS:  # each force's own costs; the report nets them against its share of B1
        n.run(pm, ["cost", "set", KEY, "--partner", org, "--year", year, "--category", kind, "--one-off", one_off, "--recurring",
                   recurring], lambda app: app.set_cost(KEY, partner=org, year=year, category=kind, one_off=one_off, recurring=recurring))
    owners = {code: owner for code, *_, owner, _ in BENEFITS}
    for day, values in MEASUREMENTS.items():
        n.on(day)
        for code, value in values.items():
            n.run(owners[code], ["benefit", "measure", KEY, code, f"{value:g}"],
                  lambda app: app.measure(KEY, code, value))
    n.run(owners["B2"], ["benefit", "measure", KEY, "B2", "390000"], lambda app: app.measure(KEY, "B2", 390000))
    why = "typed 390000 for 39000"
    n.run(owners["B2"], ["benefit", "void", KEY, "B2", "2016-12-31", "--reason", why],
          lambda app: app.void_measurement(KEY, "B2", date(2016, 12, 31), reason=why))
    say("  A wrong figure is voided, not deleted: the history and the report keep it, the register leaves it out.")
    _register(n, "auditor")

    n.heading("Closure: every benefit needs a business area to take it on")
    n.on("2017-01-16")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY), refused_ok=True)
    for code, (area, receiver, board) in HANDOVERS.items():
        first = "ba.contact" if code == "B6" else receiver  # B6 goes first to the wrong area, which declines
        n.run(pm, ["benefit", "handover", KEY, code, "--business-area", area, "--to", first, "--board", board],
              lambda app: app.handover(KEY, code, business_area=area, to=first, board=board))
    n.on("2017-03-31")
    n.run(pm, ["advance", KEY, "--reason", "programme closed"], lambda app: app.advance(KEY, reason="programme closed"))
    n.run(pm, ["artefact", "add", KEY, "closure-report", "--ref", "ABC/Closure/2017"],
          lambda app: app.add_artefact(KEY, "closure-report", "ABC/Closure/2017"))

    n.heading("Handover: the receiving owners accept (or decline) before the PIR gate opens")
    n.on("2017-04-10")
    n.run("ba.contact", ["benefit", "decline", KEY, "B6", "--reason", "victim satisfaction sits with Operations"],
          lambda app: app.decline(KEY, "B6", reason="victim satisfaction sits with Operations"))
    for code, (_, receiver, _) in HANDOVERS.items():
        if code != "B6":
            n.run(receiver, ["benefit", "accept", KEY, code], lambda app: app.accept(KEY, code))
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY), refused_ok=True)
    area, receiver, board = HANDOVERS["B6"]
    n.run(pm, ["benefit", "handover", KEY, "B6", "--business-area", area, "--to", receiver, "--board", board],
          lambda app: app.handover(KEY, "B6", business_area=area, to=receiver, board=board))
    n.on("2017-04-18")
    n.run(receiver, ["benefit", "accept", KEY, "B6"], lambda app: app.accept(KEY, "B6"))
    n.run(pm, ["advance", KEY, "--reason", "all benefits accepted by business areas"],
          lambda app: app.advance(KEY, reason="all benefits accepted by business areas"))

    n.heading("After closure: the business areas keep measuring, and the register keeps showing it")
    for day, values in AFTER_CLOSURE.items():
        n.on(day)
        for code, value in values.items():
            n.run(HANDOVERS[code][1], ["benefit", "measure", KEY, code, f"{value:g}"],
                  lambda app: app.measure(KEY, code, value))
    n.on("2017-07-03")
    lesson = "Agree benefit owners in the business areas at PID, not at closure"
    n.run(pm, ["lesson", "add", KEY, lesson, "--theme", "benefits"],
          lambda app: app.add_lesson(KEY, lesson, theme="benefits"))
    _register(n, "auditor")

    n.heading("The post-implementation review, and business as usual")
    n.on("2017-09-25")
    n.run(pm, ["artefact", "add", KEY, "pir-report", "--ref", "ABC/PIR/2017"],
          lambda app: app.add_artefact(KEY, "pir-report", "ABC/PIR/2017"))
    for approver in ("cc.devon-cornwall", "cc.dorset"):
        _signed_approval(n, approver, "bau", keys[approver])
    n.on("2017-10-02")
    n.run(pm, ["advance", KEY], lambda app: app.advance(KEY))
    _register(n, "auditor")

    n.heading("What an auditor sees")
    shown = n.run("auditor", ["show", KEY], lambda app: app.show(KEY))
    say(f"  {shown['key']} is at {shown['stage']} since {shown['since']}, {len(shown['benefits'])} benefits, "
        f"{len(shown['approvals'])} approvals")
    events = n.run("auditor", ["history", KEY], lambda app: app.history(KEY))
    say(f"  {len(events)} events; the stage moves among them:")
    for e in events:
        if e["to_stage"]:
            say(f"  {e['seq']:>4} {e['effective_on']} {e['actor']:<14} {e['action']:<10} {e['from_stage'] or '':>8} -> {e['to_stage']}")
    verdict = n.run("auditor", ["audit", "verify"], lambda app: app.verify())
    say(f"  history verified: {verdict.ok}, {verdict.events} events, head {verdict.head[:16]}...")
    say("")
    say(f"Done. Explore it: collab --db {db} --as auditor show {KEY}")
    say("Or in a browser: give someone a password, then serve the demo database:")
    say(f"  collab --db {shlex.quote(db)} --as admin user password pm.alliance")
    say(f"  collab --db {shlex.quote(db)} serve --insecure-cookies   # http://127.0.0.1:8080/ on this machine only")


def demo_reminders(db: str, say: Callable[[str], None], moments: Iterable[datetime | str], *,
                   actor: str = "admin") -> list[dict[str, Any]]:
    """Run `collab remind` at each moment of a demo's timeline, printing what went out.

    Messages go where the environment says (cli.md), by default to outbox/ beside the database.
    """
    reports = []
    for moment in moments:
        at = parse_moment(moment, "moment") if isinstance(moment, str) else moment
        local = at.astimezone(LONDON)
        say(f"{local.date()}  $ collab --as {actor} remind --at {local:%Y-%m-%dT%H:%M}")
        report = Reminders.from_env(Collab.open(db, actor, Clock(at)).ctx, db).remind(at)
        for sent in report["sent"]:
            say(f"  {sent['kind']:<20} to {sent['to']}: {sent['subject']}")
        if not report["sent"]:
            say("  nothing due")
        reports.append(report)
    return reports
