"""The append-only, hash-chained history: append, verify, anchor (head) and export.

Each event's hash is SHA-256 over a canonical JSON encoding of its fields, which include
the previous event's hash, so editing, deleting or reordering any row breaks the chain at
that row. The database refuses UPDATE and DELETE on the table as well. Two encodings exist
(docs/audit-format.md is the specification):

- format 1, events written before schema revision 0004: Python's sorted-key JSON, with the
  payload a JSON text inside a string; they keep their hashes;
- format 2, every event since: RFC 8785 (JSON Canonicalization Scheme), the payload a JSON
  object, and `collab_prev` linking each collaboration's events into a chain of their own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from hashlib import sha256
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from operator import itemgetter
from typing import Any, cast

import rfc8785
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from workflow.errors import BadInput
from workflow.model import ChainHead, Event, UserKey
from workflow.prepared import Prepared, connection_of
from workflow.progress import Progress, tracked

GENESIS = "0" * 64
FORMAT = 2  # what append writes
EXPORT_FORMAT = "collab-audit-export/1"
FIELDS = (  # the hashed fields of a format-2 event; also the order of the rows verify streams
    "seq", "format", "collaboration", "collab_prev", "recorded_at", "effective_on", "actor", "action",
    "from_stage", "to_stage", "reason", "payload", "prev_hash",
)
FIELDS_V1 = (
    "seq", "collaboration", "recorded_at", "effective_on", "actor", "action",
    "from_stage", "to_stage", "reason", "payload", "prev_hash",
)


# -- format 1: Python's sorted-key JSON, the payload a string -------------------------------------------

def canonical_json(value: Any) -> str:
    """The format-1 encoding: sorted keys, no spaces, non-ASCII as is, dates ISO, Decimals as strings."""
    return _CANONICAL.encode(value)


def _plain(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {value!r} in the history")


# What json.dumps(value, sort_keys=True, ...) builds on every call, built once (verify encodes a million of these).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


# -- format 2: RFC 8785 -----------------------------------------------------------------------------------

def jsonable(value: Any) -> Any:
    """`value` in JSON's own types: dates and datetimes as ISO strings, Decimals as strings, tuples as lists."""
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def canonical(value: Any) -> bytes:
    """The RFC 8785 encoding of `value` (after jsonable); ValueError if it has no such encoding
    (a non-finite float, an integer beyond 2**53, a non-string key, text that is not Unicode)."""
    return rfc8785.dumps(jsonable(value))


def payload_json(payload: Mapping[str, Any]) -> str:
    """The stored text of a format-2 payload: its RFC 8785 encoding, which the event's encoding embeds as is."""
    return canonical(payload).decode()


# -- both formats: an event's encoding, from a row of FIELDS ----------------------------------------------
# An event's encoding always has the same keys in the same order, so it is a template whose slots take the
# values' encodings (all keys are ASCII, so RFC 8785's UTF-16 order is plain sorted order).

def _template(names: Sequence[str]) -> str:
    return "{" + ",".join(f'"{name}":%s' for name in sorted(names)) + "}"


def _v1_value(value: Any) -> str:
    """A value as json's canonical encoder writes it inside an object (str, int and None take the fast path)."""
    if value is None:
        return "null"
    if type(value) is str:
        return encode_basestring(value)  # the escaping json uses with ensure_ascii=False
    if type(value) is int:
        return int.__repr__(value)
    return _CANONICAL.encode(value)


_INDEX = {name: i for i, name in enumerate(FIELDS)}
_FORMAT, _ACTOR, _ACTION, _PAYLOAD = (_INDEX[name] for name in ("format", "actor", "action", "payload"))
_V1_TEMPLATE = _template(FIELDS_V1)
_v1_pick = itemgetter(*(_INDEX[name] for name in sorted(FIELDS_V1)))
_V2_TEMPLATE = _template(FIELDS)


