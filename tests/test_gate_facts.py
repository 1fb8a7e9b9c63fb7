"""The facts a gate reads come from the database as it stands: the newest handover of each benefit counts."""

from datetime import date

import pytest
from sqlalchemy import select

from builders import open_as, people, ready_for_delivery
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
