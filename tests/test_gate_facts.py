"""The facts a gate reads come from the database as it stands: the newest handover of each benefit counts."""

from datetime import date

import pytest
from sqlalchemy import select

from builders import closed, open_as, people, ready_for_delivery
from workflow.model import Benefit, Collaboration, Handover, User
from workflow.service import Collab


@pytest.fixture
def app(db: str) -> Collab:
    people(db)
    ready_for_delivery(db)
    pm = open_as(db, "pm")
    pm.advance("SA")
    return pm


def hand_over(app: Collab, code: str, to: str, status: str, on: date) -> None:
    """A handover row as the handover use cases will write it (they are not in the service yet)."""
    with app.ctx.uow.write() as session:
        benefit = session.scalar(select(Benefit).join(Collaboration).where(Collaboration.key == "SA", Benefit.code == code))
        user = session.scalar(select(User).where(User.name == to))
        session.add(Handover(benefit_id=benefit.id, business_area="Contact centre", to_user_id=user.id,
                             status=status, proposed_on=on))


def closure_unmet(app: Collab) -> list[str]:
    [move] = [m for m in app.check("SA")["transitions"] if m["to"] == "closure"]
    return move["unmet"]


def test_closure_gate_reads_the_newest_handover_of_each_benefit(app: Collab) -> None:
    assert closure_unmet(app) == [
        "benefit B1 has no proposed handover to a business area",
        "benefit B2 has no proposed handover to a business area",
    ]
    hand_over(app, "B1", "owner", "proposed", date(2020, 1, 1))
    hand_over(app, "B2", "owner", "proposed", date(2020, 1, 1))
    hand_over(app, "B2", "owner2", "declined", date(2020, 2, 1))
    assert closure_unmet(app) == [
        "benefit B2 has no proposed handover to a business area",
    ]
    hand_over(app, "B2", "owner2", "proposed", date(2020, 3, 1))
    assert closure_unmet(app) == []
    assert app.advance("SA")["to"] == "closure"


def test_facts_read_with_a_move_are_the_facts_their_own_statements_read(db: str) -> None:
    """An advance reads its gate facts as JSON with the collaboration: the same values, types and
    order as each fact's own statement (partners with cost shares, benefits with dates, owners, boards and
    handovers, artefacts, approvals, links and lessons)."""
    from workflow import facts
    from workflow.context import _read_moving

    people(db)
    pm = closed(db)
    closed(db, "SB")  # another collaboration's facts must not be read
    pm.add_objective("SA", "O9", title="Cut costs")
    pm.link_benefit("SA", "B1", kind="objective", to="O9")
    pm.add_lesson("SA", "Agree owners early")
    open_as(db, "cc.dc").retire("SA", "B2", reason="merged into B1")
    with pm.ctx.uow.write() as session:
        moving = _read_moving(session, "SA", gated=True)[0]
        entity = session.scalar(select(Collaboration).where(Collaboration.key == "SA"))
        by_json, by_statements = facts.gate_facts(session, moving), facts.gate_facts(session, entity)
    assert moving.facts is not None
    assert by_json == by_statements and len(by_json.partners) == 2
    assert by_json.partners and by_json.benefits and by_json.artefacts and by_json.approvals and by_json.links
    assert by_json.lessons == 1 and any(b.retired for b in by_json.benefits)
    for name in ("partners", "benefits", "links"):  # the same types too (repr: Decimal('70.000'), 74.0, dates)
        assert repr(getattr(by_json, name)) == repr(getattr(by_statements, name)), name