def _v1_json(row: Sequence[Any]) -> str:
    """The format-1 encoding of the event whose FIELDS, in order, are `row` (extra trailing items are ignored)."""
    return _V1_TEMPLATE % tuple(map(_v1_value, _v1_pick(row)))


def _v2_json(seq: int, format: int, collaboration: str | None, collab_prev: str | None, recorded_at: str,
             effective_on: str, actor: str, action: str, from_stage: str | None, to_stage: str | None,
             reason: str | None, payload: str, prev_hash: str, *_hash: str) -> str:
    """The format-2 encoding of an event, its FIELDS as stored: RFC 8785 writes strings exactly as json's
    encode_basestring does (escaping only " \\ and U+0000..U+001F), and the stored payload is already
    its own RFC 8785 encoding. TypeError if a field has another type than these (an edited row)."""
    return _V2_TEMPLATE % (
        encode_basestring(action), encode_basestring(actor),
        "null" if collab_prev is None else encode_basestring(collab_prev),
        "null" if collaboration is None else encode_basestring(collaboration),
        encode_basestring(effective_on), int.__repr__(format),
        "null" if from_stage is None else encode_basestring(from_stage),
        payload, encode_basestring(prev_hash),
        "null" if reason is None else encode_basestring(reason),
        encode_basestring(recorded_at), int.__repr__(seq),
        "null" if to_stage is None else encode_basestring(to_stage),
    )


def _row_json(row: Sequence[Any]) -> str:
    """The canonical encoding of the event whose FIELDS, in order, are `row` (extra trailing items are ignored)."""
    return _v1_json(row) if row[_FORMAT] == 1 else _v2_json(*row)


def event_json(fields: Mapping[str, Any]) -> str:
    """The canonical encoding of an event (format 1 or 2, as fields["format"] says) with its payload as stored."""
    return _row_json([fields.get(name) for name in FIELDS])


def event_hash(fields: Mapping[str, Any]) -> str:
    return sha256(event_json(fields).encode()).hexdigest()


# -- append -----------------------------------------------------------------------------------------------

_EVENTS, _HEAD = cast(Table, Event.__table__), cast(Table, ChainHead.__table__)  # declared with __tablename__
# The append writes on the driver, statements compiled once: it runs in every use case, and the ORM's
# unit of work, even Core's execution, costs more than the statements themselves.
_INSERT_EVENT = Prepared(insert(_EVENTS))
_MOVE_HEAD = Prepared(update(_HEAD).where(_HEAD.c.id == 1))
_HEAD_KEY, _NEWEST_KEY = "chain_head", "newest_event"  # in Session.info
_READ_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)
_LATEST_OF = (select(_EVENTS.c.hash).where(_EVENTS.c.collaboration == bindparam("key"))
              .order_by(_EVENTS.c.seq.desc()).limit(1))


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
    """Add the next event of the chain, in format 2; the caller's write transaction already holds the writer lock.

    The event and the new chain head are written at once, in the caller's transaction; the Event
    returned is a record of that row, not an object the session tracks.
    """
    return Event(**append_all(session, [{
        "actor": actor, "action": action, "recorded_at": recorded_at, "effective_on": effective_on,
        "collaboration": collaboration, "from_stage": from_stage, "to_stage": to_stage, "reason": reason,
        "payload": payload}])[0])


