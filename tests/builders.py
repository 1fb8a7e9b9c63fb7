"""Build collaborations to a given stage through the public service API, as a programme manager would."""

from __future__ import annotations

from datetime import date

from workflow.service import Collab

DC, DORSET = "Devon & Cornwall Police", "Dorset Police"


def people(db: str) -> None:
    """An admin, a programme manager, both forces' chief officers and PCCs, owners, a secretary, an auditor, a board."""
    Collab.open(db).add_user("root", "admin")
    admin = Collab.open(db, "root")
    admin.add_user("pm", "programme-manager", email="pm@example.org")
    for prefix, force in (("dc", DC), ("do", DORSET)):
        admin.add_user(f"cc.{prefix}", "chief-officer", partner=force, email=f"cc.{prefix}@example.org")
        admin.add_user(f"pcc.{prefix}", "pcc", partner=force, email=f"pcc.{prefix}@example.org")
    admin.add_user("owner", "benefit-owner", email="owner@example.org")
    admin.add_user("owner2", "benefit-owner", email="owner2@example.org")
    admin.add_user("sec", "board-secretary", email="sec@example.org")
    admin.add_user("audit", "auditor")
    admin.add_board("RCB", DC, "FREQ=MONTHLY;BYDAY=1TU", "sec")


def scoped(db: str, key: str = "SA") -> Collab:
    """A collaboration that meets every requirement of the pid gate (still in scoping)."""
    pm = Collab.open(db, "pm")
    pm.new(key, "Strategic Alliance", objective="Share services", public_benefit="Protect the front line", on=date(2019, 1, 2))
    pm.update(key, rationale="s.22A agreements considered; serves efficiency and effectiveness")
    pm.add_partner(key, DC, kind="police", risk_appetite="cautious")
    pm.add_partner(key, DORSET, kind="police", risk_appetite="open")
    pm.add_benefit(key, "B1", title="Savings", category="economic")
    pm.add_benefit(key, "B2", title="Public confidence", category="effectiveness")
    return pm


def ready_for_delivery(db: str, key: str = "SA") -> Collab:
    """A collaboration in pid that meets every requirement of the delivery gate."""
    pm = scoped(db, key)
    pm.advance(key, on=date(2019, 6, 3))
    for code, baseline, target in (("B1", 0, 12), ("B2", 74, 78)):
        pm.update_benefit(key, code, measure="measure", baseline=baseline, target=target,
                          by=date(2030, 3, 31), owner="owner", board="RCB")
    for kind in ("pid", "benefits-management-strategy", "benefits-logic-map", "collaboration-agreement"):
        pm.add_artefact(key, kind, f"ref/{kind}")
    pm.add_partner(key, DC, cost_share="70")
    pm.add_partner(key, DORSET, cost_share="30")
    for approver in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):
        Collab.open(db, approver).approve(key, "delivery")
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
    pm.add_artefact(key, "closure-report", "ref/closure")
    return pm
