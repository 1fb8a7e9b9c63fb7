"""How many SQL statements an audited stage move sends (behaviour, not timing): the acting user and the definition
are read once per Collab, a hold reads none of the gate facts, and a hold or resume is at most six statements,
BEGIN and COMMIT included (PostgreSQL sends no BEGIN but locks the chain head first), as is an advance through
a gate, which reads the gate's facts with the collaboration. The portfolio report reads
a fixed number of statements whatever the number of collaborations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import event

from builders import in_delivery, open_as, people, scoped
from workflow.db import engine_for


@contextmanager
def statements(db: str) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile, COMMIT included (the driver commits without a statement)."""
    sent: list[str] = []
    engine = engine_for(db)

    def executed(_connection, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        sent.append(statement)

    def committed(_connection) -> None:  # type: ignore[no-untyped-def]
        sent.append("COMMIT")

    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)


LIMIT = 6


def sent_by(db: str, move: Callable[[], object]) -> list[str]:
    with statements(db) as sent:
        move()
    return sent


def test_hold_and_resume_take_at_most_six_statements_and_read_no_gate_facts(db: str) -> None:
    people(db)
    pm = scoped(db)
    pm.hold("SA", reason="budget review")  # the first use case of this Collab reads its user and the definition
    pm.resume("SA")
    for _ in range(2):
        for move in (lambda: pm.hold("SA", reason="budget review"), lambda: pm.resume("SA")):
            sent = sent_by(db, move)
            assert len(sent) <= LIMIT, sent
            assert sent[-1] == "COMMIT"
            assert not [s for s in sent if "FROM users" in s or "FROM definition_versions" in s or "partners" in s]
    assert open_as(db, "audit").verify().ok


def test_a_gated_advance_reads_only_the_facts_its_gate_needs_once(db: str) -> None:
    people(db)
    pm = scoped(db)
    scoped(db, "SB")
    pm.advance("SB")
    sent = sent_by(db, lambda: pm.advance("SA"))
    reads = [s.split("FROM", 1)[1].split()[0] for s in sent if s.startswith("SELECT") and "chain_head" not in s]
    # besides the collaboration with the head: SA has no approval yet, so none can be stale and none is read
    # the gate's facts come with the collaboration, as JSON
    assert reads == [] and any("json_group_array" in s or "json_agg" in s for s in sent), sent
    assert len(sent) <= LIMIT, sent
    assert open_as(db, "pm").show("SA")["stage"] == "pid"


def test_a_move_with_effects_writes_them_with_its_stage_in_one_update(db: str) -> None:
    people(db)
    pm = in_delivery(db)
    for code in ("B1", "B2"):
        pm.handover("SA", code, business_area="Finance", to="owner2")
    sent = sent_by(db, lambda: pm.advance("SA", on=date(2023, 3, 31)))  # close-programme and schedule-pir
    updates = [s for s in sent if s.startswith("UPDATE collaborations")]
    assert len(updates) == 1 and {"closed_on", "pir_due", "stage"} <= set(updates[0].replace("=", " ").split()), updates
    shown = open_as(db, "pm").show("SA")
    assert (shown["stage"], shown["closed_on"], shown["pir_due"]) == ("closure", "2023-03-31", "2023-09-30")  # six months on
    assert open_as(db, "audit").verify().ok


def test_the_portfolio_reads_a_fixed_number_of_statements_whatever_the_number_of_collaborations(db: str) -> None:
    from workflow.reports import portfolio_report

    people(db)
    in_delivery(db, "SD")  # approvals, artefacts and benefit profiles to read
    keys = [f"S{n:02d}" for n in range(30)]
    counts = []
    for first, last in ((0, 3), (3, 30)):
        for n, key in enumerate(keys[first:last], first):
            pm = scoped(db, key)
            if n % 3 == 0:
                pm.hold(key, reason="budget review")  # a stage held from
        with statements(db) as sent:
            report = portfolio_report(open_as(db, "pm").ctx)
        assert len(report["collaborations"]) == last + 1
        counts.append(len(sent))
    assert counts[0] == counts[1], counts