def append_all(session: Session, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """`append` for many events (each a mapping of its keywords), chained in order and written with one
    INSERT of their rows and one UPDATE of the chain head; returns the rows written."""
    if not events:
        return []
    connection = connection_of(session)
    seq, prev = session.info.get(_HEAD_KEY) or connection.execute(_READ_HEAD).one()
    newest: dict[str, str | None] = session.info.setdefault(_NEWEST_KEY, {})
    rows: list[dict[str, Any]] = []
    for event in events:
        collaboration, action = event.get("collaboration"), event["action"]
        collab_prev = None
        if collaboration is not None:
            if collaboration not in newest:
                newest[collaboration] = connection.execute(_LATEST_OF, {"key": collaboration}).scalar()
            collab_prev = newest[collaboration] or GENESIS
        try:
            fields: dict[str, Any] = {
                "seq": seq + 1, "format": FORMAT, "collaboration": collaboration, "collab_prev": collab_prev,
                "recorded_at": event["recorded_at"].isoformat(timespec="microseconds"),
                "effective_on": event["effective_on"].isoformat(), "actor": event["actor"], "action": action,
                "from_stage": event.get("from_stage"), "to_stage": event.get("to_stage"), "reason": event.get("reason"),
                "payload": payload_json(event.get("payload") or {}), "prev_hash": prev,
            }
            digest = event_hash(fields)
        except ValueError as error:  # includes UnicodeEncodeError: text with lone surrogates
            raise BadInput(f"cannot record {action} in the history: {error}") from None
        rows.append({**fields, "hash": digest})
        seq, prev = seq + 1, digest
        if collaboration is not None:
            newest[collaboration] = digest
    _INSERT_EVENT.write(connection, rows)
    _MOVE_HEAD.write(connection, [{"seq": seq, "hash": prev}])
    session.info[_HEAD_KEY] = seq, prev  # where this transaction's next append continues
    return rows


def hold_head(session: Session, seq: int, digest: str, newest: Mapping[str, str | None]) -> None:
    """Keep the chain head and collaborations' newest event hashes (None: no event yet), read under the writer's
    lock with the rest of a use case's first read, for the appends of this transaction: they then read neither."""
    session.info[_HEAD_KEY] = seq, digest
    session.info.setdefault(_NEWEST_KEY, {}).update(newest)


# -- verify -----------------------------------------------------------------------------------------------

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
_ROW_COLUMNS = (*(_EVENTS.c[name] for name in FIELDS), _EVENTS.c.hash)
_STREAM = select(*_ROW_COLUMNS).order_by(_EVENTS.c.seq).execution_options(yield_per=STREAM_BATCH)
_STREAM_SQLITE = f"SELECT {', '.join((*FIELDS, 'hash'))} FROM events ORDER BY seq"
_SIGNED = '"signature":'  # in the payload text of every event that carries a signature (and of few others)
KEY_REGISTERED = "key-registered"


def _stream(session: Session) -> Iterator[tuple[Any, ...]]:
    """Every event's fields and hash in order, in batches: plain rows through Core (the ORM adds ~4 us a row);
    on SQLite the driver's own tuples, in the same transaction (Core's rows add a third to the fetch)."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield from connection.execute(_STREAM)
        return
    driver: Any = connection.connection.driver_connection  # sqlite3.Connection
    cursor = driver.execute(_STREAM_SQLITE)
    try:
        while batch := cursor.fetchmany(STREAM_BATCH):
            yield from batch
    finally:
        cursor.close()


def verify_rows(rows: Iterable[tuple[Any, ...]], recorded_head: tuple[int, str] | None,
                expect: tuple[int, str] | None = None, keys: dict[str, set[str]] | None = None) -> Verification:
    """Recompute the chain over rows ordered by seq; name the first row that does not match.

    Also checks each collaboration's own chain (format 2), every signature against the keys its signer
    registered earlier in the chain (collected into `keys`, user -> public keys), and that event
    expect[0] is present with hash expect[1].
    """
    expected_prev, expected_seq, count = GENESIS, 1, 0
    latest: dict[str, str] = {}  # each collaboration's newest hash so far
    keys = {} if keys is None else keys
    expect_seq, expect_hash = expect or (0, "")

    def failed(seq: int, problem: str) -> Verification:
        return Verification(False, count, seq, problem, expected_prev)

    for row in rows:  # FIELDS in order, then the stored hash
        seq, fmt, key, collab_prev, recorded, effective, actor, action, source, target, reason, payload, prev, stored = row
        if seq != expected_seq:
            return failed(expected_seq, f"event {expected_seq} is missing (the sequence jumps from {expected_seq - 1} to {seq})")
        if prev != expected_prev:
            return failed(seq, f"event {seq} does not follow event {seq - 1} (rows deleted, reordered or replaced)")
        try:
            if fmt == 2:
                text = _v2_json(seq, fmt, key, collab_prev, recorded, effective, actor, action, source, target, reason,
                                payload, prev)
            elif fmt == 1:
                text = _v1_json(row)
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
            problem = _signing_problem(row, keys)
            if problem:
                return failed(seq, f"event {seq}: {problem}")
        if seq == expect_seq and stored != expect_hash:
            return failed(seq, f"event {seq} has hash {stored}, not the expected {expect_hash}")
        if key is not None:
            latest[key] = stored
        expected_prev, expected_seq, count = stored, seq + 1, count + 1
    if recorded_head is not None and recorded_head != (count, expected_prev):
        seq = recorded_head[0]
        return failed(min(seq, count) + 1, f"the chain ends at event {count} but the recorded head is event {seq} "
                                           "(events at the end were deleted or added)")
    if expect_seq > count:
        return failed(expect_seq, f"event {expect_seq} is not in the history, which ends at event {count} "
                                  "(events at the end were deleted, or SEQ is wrong)")
    return Verification(True, count, None, None, expected_prev)


def _signing_problem(row: Sequence[Any], keys: dict[str, set[str]]) -> str | None:
    """Register a key-registered event's key; check a signed event's signature against its actor's keys."""
    payload, actor = json.loads(row[_PAYLOAD]), row[_ACTOR]
    if row[_ACTION] == KEY_REGISTERED:
        keys.setdefault(actor, set()).add(payload.get("public_key"))
    if "signature" not in payload:
        return None
    from workflow.signing import signature_problem

    return signature_problem(payload["signature"], actor, keys.get(actor, set()))


def verify(session: Session, expect: tuple[int, str] | None = None, progress: Progress | None = None) -> Verification:
    """The history against its chain, head, `expect` (SEQ, HASH) and registered keys; `progress` hears of the walk."""
    head = session.get(ChainHead, 1)
    keys: dict[str, set[str]] = {}
    from workflow import replay  # only verify replays the history
    replaying = replay.Replaying()  # one read of the history for the chain and the replay
    rows = tracked(replaying.rows(_stream(session)), head.seq if head else 0, progress, every=500)
    result = verify_rows(rows, (head.seq, head.hash) if head else None, expect, keys)
    if not result.ok:
        return result
    problem = _key_table_problem(session, keys) or replaying.problem or replay.divergence(session, replaying.state)
    return Verification(False, result.events, None, problem, result.head) if problem else result


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


# -- anchor and export ------------------------------------------------------------------------------------

def head(session: Session) -> dict[str, Any]:
    """The statement to quote in board minutes: the newest event's seq, hash and recorded_at."""
    seq, digest = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).one()
    recorded_at = session.scalar(select(_EVENTS.c.recorded_at).where(_EVENTS.c.seq == seq)) if seq else None
    return {"seq": seq, "hash": digest, "recorded_at": recorded_at}


def export(session: Session, key: str) -> dict[str, Any]:
    """One collaboration's events, each with every hashed field and its hash, and the global head at export."""
    top = head(session)  # read first: on PostgreSQL each statement sees its own snapshot
    rows = session.connection().execute(
        select(*_ROW_COLUMNS).where(_EVENTS.c.collaboration == key, _EVENTS.c.seq <= top["seq"]).order_by(_EVENTS.c.seq))
    events = [dict(zip((*FIELDS, "hash"), row)) for row in rows]
    for event in events:
        event["payload"] = json.loads(event["payload"])
    return {"format": EXPORT_FORMAT, "collaboration": key, "events": events, "head": top}


EXPORT_FIELDS = ("seq", "collaboration", "recorded_at", "effective_on", "actor", "action",
                 "from_stage", "to_stage", "reason", "payload", "hash", "prev_hash")


def as_record(event: Event) -> dict[str, Any]:
    record = {name: getattr(event, name) for name in EXPORT_FIELDS}
    record["payload"] = json.loads(event.payload)
    return record
