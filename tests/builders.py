"""Build collaborations to a given stage through the public service API, as a programme manager would."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from workflow.clock import LONDON, Clock, parse_moment
from workflow.register import DEFAULT_DEFINITION
from workflow.service import Collab

_NOW: ContextVar[Clock | None] = ContextVar("now", default=None)


def connection(db: str) -> dict[str, str]:
    """What every event of `db` records of the database login: its name on PostgreSQL, nothing on SQLite."""
    from sqlalchemy.engine import make_url

    return {"connected_as": make_url(db).username or ""} if "://" in db else {}


def open_as(db: str, actor: str | None = None) -> Collab:
    """The engine as `actor`, on the clock of the innermost `as_of`, else of COLLAB_NOW as the CLI reads it."""
    now = os.environ.get("COLLAB_NOW")
    return Collab.open(db, actor, _NOW.get() or (Clock(parse_moment(now)) if now else None))


@contextmanager
def as_of(moment: str) -> Iterator[Clock]:
    """Run the use cases opened with `open_as` as of `moment` (ISO, Europe/London unless zoned)."""
    clock = Clock(parse_moment(moment))
    token = _NOW.set(clock)
    try:
        yield clock
    finally:
        _NOW.reset(token)

DC, DORSET = "Devon & Cornwall Police", "Dorset Police"
EVIDENCE = date(2019, 12, 2)  # when ready_for_delivery's artefacts and approvals are dated


def people(db: str) -> None:
    """An admin, a programme manager, both forces' chief officers and PCCs, owners, a secretary, an auditor, a board."""
    open_as(db).add_user("root", "admin")
    admin = open_as(db, "root")
    admin.add_user("pm", "programme-manager", email="pm@example.org")
    for prefix, force in (("dc", DC), ("do", DORSET)):
        admin.add_user(f"cc.{prefix}", "chief-officer", partner=force, email=f"cc.{prefix}@example.org")
        admin.add_user(f"pcc.{prefix}", "pcc", partner=force, email=f"pcc.{prefix}@example.org")
    admin.add_user("owner", "benefit-owner", email="owner@example.org")
    admin.add_user("owner2", "benefit-owner", email="owner2@example.org")
    admin.add_user("sec", "board-secretary", email="sec@example.org")
    admin.add_user("audit", "auditor")
    admin.add_board("RCB", DC, "FREQ=MONTHLY;BYDAY=1TU", "sec")


def scoped(db: str, key: str = "SA", definition: str = DEFAULT_DEFINITION) -> Collab:
    """A collaboration that meets every requirement of the pid gate (still in scoping), its benefits serving O1."""
    pm = open_as(db, "pm")
    pm.new(key, "Strategic Alliance", objective="Share services", public_benefit="Protect the front line",
           definition=definition, on=date(2019, 1, 2))
    pm.update(key, rationale="s.22A agreements considered; serves efficiency and effectiveness")
    pm.add_partner(key, DC, kind="police", risk_appetite="cautious")
    pm.add_partner(key, DORSET, kind="police", risk_appetite="open")
    pm.add_benefit(key, "B1", title="Savings", category="economic", on=date(2019, 1, 2))
    pm.add_benefit(key, "B2", title="Public confidence", category="effectiveness", on=date(2019, 1, 2))
    pm.add_objective(key, "O1", title="Protect the front line while budgets fall", on=date(2019, 1, 2))
    for code in ("B1", "B2"):
        pm.link_benefit(key, code, kind="objective", to="O1")
    return pm


def ready_for_delivery(db: str, key: str = "SA") -> Collab:
    """A collaboration in pid that meets every requirement of the delivery gate."""
    pm = awaiting_delivery_approvals(db, key)
    for approver in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
        open_as(db, approver).approve(key, "delivery", on=EVIDENCE)
    return pm


def awaiting_delivery_approvals(db: str, key: str = "SA", definition: str = DEFAULT_DEFINITION) -> Collab:
    """A collaboration in pid that meets every requirement of the delivery gate but its approvals."""
    pm = scoped(db, key, definition)
    pm.advance(key, on=date(2019, 6, 3))
    for code, baseline, target in (("B1", 0, 12), ("B2", 74, 78)):
        pm.update_benefit(key, code, measure="measure", baseline=baseline, target=target,
                          by=date(2030, 3, 31), owner="owner", board="RCB")
    for kind in ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement"):
        pm.add_artefact(key, kind, f"ref/{kind}", on=EVIDENCE)
    pm.add_partner(key, DC, cost_share="70")
    pm.add_partner(key, DORSET, cost_share="30")
    return pm


def in_delivery(db: str, key: str = "SA") -> Collab:
    pm = ready_for_delivery(db, key)
    pm.advance(key, on=date(2020, 1, 6))
    return pm


def closed(db: str, key: str = "SA") -> Collab:
    """A collaboration in closure, each benefit proposed to `owner2` of the Finance business area."""
    pm = in_delivery(db, key)
    for code in ("B1", "B2"):
        pm.handover(key, code, business_area="Finance", to="owner2")
    pm.advance(key, on=date(2023, 3, 31))
    pm.add_artefact(key, "closure-report", "ref/closure", on=date(2023, 3, 31))
    return pm


MARKUP_TITLE = '<script>alert("pwned")</script> & <b>bold</b> claims'


def measured(db: str, key: str = "SA") -> None:
    """`in_delivery` (run with COLLAB_NOW at 2020-01-06) plus what a report shows: a realisation plan,
    measurements until June 2021, a dis-benefit, and a benefit whose title is markup (which must stay text)."""
    def on(actor: str, moment: str) -> Collab:
        return Collab.open(db, actor, Clock(datetime.fromisoformat(moment).replace(tzinfo=LONDON)))

    in_delivery(db, key)
    pm = on("pm", "2020-02-03T10:00")
    pm.plan(key, "B1", [(date(2021, 3, 31), 5.0), (date(2022, 3, 31), 12.0)])
    pm.add_benefit(key, "B3", title=MARKUP_TITLE, category="effectiveness", measure="999 calls answered in 10 s",
                   unit="%", baseline=88, target=92, by=date(2022, 3, 31), owner="owner", board="RCB")
    pm.add_benefit(key, "D1", title="Officer travel between sites", category="efficiency", measure="hours a month",
                   unit="hours", baseline=0, target=300, by=date(2021, 12, 31), owner="owner", board="RCB",
                   dis_benefit=True)
    owner = on("owner", "2021-06-30T16:00")
    for code, day, value in (("B1", date(2020, 6, 30), 1.5), ("B1", date(2020, 12, 31), 3.2), ("B1", date(2021, 6, 30), 6.1),
                             ("B2", date(2021, 3, 31), 75.1), ("B3", date(2021, 6, 30), 89.0), ("D1", date(2021, 6, 30), 120)):
        owner.measure(key, code, value, on=day, note="Q4 <i>return</i>" if code == "B3" else None)
