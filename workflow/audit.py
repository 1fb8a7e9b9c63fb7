"""The append-only, hash-chained history: append, the events' canonical encodings, anchor (head) and export
(workflow/verification.py verifies it).

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
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from hashlib import sha256
from json.encoder import encode_basestring as _quoted  # type: ignore[attr-defined]  # json's escaping, non-ASCII as is
from operator import itemgetter
from typing import Any, cast

import rfc8785
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from workflow.errors import BadInput
from workflow.model import ChainHead, Event
from workflow.prepared import Prepared, connection_of

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
KEY_REGISTERED = "key-registered"


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
        return _quoted(value)  # the escaping json uses with ensure_ascii=False
    if type(value) is int:
        return int.__repr__(value)
    return _CANONICAL.encode(value)


_INDEX = {name: i for i, name in enumerate(FIELDS)}
_FORMAT = _INDEX["format"]
_V1_TEMPLATE = _template(FIELDS_V1)
_v1_pick = itemgetter(*(_INDEX[name] for name in sorted(FIELDS_V1)))


def v1_json(row: Sequence[Any]) -> str:
    """The format-1 encoding of the event whose FIELDS, in order, are `row` (extra trailing items are ignored)."""
    return _V1_TEMPLATE % tuple(map(_v1_value, _v1_pick(row)))


def v2_json(seq: int, format: int, collaboration: str | None, collab_prev: str | None, recorded_at: str,
            effective_on: str, actor: str, action: str, from_stage: str | None, to_stage: str | None,
            reason: str | None, payload: str, prev_hash: str, *_hash: str) -> str:
    """The format-2 encoding of an event, its FIELDS as stored: RFC 8785 writes strings exactly as json's
    encode_basestring does (escaping only " \\ and U+0000..U+001F), and the stored payload is already
    its own RFC 8785 encoding. TypeError if a field has another type than these (an edited row).
    One f-string of the members in their sorted order (the template's % formatting cost twice as much)."""
    return (f'{{"action":{_quoted(action)},"actor":{_quoted(actor)},'
            f'"collab_prev":{"null" if collab_prev is None else _quoted(collab_prev)},'
            f'"collaboration":{"null" if collaboration is None else _quoted(collaboration)},'
            f'"effective_on":{_quoted(effective_on)},"format":{int.__repr__(format)},'
            f'"from_stage":{"null" if from_stage is None else _quoted(from_stage)},"payload":{payload},'
            f'"prev_hash":{_quoted(prev_hash)},"reason":{"null" if reason is None else _quoted(reason)},'
            f'"recorded_at":{_quoted(recorded_at)},"seq":{int.__repr__(seq)},'
            f'"to_stage":{"null" if to_stage is None else _quoted(to_stage)}}}')


def _row_json(row: Sequence[Any]) -> str:
    """The canonical encoding of the event whose FIELDS, in order, are `row` (extra trailing items are ignored)."""
    return v1_json(row) if row[_FORMAT] == 1 else v2_json(*row)


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



# -- anchor and export ------------------------------------------------------------------------------------

def head(session: Session) -> dict[str, Any]:
    """The statement to quote in board minutes: the newest event's seq, hash and recorded_at."""
    seq, digest = session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).one()
    recorded_at = session.scalar(select(_EVENTS.c.recorded_at).where(_EVENTS.c.seq == seq)) if seq else None
    return {"seq": seq, "hash": digest, "recorded_at": recorded_at}


_ROW_COLUMNS = (*(_EVENTS.c[name] for name in FIELDS), _EVENTS.c.hash)


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
