"""The history is append-only and tamper-evident: `collab audit verify` names the first bad event."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from builders import open_as, people, scoped
from conftest import collab
from tampering import tamper
from workflow.db import engine_for


@pytest.fixture
def history_db(db: str) -> str:
    people(db)
    scoped(db).advance("SA")
    return db


def verify(db: str, code: int) -> dict:
    return collab(db, "audit", "verify", "--json", actor="audit", check=code).json()  # type: ignore[return-value]


def test_untouched_history_verifies_and_reports_its_head(history_db: str) -> None:
    result = verify(history_db, 0)
    events = open_as(history_db, "audit").history(None)
    assert result == {"ok": True, "events": len(events), "first_bad": None, "problem": None, "head": events[-1]["hash"]}
    assert all(e["prev_hash"] == p["hash"] for p, e in zip(events, events[1:]))


@pytest.mark.parametrize("statement", ["UPDATE events SET actor = 'someone' WHERE seq = 3", "DELETE FROM events WHERE seq = 3"])
def test_the_database_refuses_rewrites(history_db: str, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        with engine_for(history_db).begin() as connection:
            connection.execute(text(statement))


def test_an_edited_row_is_named(history_db: str) -> None:
    tamper(history_db, "UPDATE events SET reason = 'nothing to see' WHERE seq = 5")
    result = verify(history_db, 3)
    assert (result["ok"], result["first_bad"]) == (False, 5)
    assert "event 5 does not match its hash" in result["problem"]
    plain = collab(history_db, "audit", "verify", actor="audit", check=3)
    assert "event 5" in plain.err


def test_a_deleted_row_is_named(history_db: str) -> None:
    tamper(history_db, "DELETE FROM events WHERE seq = 4")
    result = verify(history_db, 3)
    assert result["first_bad"] == 4
    assert "event 4 is missing" in result["problem"]


def test_reordered_rows_are_named(history_db: str) -> None:
    # swap the contents of events 6 and 7 (keeping each row's seq): the chain breaks at 6
    columns = "collaboration, recorded_at, effective_on, actor, action, from_stage, to_stage, reason, payload, prev_hash, hash"
    sets = ", ".join(f"{c} = (SELECT {c} FROM events WHERE seq = 7)" for c in columns.split(", "))
    tamper(history_db,
           "CREATE TABLE keep AS SELECT * FROM events WHERE seq = 6",
           f"UPDATE events SET {sets} WHERE seq = 6",
           "UPDATE events SET " + ", ".join(f"{c} = (SELECT {c} FROM keep)" for c in columns.split(", ")) + " WHERE seq = 7",
           "DROP TABLE keep")
    assert verify(history_db, 3)["first_bad"] == 6


def test_a_deleted_newest_row_is_detected(history_db: str) -> None:
    last = len(open_as(history_db, "audit").history(None))
    tamper(history_db, f"DELETE FROM events WHERE seq = {last}")
    result = verify(history_db, 3)
    assert result["first_bad"] == last
    assert "deleted" in result["problem"]


def test_history_exports_oldest_first_with_the_contract_keys(history_db: str) -> None:
    rows = collab(history_db, "history", "SA", "--json", actor="audit", check=0).json()
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    for key in ("seq", "recorded_at", "effective_on", "actor", "action", "from_stage", "to_stage", "reason", "hash", "prev_hash"):
        assert key in rows[0]
    assert rows[-1]["action"] == "advance" and (rows[-1]["from_stage"], rows[-1]["to_stage"]) == ("scoping", "pid")
    csv_lines = collab(history_db, "history", "SA", "--csv", actor="audit", check=0).out.splitlines()
    assert csv_lines[0].startswith("seq,recorded_at,effective_on,collaboration,actor,action")
    assert len(csv_lines) == len(rows) + 1
    registered = next(r for r in rows if r["action"] == "registered")
    assert registered["payload"]["title"] == "Strategic Alliance"


def test_history_filters(history_db: str) -> None:
    everything = collab(history_db, "history", "--all", "--json", actor="audit", check=0).json()
    assert {e["action"] for e in everything} >= {"user-added", "board-added", "registered", "advance"}
    by_pcc = collab(history_db, "history", "--all", "--actor", "root", "--json", actor="audit", check=0).json()
    assert by_pcc and all(e["actor"] == "root" for e in by_pcc)
    advances = collab(history_db, "history", "SA", "--action", "advance", "--json", actor="audit", check=0).json()
    assert [e["to_stage"] for e in advances] == ["pid"]
    assert collab(history_db, "history", "SA", "--since", "2999-01-01", "--json", actor="audit", check=0).json() == []
    collab(history_db, "history", actor="audit", check=2)
