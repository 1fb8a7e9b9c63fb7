"""Which reviews are upcoming, due and overdue (`collab reviews`), computed set-based from the database.

The timeline (tests/scripted.py): board RCB meets FREQ=MONTHLY;BYDAY=1TU at 10:00 from 2026-09-02, when SA
enters delivery. Its meetings: Tue 6 Oct 2026 (1 Oct is a Thursday), Tue 3 Nov (1 Nov is a Sunday), Tue 1 Dec.
The definition's lead is 7 days, its grace 14 days, the PIR six months after closure.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, update

from builders import open_as, ready_for_delivery
from conftest import collab
from builders import as_of
from scripted import close, hand_over, in_delivery, measure
from workflow import audit
from workflow.db import UnitOfWork, engine_for
from workflow.errors import BadInput
from workflow.model import Benefit, Board, Collaboration, Measurement, User
from workflow.definition import find
from workflow.clock import LONDON
from workflow.reminders import Reminders

CURRENT = find("police-collaboration")

DELIVERY = date(2026, 9, 2)


def reviews(db: str, at: str, **options: object) -> list[tuple[str | None, str | None, str, str]]:
    rows = Reminders(open_as(db, "audit").ctx).reviews(date.fromisoformat(at), **options)  # type: ignore[arg-type]
    return [(r["benefit"], r["board"], r["due_on"], r["status"]) for r in rows]


def test_upcoming_then_due_then_overdue(db: str) -> None:
    in_delivery(db, DELIVERY)
    # 20 Sep: the 6 Oct meeting is 16 days ahead and its window opens on 29 Sep (6 Oct - 7): upcoming.
    # 3 Nov is 44 days ahead, beyond the default 35.
    assert reviews(db, "2026-09-20") == [("B1", "RCB", "2026-10-06", "upcoming"), ("B2", "RCB", "2026-10-06", "upcoming")]
    # 29 Sep: window open for 6 Oct (due); 3 Nov is exactly 35 days ahead (upcoming).
    assert reviews(db, "2026-09-29") == [
        ("B1", "RCB", "2026-10-06", "due"), ("B2", "RCB", "2026-10-06", "due"),
        ("B1", "RCB", "2026-11-03", "upcoming"), ("B2", "RCB", "2026-11-03", "upcoming"),
    ]
    assert reviews(db, "2026-09-29", within=0) == [("B1", "RCB", "2026-10-06", "due"), ("B2", "RCB", "2026-10-06", "due")]
    # B1's figure of 2 Oct satisfies the 6 Oct review (RCB had no meeting before it), not the 3 Nov one, which
    # needs a figure dated after 6 Oct. On 7 Oct B2's review of 6 Oct is overdue.
    measure(db, "B1", 5, date(2026, 10, 2))
    assert reviews(db, "2026-10-07") == [
        ("B2", "RCB", "2026-10-06", "overdue"),
        ("B1", "RCB", "2026-11-03", "upcoming"), ("B2", "RCB", "2026-11-03", "upcoming"),
    ]
    # A late figure (8 Oct, after the meeting) clears the overdue review; it is dated after 6 Oct, so it
    # satisfies the 3 Nov review too.
    measure(db, "B2", 75, date(2026, 10, 8))
    assert reviews(db, "2026-10-09") == [("B1", "RCB", "2026-11-03", "upcoming")]
    # --at counts only figures dated by then.
    assert reviews(db, "2026-10-07")[0] == ("B2", "RCB", "2026-10-06", "overdue")


def test_only_the_last_missed_meeting_is_overdue(db: str) -> None:
    in_delivery(db, DELIVERY)
    # On 10 Nov both 6 Oct and 3 Nov went by without figures: one overdue line per benefit, for 3 Nov.
    assert reviews(db, "2026-11-10", within=0) == [("B1", "RCB", "2026-11-03", "overdue"), ("B2", "RCB", "2026-11-03", "overdue")]


def test_cli_json_keys_and_board_filter(db: str) -> None:
    in_delivery(db, DELIVERY)
    listed = collab(db, "reviews", "--at", "2026-09-29", "--within", "0", "--json", actor="audit", check=0)
    rows = listed.json()
    assert isinstance(rows, list) and len(rows) == 2
    # One row a line, as compact JSON (the C encoder's; indent= took seconds at 100,000 benefits).
    assert [json.loads(line.rstrip(",")) for line in listed.out.splitlines()[1:-1]] == rows
    assert rows[0] == {"collaboration": "SA", "benefit": "B1", "board": "RCB", "due_on": "2026-10-06", "status": "due",
                       "kind": "benefit", "title": "Savings", "owner": "owner"}
    assert collab(db, "reviews", "--at", "2026-09-29", "--board", "RCB", "--json", actor="audit", check=0).json() != []
    assert "unknown board 'Nope'" in collab(db, "reviews", "--board", "Nope", actor="audit", check=2).err
    assert "2026-10-06  due" in collab(db, "reviews", "--at", "2026-09-29", actor="audit", check=0).out
    collab(db, "reviews", "--at", "29/09/2026", actor="audit", check=2)


def test_nothing_is_reviewed_before_delivery_or_once_withdrawn(db: str) -> None:
    in_delivery(db, DELIVERY)
    with as_of("2026-09-02T09:00"):
        ready_for_delivery(db, "P2")  # in pid, benefits at RCB: not reviewed yet
    assert {r["collaboration"] for r in Reminders(open_as(db, "audit").ctx).reviews(date(2026, 9, 29))} == {"SA"}
    with as_of("2026-09-03T09:00"):
        open_as(db, "cc.dc").withdraw("SA", reason="merged into another programme")
    assert reviews(db, "2026-09-29") == []


def test_reviews_start_at_the_first_meeting_after_delivery(db: str) -> None:
    # RCB has met since September. SA enters delivery on Thu 1 Oct, after the 6 Oct meeting's reminders went
    # out (29 Sep): it owes nothing for 6 Oct, and its first review is on 3 Nov (announced on 27 Oct).
    in_delivery(db, date(2026, 10, 1), registered=DELIVERY)
    assert reviews(db, "2026-10-02", within=0) == []
    assert reviews(db, "2026-10-08", within=0) == []
    assert reviews(db, "2026-10-27", within=0) == [("B1", "RCB", "2026-11-03", "due"), ("B2", "RCB", "2026-11-03", "due")]


def test_hold_keeps_reviews_going_and_retired_or_realised_benefits_stop(db: str) -> None:
    in_delivery(db, DELIVERY)
    with as_of("2026-09-10T09:00"):
        open_as(db, "pm").hold("SA", reason="budget review")
    assert [r[0] for r in reviews(db, "2026-09-29", within=0)] == ["B1", "B2"]
    measure(db, "B1", 12, date(2026, 9, 20))  # target 12 reached: realised
    with UnitOfWork(engine_for(db)).write(history=False) as session:
        session.execute(update(Benefit).where(Benefit.code == "B2").values(retired_on=date(2026, 9, 21), retired_reason="x"))
    assert reviews(db, "2026-09-29") == []


def test_realised_either_direction(db: str) -> None:
    in_delivery(db, DELIVERY)
    with as_of("2026-09-02T09:00"):
        open_as(db, "pm").update_benefit("SA", "B2", baseline=74, target=70)  # a falling target
    measure(db, "B2", 71, date(2026, 9, 20))  # not there yet: satisfies 6 Oct, and 3 Nov is due on 28 Oct
    assert ("B2", "RCB", "2026-11-03", "due") in reviews(db, "2026-10-28", within=0)
    measure(db, "B2", 69.5, date(2026, 10, 20))  # beyond a falling target: realised
    assert [r for r in reviews(db, "2026-10-28", within=0) if r[0] == "B2"] == []


def test_an_accepted_handover_moves_the_review_to_its_board(db: str) -> None:
    in_delivery(db, DELIVERY)
    with as_of("2026-09-02T09:00"):
        open_as(db, "root").add_board("BA Performance Board", "Dorset Police", "FREQ=MONTHLY;BYDAY=3TH", "sec")
    # Accepted on 1 Oct by owner2 for the Performance Board (third Thursdays: 15 Oct 2026, 19 Nov 2026).
    hand_over(db, "B1", to="owner2", status="accepted", on=date(2026, 10, 1), board="BA Performance Board")
    hand_over(db, "B2", to="owner", status="proposed", on=date(2026, 10, 1), board="BA Performance Board")
    rows = Reminders(open_as(db, "audit").ctx).reviews(date(2026, 10, 9), within=0)
    assert [(r["benefit"], r["board"], r["due_on"], r["status"], r["owner"]) for r in rows] == [
        ("B2", "RCB", "2026-10-06", "overdue", "owner2"),  # only proposed: still RCB's, still owner2's
        ("B1", "BA Performance Board", "2026-10-15", "due", "owner2"),  # 15 Oct - 7 = 8 Oct: window open
    ]


def test_pir_is_a_review_satisfied_by_the_pir_report(db: str) -> None:
    in_delivery(db, DELIVERY)
    measure(db, "B1", 12, date(2026, 10, 2))
    measure(db, "B2", 78, date(2026, 10, 2))  # both realised: only the PIR remains
    close(db, date(2026, 10, 30))  # PIR due 30 Apr 2027 (six months), window opens 23 Apr
    pir = [(None, None, "2027-04-30", "upcoming")]
    assert reviews(db, "2027-03-26") == pir  # 35 days ahead
    assert reviews(db, "2027-03-25") == []  # 36 days ahead
    assert reviews(db, "2027-04-23") == [(None, None, "2027-04-30", "due")]
    assert reviews(db, "2027-05-01") == [(None, None, "2027-04-30", "overdue")]
    assert reviews(db, "2027-05-01", board="RCB") == []
    with as_of("2027-05-02T09:00"):
        open_as(db, "pm").add_artefact("SA", "pir-report", "PIR v1")
    assert reviews(db, "2027-05-03") == []


def test_within_must_not_be_negative(db: str) -> None:
    in_delivery(db, DELIVERY)
    with pytest.raises(BadInput):
        Reminders(open_as(db, "audit").ctx).reviews(date(2026, 9, 29), within=-1)


# -- set-based: the number of statements does not grow with the number of benefits -------------------


def add_collaborations(db: str, count: int, benefits_each: int, keys: tuple[str, ...] = ()) -> None:
    """`count` more collaborations in delivery since 2 Sep 2026, each with benefits at RCB, half with a figure;
    the first ones keyed `keys`, the rest BULKn."""
    with UnitOfWork(engine_for(db)).write() as session:
        first = session.query(Collaboration).count()
        pm = session.query(User).filter_by(name="pm").one()
        owner = session.query(User).filter_by(name="owner").one()
        board_id = session.query(Board.id).filter_by(name="RCB").scalar()
        for n in range(first, first + count):
            key = keys[n - first] if n - first < len(keys) else f"BULK{n}"
            c = Collaboration(key=key, title=f"Bulk {n}", origin="programme", manager=pm,
                              definition_name="police-collaboration", definition_version=CURRENT.version, stage="delivery",
                              stage_since=DELIVERY, created_on=DELIVERY, version=1)
            session.add(c)
            for i in range(benefits_each):
                b = Benefit(collaboration=c, code=f"B{i}", title=f"Benefit {i}", category="efficiency", unit="hours",
                            baseline=0, target=100, start_on=DELIVERY, owner_id=owner.id, board_id=board_id)
                session.add(b)
                if i % 2:
                    session.flush()
                    session.add(Measurement(benefit_id=b.id, on=date(2026, 9, 10), value=i, recorded_by_id=owner.id))
            audit.append(session, actor="pm", action="advance", recorded_at=as_datetime(DELIVERY),
                         effective_on=DELIVERY, collaboration=key, from_stage="pid", to_stage="delivery")


def as_datetime(day: date):  # type: ignore[no-untyped-def]
    from datetime import datetime, time

    from workflow.clock import LONDON

    return datetime.combine(day, time(9), LONDON)


def statements(db: str, call) -> int:  # type: ignore[no-untyped-def]
    engine = engine_for(db)
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_review_computation_is_set_based(db: str) -> None:
    in_delivery(db, DELIVERY)
    app = Reminders(open_as(db, "root").ctx)
    day, moment = date(2026, 10, 20), as_datetime(date(2026, 10, 20))
    app.reviews(day)  # the first use checks the schema revision once
    add_collaborations(db, 10, 20)  # 200 more benefits, 100 of them with a figure of 10 Sep
    small, small_remind = statements(db, lambda: app.reviews(day)), statements(db, lambda: app.remind(moment, dry_run=True))
    # On 20 Oct: the 6 Oct review was missed by B1, B2 and the 100 without a figure (overdue), and the
    # 3 Nov one is upcoming for all 202 (no figure dated after 6 Oct); 1 Dec is 42 days ahead.
    assert len(app.reviews(day)) == 102 + 202
    add_collaborations(db, 90, 20)  # 2,002 benefits in all
    assert len(app.reviews(day)) == 1002 + 2002
    assert statements(db, lambda: app.reviews(day)) == small <= 12
    # 20 Oct is also when the 6 Oct misses escalate (6 Oct + 14): 1,002 escalations rendered, still a fixed
    # number of statements.
    assert len(app.remind(moment, dry_run=True)["sent"]) == 2 * 5 + 1000
    # A dry run also reads the collaborations' keys (to batch them) and the log once per agenda.
    assert statements(db, lambda: app.remind(moment, dry_run=True)) == small_remind <= 14


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_batches_give_what_one_read_gives_in_the_same_order(db: str, batch: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read a batch of collaborations at a time, `reviews` and `remind` list what one read lists, in its order,
    even where keys begin one another (SA, SA2, SA-1: idempotency keys sort SA2 and SA-1 before SA); and the
    statements grow with the batches, not with the benefits."""
    from workflow import reminders

    in_delivery(db, DELIVERY)
    add_collaborations(db, 6, 2, keys=("SA2", "SA-1", "SA0"))  # keys that begin one another, and BULK4 to 6
    app = Reminders(open_as(db, "root").ctx)
    day, moment = date(2026, 10, 20), as_datetime(date(2026, 10, 20))
    monkeypatch.setattr(reminders, "BATCH", None)
    whole, sent, at_once = app.reviews(day), app.remind(moment, dry_run=True), statements(db, lambda: app.reviews(day))
    assert {r["collaboration"] for r in whole} == {"SA", "SA2", "SA-1", "SA0", "BULK4", "BULK5", "BULK6"}
    monkeypatch.setattr(reminders, "BATCH", batch)
    assert app.reviews(day) == whole
    assert app.remind(moment, dry_run=True) == sent
    assert [s["key"] for s in sent["sent"]] == sorted(s["key"] for s in sent["sent"])  # one kind and day here
    batches = {1: 4, 2: 2, 3: 2}[batch]  # BULK4 to 6 by `batch`, then SA, SA-1, SA0 and SA2 together
    assert statements(db, lambda: app.reviews(day)) == at_once + 1 + 4 * (batches - 1)


