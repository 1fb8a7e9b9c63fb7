"""The append-only, hash-chained stage history: append, verify, export.

Each event's hash is SHA-256 over a canonical JSON encoding of its fields and the
previous event's hash, so editing, deleting or reordering any row breaks the
chain at that row. The database refuses UPDATE and DELETE on the table as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflow.model import ChainHead, Event

GENESIS = "0" * 64
FIELDS = (
    "seq", "collaboration", "recorded_at", "effective_on", "actor", "action",
    "from_stage", "to_stage", "reason", "payload", "prev_hash",
)


def canonical_json(value: Any) -> str:
    """One byte-exact encoding for the same facts: sorted keys, no spaces, dates ISO."""
    return _CANONICAL.encode(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {value!r} in the history")


# What json.dumps(value, sort_keys=True, ...) builds on every call, built once (verify encodes a million of these).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)

# An event's canonical JSON always has the same keys in the same (sorted) order, so it is a template
# whose slots take the values' JSON: "%s" per field, filled by _json_value, in sorted-name order.
_SORTED = sorted(range(len(FIELDS)), key=FIELDS.__getitem__)
_EVENT_TEMPLATE = "{" + ",".join(f'"{FIELDS[i]}":%s' for i in _SORTED) + "}"
_in_sorted_order = itemgetter(*_SORTED)


def _json_value(value: Any) -> str:
    """A value as the canonical encoder writes it inside an object (str, int and None take the fast path)."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)  # the escaping json uses with ensure_ascii=False
    if type(value) is int:
        return int.__repr__(value)
    return _CANONICAL.encode(value)


def event_json(values: Sequence[Any]) -> str:
    """canonical_json of the event whose FIELDS, in order, are `values` (extra trailing items are ignored)."""
    return _EVENT_TEMPLATE % tuple(map(_json_value, _in_sorted_order(values)))


def event_hash(fields: dict[str, Any]) -> str:
    return _digest([fields[name] for name in FIELDS])


def _digest(values: Sequence[Any]) -> str:
    return hashlib.sha256(event_json(values).encode()).hexdigest()


_EVENTS, _HEAD = cast(Table, Event.__table__), cast(Table, ChainHead.__table__)  # declared with __tablename__
# The append writes through Core, statements built once: it runs in every use case, and the ORM's
# unit of work costs more than the two statements themselves.
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(seq=bindparam("seq"), hash=bindparam("hash"))


def append(
    session: Session,
    *,
    actor: str,
    action: str,
    recorded_at: datetime,
    effective_on: date,
    collaboration: str | None = None,
    from_stage: str | None = None,
    to_stage: str | None = None,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Event:
    """Add the next event of the chain; the caller's write transaction already holds the writer lock.

    The event and the new chain head are written at once, in the caller's transaction; the Event
    returned is a record of that row, not an object the session tracks.
    """
    head = session.get(ChainHead, 1)
    assert head is not None, "chain_head row is created by the first migration"
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "collaboration": collaboration,
        "recorded_at": recorded_at.isoformat(timespec="microseconds"),
        "effective_on": effective_on.isoformat(),
        "actor": actor,
        "action": action,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "reason": reason,
        "payload": canonical_json(payload or {}),
        "prev_hash": head.hash,
    }
    digest = event_hash(fields)
    connection = session.connection()
    connection.execute(_INSERT_EVENT, {**fields, "hash": digest})
    connection.execute(_MOVE_HEAD, {"seq": fields["seq"], "hash": digest})
    for name, value in (("seq", fields["seq"]), ("hash", digest)):
        set_committed_value(head, name, value)  # the session's copy of the head follows, without a second UPDATE
    return Event(**fields, hash=digest)


@dataclass(frozen=True)
class Verification:
    ok: bool
    events: int
    first_bad: int | None
    problem: str | None
    head: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "first_bad": self.first_bad, "problem": self.problem, "head": self.head}


STREAM_BATCH = 5000


_STREAM = (
    select(*(_EVENTS.c[name] for name in FIELDS), _EVENTS.c.hash)
    .order_by(_EVENTS.c.seq)
    .execution_options(yield_per=STREAM_BATCH)
)


def _stream(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every event's fields and hash in order, in batches: plain rows through Core (the ORM adds ~4 us a row)."""
    yield from session.connection().execute(_STREAM)


_SEQ, _PREV = FIELDS.index("seq"), FIELDS.index("prev_hash")


def verify_rows(rows: Iterable[tuple[Any, ...]], recorded_head: tuple[int, str] | None) -> Verification:
    """Recompute the chain over rows ordered by seq; name the first row that does not match."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for row in rows:  # FIELDS in order, then the stored hash
        seq, prev_hash, stored_hash = row[_SEQ], row[_PREV], row[-1]
        if seq != expected_seq:
            gap = f"event {expected_seq} is missing (the sequence jumps from {expected_seq - 1} to {seq})"
            return Verification(False, count, expected_seq, gap, expected_prev)
        if prev_hash != expected_prev:
            return Verification(False, count, seq, f"event {seq} does not follow event {seq - 1} (rows deleted, reordered or replaced)", expected_prev)
        if _digest(row) != stored_hash:
            return Verification(False, count, seq, f"event {seq} does not match its hash (the row was edited)", expected_prev)
        expected_prev, expected_seq, count = stored_hash, seq + 1, count + 1
    if recorded_head is not None and recorded_head != (count, expected_prev):
        seq, _ = recorded_head
        problem = f"the chain ends at event {count} but the recorded head is event {seq} (events at the end were deleted or added)"
        return Verification(False, count, min(seq, count) + 1, problem, expected_prev)
    return Verification(True, count, None, None, expected_prev)


def verify(session: Session) -> Verification:
    head = session.get(ChainHead, 1)
    return verify_rows(_stream(session), (head.seq, head.hash) if head else None)


EXPORT_FIELDS = ("seq", "collaboration", "recorded_at", "effective_on", "actor", "action",
                 "from_stage", "to_stage", "reason", "payload", "hash", "prev_hash")


def as_record(event: Event) -> dict[str, Any]:
    record = {name: getattr(event, name) for name in EXPORT_FIELDS}
    record["payload"] = json.loads(event.payload)
    return record
