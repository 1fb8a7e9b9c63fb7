"""A scripted timeline for the reminder tests: a collaboration in delivery from a chosen day, then figures,
handovers and closure on chosen days.

Every step goes through the engine's use cases, each run as of its own day.
"""

from __future__ import annotations

from datetime import date

from builders import as_of, open_as, people, ready_for_delivery


def in_delivery(db: str, on: date, key: str = "SA", *, registered: date | None = None) -> None:
    """builders.people (board RCB, FREQ=MONTHLY;BYDAY=1TU, registered on `registered`, default `on`) and `key`
    entering delivery on `on`, with B1 (economic, 0 -> 12) owned by `owner` and B2 (effectiveness, 74 -> 78)
    by `owner2`, both reviewed by RCB."""
    with as_of(f"{(registered or on).isoformat()}T09:00"):
        people(db)
        pm = ready_for_delivery(db, key)
        pm.update_benefit(key, "B2", owner="owner2")
        for signatory in ("cc.dc", "pcc.dc", "cc.do", "pcc.do"):  # their approvals covered B2's old owner
            open_as(db, signatory).approve(key, "delivery")
    with as_of(f"{on.isoformat()}T09:00"):
        open_as(db, "pm").advance(key, on=on)


def measure(db: str, code: str, value: float, on: date, key: str = "SA") -> None:
    """The benefit's owner records `value` on `on`."""
    owner = next(b["owner"] for b in open_as(db, "audit").benefits(key) if b["id"] == code)
    with as_of(f"{on.isoformat()}T17:00"):
        open_as(db, owner).measure(key, code, value, on=on)


def hand_over(db: str, code: str, *, to: str, status: str, on: date, board: str | None = None, key: str = "SA") -> None:
    """The programme manager proposes `code` to `to` on `on`, who accepts or declines it that day if `status` says so."""
    with as_of(f"{on.isoformat()}T09:00"):
        open_as(db, "pm").handover(key, code, business_area="Business support", to=to, board=board)
        if status == "accepted":
            open_as(db, to).accept(key, code)
        elif status == "declined":
            open_as(db, to).decline(key, code, reason="not ours")


def close(db: str, on: date, key: str = "SA") -> None:
    """Propose every benefit's handover and advance to closure on `on` (PIR due six months later)."""
    for code in ("B1", "B2"):
        hand_over(db, code, to="owner", status="proposed", on=on, key=key)
    with as_of(f"{on.isoformat()}T09:00"):
        open_as(db, "pm").advance(key, on=on)