V3 = Path(__file__).parent / "data" / "police-collaboration-v3.yaml"  # as it was before PCCs heard of missed reviews


def test_escalations_reach_the_partners_pccs_where_the_definition_says_so(db: str) -> None:
    in_delivery(db, DELIVERY)  # on version 4: escalate_to [programme-manager, chief-officer, pcc]
    with as_of("2026-09-03T09:00"):
        open_as(db, "root").add_user("pcc.wilts", "pcc", partner="Wiltshire Police", email="pcc.wilts@example.org")
    oct_20 = datetime(2026, 10, 20, 9, 0, tzinfo=LONDON)  # 6 Oct + 14: both missed reviews escalate

    def told() -> set[str]:
        sent = Reminders(open_as(db, "root").ctx).remind(oct_20, dry_run=True)["sent"]
        return {s["user"] for s in sent if s["kind"] == "escalation"}

    assert told() == {"pm", "cc.dc", "cc.do", "pcc.dc", "pcc.do"}  # not the PCC of a force that is no partner
    with as_of("2026-09-03T09:00"):
        open_as(db, "root").add_definition(V3.read_text(), "v3.yaml")
        open_as(db, "pm").migrate("SA", "police-collaboration@3")
    assert told() == {"pm", "cc.dc", "cc.do"}
