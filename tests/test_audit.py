"""The history is append-only and tamper-evident: `collab audit verify` names the first bad event."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from builders import open_as, people, scoped
from conftest import collab
from tampering import tamper
from workflow.audit import FIELDS, GENESIS
from workflow.db import engine_for
from workflow.model import Event


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


# -- the format-2 links ---------------------------------------------------------------------------------

def test_each_collaboration_chains_its_own_events(history_db: str) -> None:
    app = open_as(history_db, "audit")
    sa = app.history("SA")
    assert [e["collab_prev"] for e in _rows(history_db, "SA")] == [GENESIS] + [e["hash"] for e in sa[:-1]]
    assert {e["collab_prev"] for e in _rows(history_db, None)} == {None}


def test_an_edited_link_or_format_is_named(history_db: str) -> None:
    sa = open_as(history_db, "audit").history("SA")
    second, third = sa[1]["seq"], sa[2]["seq"]
    tamper(history_db, f"UPDATE events SET collab_prev = '{GENESIS}' WHERE seq = {second}")
    assert verify(history_db, 3)["first_bad"] == second
    tamper(history_db, f"UPDATE events SET collab_prev = '{sa[0]['hash']}' WHERE seq = {second}",  # put back
           f"UPDATE events SET format = 1 WHERE seq = {third}")
    result = verify(history_db, 3)
    assert (result["first_bad"], result["problem"]) == (third, f"event {third} does not match its hash (the row was edited)")


def _rows(db: str, key: str | None) -> list[dict]:
    where = Event.collaboration.is_(None) if key is None else Event.collaboration == key
    with engine_for(db).connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(Event.seq, Event.collab_prev).where(where).order_by(Event.seq))]


# -- anchoring: audit head, verify --expect -------------------------------------------------------------

def head(db: str) -> dict:
    return collab(db, "audit", "head", "--json", actor="audit", check=0).json()  # type: ignore[return-value]


def test_head_is_the_newest_event_to_quote(history_db: str) -> None:
    newest = open_as(history_db, "audit").history(None)[-1]
    assert head(history_db) == {key: newest[key] for key in ("seq", "hash", "recorded_at")}
    text_out = collab(history_db, "audit", "head", actor="audit", check=0).out
    assert f"--expect {newest['seq']}:{newest['hash']}" in text_out


def test_a_quoted_head_still_verifies_after_later_events(history_db: str) -> None:
    quoted = head(history_db)
    open_as(history_db, "pm").update("SA", objective="Share more services")
    result = collab(history_db, "audit", "verify", "--json", "--expect", f"{quoted['seq']}:{quoted['hash']}",
                    actor="audit", check=0).json()
    assert result["ok"] and result["events"] == quoted["seq"] + 1
    assert set(result) == {"ok", "events", "first_bad", "problem", "head"}


def test_a_quoted_head_with_another_hash_fails(history_db: str) -> None:
    quoted = head(history_db)
    earlier = open_as(history_db, "audit").history(None)[2]
    result = collab(history_db, "audit", "verify", "--json", "--expect", f"{quoted['seq']}:{earlier['hash']}",
                    actor="audit", check=3).json()
    assert (result["ok"], result["first_bad"]) == (False, quoted["seq"])
    assert "not the expected" in result["problem"]


def test_a_quoted_head_catches_truncation_that_the_chain_cannot(history_db: str) -> None:
    quoted = head(history_db)
    open_as(history_db, "pm").update("SA", objective="Share more services")
    # the intruder removes the two newest events and moves the recorded head back to match: the chain
    # alone still holds, and only the tables (replayed) and the quoted head show what went
    before = open_as(history_db, "audit").history(None)[quoted["seq"] - 2]
    tamper(history_db, f"DELETE FROM events WHERE seq >= {quoted['seq']}",
           f"UPDATE chain_head SET seq = {before['seq']}, hash = '{before['hash']}'")
    replayed = collab(history_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert replayed["problem"].startswith("table collaborations, row SA, field objective:")
    result = collab(history_db, "audit", "verify", "--json", "--expect", f"{quoted['seq']}:{quoted['hash']}",
                    actor="audit", check=3).json()
    assert result["first_bad"] == quoted["seq"] and "not in the history" in result["problem"]


@pytest.mark.parametrize("expect", ["abc", "12", "0:" + "a" * 64, "-1:" + "a" * 64, "3:" + "a" * 63, "3:" + "g" * 64])
def test_a_malformed_expectation_is_bad_input(history_db: str, expect: str) -> None:
    result = collab(history_db, "audit", "verify", "--expect", expect, actor="audit", check=2)
    assert "SEQ:HASH" in result.err


# -- export ---------------------------------------------------------------------------------------------

def test_export_holds_one_collaborations_events_and_the_head(history_db: str, tmp_path: Path) -> None:
    open_as(history_db, "pm").new("SB", "Second", on=date(2019, 1, 2))
    bundle = collab(history_db, "audit", "export", "SA", actor="audit", check=0).json()
    assert isinstance(bundle, dict)
    assert (bundle["format"], bundle["collaboration"]) == ("collab-audit-export/1", "SA")
    assert bundle["head"] == head(history_db)
    history = open_as(history_db, "audit").history("SA")
    assert [e["hash"] for e in bundle["events"]] == [e["hash"] for e in history]
    assert set(bundle["events"][0]) == {*FIELDS, "hash"}
    assert bundle["events"][0]["payload"]["title"] == "Strategic Alliance"
    out = tmp_path / "sa.json"
    collab(history_db, "audit", "export", "SA", "--out", str(out), actor="audit", check=0)
    assert json.loads(out.read_text(encoding="utf-8")) == bundle


def test_exporting_an_unknown_collaboration_is_bad_input(history_db: str) -> None:
    result = collab(history_db, "audit", "export", "NOPE", actor="audit", check=2)
    assert "unknown collaboration 'NOPE'" in result.err


# -- the tables against the state the history implies ----------------------------------------------------

@pytest.mark.parametrize("statement, problem", [
    ("UPDATE collaborations SET stage = 'delivery' WHERE key = 'SA'",
     "table collaborations, row SA, field stage: the history says 'pid', the table holds 'delivery'"),
    ("UPDATE partners SET cost_share = 90 WHERE name = 'Dorset Police'",
     "table partners, row SA/Dorset Police, field cost_share: the history says None, the table holds Decimal('90.000')"),
    ("UPDATE benefits SET target = 1 WHERE code = 'B1'",
     "table benefits, row SA/B1, field target: the history says None, the table holds 1.0"),
    ("DELETE FROM lessons", "table lessons, row SA, 1 entries in the history, 0 in the table"),
    ("UPDATE users SET role = 'admin' WHERE name = 'audit'",
     "table users, row audit, field role: the history says 'auditor', the table holds 'admin'"),
])
def test_a_direct_edit_of_the_state_is_named_by_table_row_and_field(history_db: str, statement: str,
                                                                     problem: str) -> None:
    open_as(history_db, "pm").add_lesson("SA", "Agree owners at PID")
    verify(history_db, 0)
    with engine_for(history_db).begin() as connection:  # the state tables carry no trigger: only replay guards them
        connection.execute(text(statement))
    result = verify(history_db, 3)
    assert result["first_bad"] is None
    assert result["problem"] == problem


def test_a_measurement_edited_in_the_database_is_named(db: str) -> None:
    from builders import in_delivery

    people(db)
    in_delivery(db)
    open_as(db, "owner").measure("SA", "B1", 4.5, note="Q1")
    with engine_for(db).begin() as connection:
        connection.execute(text("UPDATE measurements SET value = 9"))
    result = verify(db, 3)
    assert result["problem"] == ("table measurements, row SA/B1, entry 1: the history says "
                                 f"('{date.today().isoformat()}', 4.5, 'Q1', 'owner', None, None, None), the table holds "
                                 f"('{date.today().isoformat()}', 9.0, 'Q1', 'owner', None, None, None)")


# -- text that JSON must escape, and text beyond ASCII --------------------------------------------------

AWKWARD = 'budget "review" of C:\\shared\\plans — é ü “quoted” 🚓 {"payload":[1]}'


@pytest.mark.parametrize("edit", [
    "replace(reason, 'é', 'e')",  # beyond ASCII
    "replace(reason, '\\', '/')",  # a character the encoding escapes
    "replace(reason, '\"', '''')",
    "replace(reason, ' of ', '\n\tof ')",  # control characters, escaped once in the table
    "NULL",
    "reason || ' '",
])
def test_awkward_text_verifies_and_any_edit_of_it_is_caught(history_db: str, edit: str) -> None:
    open_as(history_db, "pm").hold("SA", reason=AWKWARD)
    seq = verify(history_db, 0)["events"]
    tamper(history_db, f"UPDATE events SET reason = {edit} WHERE seq = {seq}")
    result = verify(history_db, 3)
    assert (result["first_bad"], result["problem"]) == (seq, f"event {seq} does not match its hash (the row was edited)")
    quoted = AWKWARD.replace("'", "''")
    tamper(history_db, f"UPDATE events SET reason = '{quoted}' WHERE seq = {seq}")  # put back: verifies again
    assert verify(history_db, 0)["ok"]
