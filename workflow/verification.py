"""Verify the history (docs/audit-format.md, section 6): recompute the hash chain, check every signature against
the keys its signer had registered by then, and replay the events into the state they imply to compare with the
tables.

A large programme's history runs to millions of events and `collab audit verify` walks all of them, so the walk is
one loop over the driver's own rows, streamed in batches from one read of the table: SQLAlchemy's row processing,
a generator per stage and a function call per check would each cost more than the hash itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import replay
from workflow.audit import FIELDS, GENESIS, KEY_REGISTERED, v1_json, v2_json
from workflow.model import ChainHead, UserKey
from workflow.progress import Progress


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad: int | None
    problem: str | None
    head: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_bad": self.first_bad, "problem": self.problem, "head": self.head}


STREAM_BATCH = 1000  # rows a fetch (a smaller batch stays in the CPU's caches); the progress callback hears once a batch
_STREAM = f"SELECT {', '.join((*FIELDS, 'hash'))} FROM events ORDER BY seq"
_SIGNED = '"signature":'  # in the payload text of every event that carries a signature (and of few others)


def verify(session: Session, expect: tuple[int, str] | None = None, progress: Progress | None = None) -> Verification:
    """The history against its chain, head, `expect` (SEQ, HASH) and registered keys, then the tables against the
    state the history implies; `progress` hears of the walk."""
    head = session.get(ChainHead, 1)
    keys: dict[str, set[str]] = {}
    state = replay.State()
    result, problem = walk(_batches(session), (head.seq, head.hash) if head else None, expect, keys, state, progress)
    if not result.ok:
        return result
    problem = problem or _key_table_problem(session, keys) or replay.divergence(session, state)
    return Verification(False, result.events, None, problem, result.head) if problem else result


def _batches(session: Session) -> Iterator[list[tuple[Any, ...]]]:
    """Every event's FIELDS and hash in seq order, in batches of the driver's own tuples (Core's rows would add
    half again to the fetch), in the session's transaction; on PostgreSQL through a server-side cursor, so that
    memory stays flat however long the history."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection  # sqlite3 or psycopg
    cursor = driver.cursor() if connection.dialect.name == "sqlite" else driver.cursor(name="collab_verify")
    try:
        cursor.execute(_STREAM)
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield batch
    finally:
        cursor.close()


def walk(batches: Iterator[list[tuple[Any, ...]]], recorded_head: tuple[int, str] | None,
         expect: tuple[int, str] | None, keys: dict[str, set[str]], state: replay.State,
         progress: Progress | None = None) -> tuple[Verification, str | None]:
    """Recompute the chain over rows ordered by seq (FIELDS, then the stored hash) and name the first row that does
    not match; replay each row into `state` as it passes.

    Also checks each collaboration's own chain (format 2), every signature against the keys its signer registered
    earlier in the chain (collected into `keys`, user -> public keys), and that event expect[0] is present with hash
    expect[1]. Returns the verdict on the chain and the first event the replay could not apply (None if none):
    replay stops there, and the chain is checked to its end.
    """
    expected_prev, expected_seq, count = GENESIS, 1, 0
    latest: dict[str, str] = {}  # each collaboration's newest hash so far
    expect_seq, expect_hash = expect or (0, "")
    total = recorded_head[0] if recorded_head else 0
    apply, facts, unapplied = replay.apply, replay.facts, None

    def failed(seq: int, problem: str) -> tuple[Verification, str | None]:
        return Verification(False, count, seq, problem, expected_prev), unapplied

    for batch in batches:
        for row in batch:
            seq, fmt, key, collab_prev, recorded, on, actor, action, source, target, reason, payload, prev, stored = row
            if seq != expected_seq:
                return failed(expected_seq,
                              f"event {expected_seq} is missing (the sequence jumps from {expected_seq - 1} to {seq})")
            if prev != expected_prev:
                return failed(seq, f"event {seq} does not follow event {seq - 1} (rows deleted, reordered or replaced)")
            try:
                if fmt == 2:
                    text = v2_json(seq, fmt, key, collab_prev, recorded, on, actor, action, source, target, reason,
                                   payload, prev)
                elif fmt == 1:
                    text = v1_json(row)
                else:
                    return failed(seq, f"event {seq} has an unknown format {fmt!r}")
                matches = sha256(text.encode()).hexdigest() == stored
            except (TypeError, ValueError):  # a field of a type collab never writes there
                matches = False
            if not matches:
                return failed(seq, f"event {seq} does not match its hash (the row was edited)")
            if fmt == 2 and collab_prev != (None if key is None else latest.get(key, GENESIS)):
                return failed(seq, f"event {seq} does not follow the previous event of collaboration {key}")
            if action == KEY_REGISTERED or _SIGNED in payload:
                problem = _signing_problem(actor, action, payload, keys)
                if problem:
                    return failed(seq, f"event {seq}: {problem}")
            if seq == expect_seq and stored != expect_hash:
                return failed(seq, f"event {seq} has hash {stored}, not the expected {expect_hash}")
            if key is not None:
                latest[key] = stored
            expected_prev, expected_seq, count = stored, seq + 1, count + 1
            if unapplied is None:
                try:
                    apply(state, key, on, actor, action, source, target, facts(payload, reason))
                except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
                    unapplied = (f"event {seq} ({action}) does not describe a change collab makes: "
                                 f"{type(error).__name__} {error}")
        if progress is not None:
            progress(count, total)
    if recorded_head is not None and recorded_head != (count, expected_prev):
        seq = recorded_head[0]
        return failed(min(seq, count) + 1, f"the chain ends at event {count} but the recorded head is event {seq} "
                                           "(events at the end were deleted or added)")
    if expect_seq > count:
        return failed(expect_seq, f"event {expect_seq} is not in the history, which ends at event {count} "
                                  "(events at the end were deleted, or SEQ is wrong)")
    return Verification(True, count, None, None, expected_prev), unapplied


def _signing_problem(actor: str, action: str, payload: str, keys: dict[str, set[str]]) -> str | None:
    """Register a key-registered event's key; check a signed event's signature against its actor's keys."""
    facts = json.loads(payload)
    if action == KEY_REGISTERED:
        keys.setdefault(actor, set()).add(facts.get("public_key"))
    if "signature" not in facts:
        return None
    from workflow.signing import signature_problem

    return signature_problem(facts["signature"], actor, keys.get(actor, set()))


def _key_table_problem(session: Session, keys: dict[str, set[str]]) -> str | None:
    """The user_keys table must hold exactly the keys the history registered."""
    table = {(user, key): fingerprint for user, key, fingerprint in session.execute(
        select(UserKey.user_name, UserKey.public_key, UserKey.fingerprint))}
    history = {(user, key) for user, registered in keys.items() for key in registered}
    unexplained, missing = sorted(set(table) - history), sorted(history - set(table))
    if unexplained:
        user, key = unexplained[0]
        return f"user_keys row of {user} (key {table[user, key]}) has no key-registered event in the history"
    if missing:
        user, key = missing[0]
        return f"user_keys has no row for the key {key} that {user} registered in the history"
    return None
