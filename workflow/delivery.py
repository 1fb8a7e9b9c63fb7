"""The delivery log: every reminder occurrence is sent once, whatever restarts, overlaps or second workers occur.

Each occurrence has an idempotency key (kind, collaboration, benefit or meeting, date, recipient)
and the log holds it under a unique constraint. One message at a time goes through:

1. **Look** (one read for the whole run): keys already ``sent`` are counted and skipped; keys
   claimed by another worker whose lease is still running are left to it.
2. **Claim**, in a short write transaction: ``INSERT ... ON CONFLICT (key) DO NOTHING`` with state
   ``claimed``, a fresh random token, ``claimed_at`` and the ``claimer`` (host:pid). If the row
   already existed it is taken over only when it is still ``claimed`` and either released (token
   NULL, after a failed send), or its claimer is a process of this host that is no longer alive,
   or it is older than the lease (its worker died on another host). On PostgreSQL that takeover reads the row
   ``FOR UPDATE SKIP LOCKED``, so two workers never take over the same row and neither waits for
   the other; two inserts of one new key queue on the unique index and the second does nothing.
   On SQLite the transaction is ``BEGIN IMMEDIATE``: one writer at a time. Commit.
3. **Send**, outside any transaction.
4. **Mark**, in a second short transaction: ``sent`` and ``sent_at``, only while the row still
   carries this claim's token. An escalation's history event is appended in this same
   transaction, so it exists exactly when the delivery is recorded as sent.

A failed send releases the claim (token NULL, ``last_error``); the next run retries it while the
occurrence is still due. A crash between 3 and 4 leaves a claim whose token nobody holds: a later run
on the same host sees that its claimer is dead and takes it over at once (on another host, once the
lease has run out: ten minutes, far beyond the SMTP timeout), and sends that one message again. That is the only duplicate the protocol allows, and it carries the same
Message-ID (derived from the key) so mail clients fold the two together.

Claims and marks append no history, so on PostgreSQL they do not queue behind the history's
chain-head lock; only a mark that records an escalation takes it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from notifications.channels import Channel, Message
from workflow.db import UnitOfWork
from workflow.model import Delivery

LEASE = timedelta(minutes=10)
CLAIMED, SENT = "claimed", "sent"
KEYS_AT_ONCE = 5_000  # bound parameters a statement (SQLite takes 32,766)


class Entry(NamedTuple):  # a named tuple: built once per message of a run, 100,000s of them
    """One occurrence addressed to one person: what the log records about it."""

    key: str
    kind: str
    collaboration: str | None
    recipient: str  # the user's name
    address: str  # their email address
    due_on: date


@dataclass(frozen=True)
class Outgoing:
    entry: Entry
    message: Message
    after_sent: Callable[[Session], None] | None = None  # runs in the transaction that marks it sent


@dataclass(frozen=True)
class Batch:
    """Several occurrences to one person in one message (escalations): each is claimed, logged and marked on its
    own, and the message, composed once the claims are in, lists only those this run claimed."""

    parts: tuple[Outgoing, ...]
    compose: Callable[[Sequence[Outgoing]], Message]


@dataclass
class Outcome:
    sent: list[Outgoing] = field(default_factory=list)
    failed: list[tuple[Outgoing, str]] = field(default_factory=list)
    taken: int = 0  # claimed by another worker between our look and our claim


@dataclass(frozen=True)
class Backlog:
    """The result of the look: which entries to try, and how many need nothing from us."""

    pending: list[Entry]
    already_sent: int
    busy: int  # claimed by a live worker


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _dead(claimer: str | None) -> bool:
    """Whether `claimer` (host:pid) is a process of this host that has ended (a zombie counts as ended).
    A claimer on another host, or of unknown form, is taken to be alive: only its lease frees its claim."""
    host, _, pid = (claimer or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, as another user
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return False


class DeliveryLog:
    """Claims, marks and releases rows of the delivery log; time here is real time (leases), not the business clock."""

    def __init__(self, uow: UnitOfWork, *, lease: timedelta = LEASE, now: Callable[[], datetime] = _utc_now) -> None:
        self.uow = uow
        self.lease = lease
        self.now = now

    def backlog(self, entries: Sequence[Entry]) -> Backlog:
        """Split `entries` by what the log says of them, looked up by key (a run's entries are one batch of many:
        reading all the log's rows of their due dates for each batch grew with the log)."""
        if not entries:
            return Backlog([], 0, 0)
        free = or_(Delivery.token.is_(None), Delivery.claimed_at < self.now() - self.lease)
        logged: dict[str, tuple[str, bool]] = {}
        with self.uow.read() as session:
            for start in range(0, len(entries), KEYS_AT_ONCE):
                keys = [e.key for e in entries[start:start + KEYS_AT_ONCE]]
                query = select(Delivery.key, Delivery.state, free, Delivery.claimer).where(Delivery.key.in_(keys))
                logged.update((key, (state, bool(is_free) or _dead(claimer)))
                              for key, state, is_free, claimer in session.execute(query))
        pending, sent, busy = [], 0, 0
        for entry in entries:
            state, is_free = logged.get(entry.key, (None, True))
            if state == SENT:
                sent += 1
            elif is_free:
                pending.append(entry)
            else:
                busy += 1
        return Backlog(pending, sent, busy)

    def claim(self, entry: Entry, subject: str) -> str | None:
        """A token if this caller may send `entry` now; None if it is sent or another worker holds it."""
        token, claimer = uuid.uuid4().hex, this_process()
        now = self.now()
        with self.uow.write(history=False) as session:
            inserted = session.execute(
                _insert(session).values(
                    key=entry.key, kind=entry.kind, collaboration=entry.collaboration, recipient=entry.recipient,
                    address=entry.address, subject=subject, due_on=entry.due_on, state=CLAIMED, token=token,
                    attempts=1, claimed_at=now, claimer=claimer,
                ).on_conflict_do_nothing(index_elements=["key"]).returning(Delivery.id)
            ).first()
            if inserted is not None:
                return token
            found = session.execute(
                select(Delivery, or_(Delivery.token.is_(None), Delivery.claimed_at < now - self.lease))
                .where(Delivery.key == entry.key, Delivery.state == CLAIMED)
                .with_for_update(skip_locked=True)
            ).first()
            if found is None or not (found[1] or _dead(found[0].claimer)):
                return None
            row = found[0]
            row.token, row.claimed_at, row.claimer = token, now, claimer
            row.attempts, row.subject = row.attempts + 1, subject
            return token

    def mark_sent(self, entry: Entry, token: str, after_sent: Callable[[Session], None] | None = None) -> bool:
        """Record the send; False if the claim was lost meanwhile (its lease ran out and another run took it over,
        and that run records it)."""
        with self.uow.write(history=after_sent is not None) as session:
            row = session.scalar(select(Delivery).where(Delivery.key == entry.key, Delivery.token == token,
                                                        Delivery.state == CLAIMED))
            if row is None:
                return False
            row.state, row.sent_at, row.last_error = SENT, self.now(), None
            if after_sent is not None:
                after_sent(session)
            return True

    def release(self, entry: Entry, token: str, error: str) -> None:
        """Give a claim back after a failed send, so that the next run retries at once."""
        with self.uow.write(history=False) as session:
            session.execute(update(Delivery).where(Delivery.key == entry.key, Delivery.token == token)
                            .values(token=None, last_error=error[:2000]))


def _insert(session: Session):  # type: ignore[no-untyped-def]
    """INSERT with ON CONFLICT DO NOTHING ... RETURNING, in the dialect of the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
        return insert(Delivery)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert
    return sqlite_insert(Delivery)


def deliver(log: DeliveryLog, channel: Channel, outgoing: Iterable[Outgoing | Batch]) -> Outcome:
    """Claim, send and mark each message in turn; a failed send is released and reported, the rest go on."""
    outcome = Outcome()
    for item in outgoing:
        batch = item if isinstance(item, Batch) else Batch((item,), lambda parts: parts[0].message)
        claims = [(part, log.claim(part.entry, part.message.subject)) for part in batch.parts]
        claimed = [(part, token) for part, token in claims if token is not None]
        outcome.taken += len(claims) - len(claimed)
        if not claimed:
            continue
        try:
            channel.send(batch.compose([part for part, _ in claimed]))
        except Exception as error:  # noqa: BLE001 - any channel failure: give the claims back, report them, go on
            reason = f"{type(error).__name__}: {error}"
            for part, token in claimed:
                log.release(part.entry, token, reason)
                outcome.failed.append((part, reason))
            continue
        for part, token in claimed:
            log.mark_sent(part.entry, token, part.after_sent)  # False only if this send outlived its lease
            outcome.sent.append(part)
    return outcome
