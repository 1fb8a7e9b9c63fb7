"""Review reminders and escalations: what is due at a moment, rendered and delivered exactly once.

Everything is computed from the database at the moment asked (Europe/London); an occurrence is due
from the start of its day:

- ``agenda``: to the board's secretary, from ``agenda_days_before`` days before a meeting with reviews
  due at it until the meeting; one agenda listing them all, with an iCalendar event for the meeting.
- ``measurement-request``: to the benefit's owner, in the same window, while the review is unsatisfied.
- ``escalation``: ``escalation_grace_days`` after a meeting whose review is still unsatisfied, to the
  programme manager and the chief officers of the collaboration's partners.
- ``pir-reminder``: to the programme manager, from ``agenda_days_before`` days before ``pir_due`` until
  then, while no ``pir-report`` is recorded; ``pir-escalation``: ``escalation_grace_days`` after it, to
  the manager and the chief officers.

Escalations are still sent up to LOOKBACK_DAYS after they fell due, and agendas and requests until the meeting,
so a worker that was down catches up on its next run; older ones are left alone, since news of a review missed
months ago helps no one and a newer escalation will have been sent. A person owed several gets one message.

The delivery log (workflow/delivery.py) makes each occurrence go out once. Reminders are operational and live
only there. An escalation is a governance fact (the collaboration's leaders were told that a review was missed),
so each one delivered also appends an ``escalated`` event to the collaboration's hash-chained history, in the
transaction that marks the delivery sent: exactly once, and only once it really went out.
"""

from __future__ import annotations

import functools
import hashlib
import operator
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.orm import Session

from notifications.channels import Attachment, Channel, Message, channel_from_env, meeting_ics
from notifications.render import TemplateError, Templates, load_templates
from workflow import digests, drafts, owed, reviews, validate
from workflow.clock import LONDON
from workflow.context import Actor, Context
from workflow.db import folder_beside
from workflow.delivery import Batch, DeliveryLog, Entry, Outgoing, deliver
from workflow.errors import BadInput, reason
from workflow.formatting import FILTERS
from workflow.lookups import find_board, find_collaboration
from workflow.progress import Progress, tracked
from workflow.reviews import Meeting, Person, Slot
from workflow.spool import Spool

T = TypeVar("T")

LOOKBACK_DAYS = 35  # longer than a monthly board's longest gap between meetings
BATCH = 1_000  # collaborations read, drafted and rendered at a time (10,000 benefits on a large programme)
DEFAULT_WITHIN = 35
ESCALATIONS = ("escalation", "pir-escalation")  # to one person, one message a run
SENT = ("to", "user", "kind", "subject", "key", "collaboration")  # a line of the report on a message
MAX_WITHIN = 3660  # ten years ahead: any board's next meetings, and no date arithmetic beyond the calendar


class Occurrence(NamedTuple):  # a named tuple, as Entry
    entry: Entry
    template: str  # the notification kind whose templates render it
    context: dict[str, Any]
    meeting: Meeting | None = None  # an agenda's meeting, for its .ics
    fact: dict[str, Any] | None = None  # an escalation's `escalated` event payload


@dataclass(frozen=True)
class Unreachable:
    kind: str
    collaboration: str | None
    key: str
    recipient: str
    reason: str


class Reminders:
    """The reminder use cases (reviews owed, reminders sent) in one context."""

    def __init__(self, ctx: Context, *, channel: Channel | None = None, templates: Templates | None = None,
                 log: DeliveryLog | None = None, digest_day: int | None = None) -> None:
        self.ctx = ctx
        self.channel = channel
        self.templates = templates
        self.log = log or DeliveryLog(ctx.uow)
        self.digest_day = digest_day  # the weekday (Monday 0) `remind` also sends the weekly digests; None: never

    @classmethod
    def from_env(cls, ctx: Context, db: str, environ: Mapping[str, str] = os.environ) -> Reminders:
        """Channel and templates as the environment configures them (cli.md); a bad template fails here, at load."""
        try:
            channel = channel_from_env(environ, outbox_beside(db))
        except ValueError as error:
            raise BadInput(str(error)) from None
        folder = environ.get("COLLAB_TEMPLATES", "").strip()
        return cls(ctx, channel=channel, templates=_templates(Path(folder) if folder else None),
                   digest_day=digests.weekday(environ.get("COLLAB_DIGEST_DAY", "")))

    def authorise(self) -> None:
        """Refuse (exit 1) a user who may not send reminders, before a worker starts waiting."""
        with self.ctx.uow.read() as session:
            self.ctx.acting(session, "send reminders")

    def reviews(self, at: date | None = None, within: int = DEFAULT_WITHIN, board: str | None = None) -> list[dict[str, Any]]:
        """Reviews upcoming within `within` days, due (reminder window open) and overdue on `at`, unsatisfied."""
        return list(self.each_review(at, within, board))

    def each_review(self, at: date | None = None, within: int = DEFAULT_WITHIN,
                    board: str | None = None) -> Iterator[dict[str, Any]]:
        """The reviews as `reviews` lists them, in its order, computed BATCH collaborations at a time in one
        read transaction and held on disk until all are read (spool.py), so memory does not grow with them."""
        if not 0 <= within <= MAX_WITHIN:
            raise BadInput(reason("bad-window", f"a window of {within} days: give 0 to {MAX_WITHIN}", within=within))
        day = validate.day(at or self.ctx.clock.today(), "the date of the reviews")
        spool: Spool[tuple[Any, ...]] = Spool()
        try:
            with self.ctx.snapshot() as session:
                board_id = find_board(session, board).id if board else None
                for snap in reviews.snapshots(session, day, ahead=within, behind=None, board_id=board_id, batch=BATCH):
                    # plain tuples: pickled in C, where a named tuple is reduced in Python
                    spool.add(((r.due_on, r.board or ""), tuple(r)) for r in owed.statuses(snap, day, within))
        except BaseException:
            spool.close()
            raise
        return (owed.Review._make(r).as_dict() for r in spool)

    def remind(self, at: datetime | None = None, *, dry_run: bool = False, force: bool = False,
               progress: Progress | None = None, lazily: bool = False) -> dict[str, Any]:
        """Send every reminder and escalation due at `at` (default now) that the delivery log has not seen sent,
        and on the digest weekday each person's weekly digest. A person owed several escalations gets one message.
        `lazily`: a dry run's `sent` is an iterator, read once (the CLI writes it line by line).

        A moment in the future is only a dry run unless `force`d: sending then would record escalations dated
        ahead and use up occurrences before they are really due (`future` in the report says so)."""
        def due(session: Session, today: date, unreachable: list[Unreachable]) -> Iterator[list[Occurrence]]:
            yield from _due(session, today, unreachable)
            if today.weekday() == self.digest_day:
                yield _digests(session, today, unreachable)
        return self._run(due, at, dry_run, force, progress, lazily)

    def digest(self, at: datetime | None = None, *, dry_run: bool = False, force: bool = False) -> dict[str, Any]:
        """Send each person's digest of the week that `at` falls in (what `todo` lists for them), once a week."""
        return self._run(lambda session, today, unreachable: iter([_digests(session, today, unreachable)]),
                         at, dry_run, force, None, False)

    def _run(self, gather: Callable[[Session, date, list[Unreachable]], Iterator[list[Occurrence]]], at: datetime | None,
             dry_run: bool, force: bool, progress: Progress | None, lazily: bool) -> dict[str, Any]:
        """What `gather` finds due and the log has not seen sent, a run of occurrences at a time inside one read
        transaction: a dry run renders each subject and keeps only its report line (on disk, spool.py), so its
        memory does not grow with the messages; a real run delivers them once all are read."""
        now = self.ctx.clock.now()
        moment = at or now
        future = moment > now and not force
        dry_run = dry_run or future
        today = moment.astimezone(LONDON).date()
        templates = self.templates or _templates(None)
        unreachable: list[Unreachable] = []
        already_sent = busy = 0
        spool: Spool[Any] = Spool()
        try:
            with self.ctx.snapshot() as session:
                actor = self.ctx.acting(session, None if dry_run else "send reminders")
                for occurrences in gather(session, today, unreachable):
                    backlog = self.log.backlog([o.entry for o in occurrences])
                    already_sent, busy = already_sent + backlog.already_sent, busy + backlog.busy
                    pending = {e.key for e in backlog.pending}
                    spool.add((_group(o.entry), _sent_row(o.entry, _rendered(templates.subject, o)) if dry_run else o)
                              for o in occurrences if o.entry.key in pending)
        except BaseException:
            spool.close()
            raise
        report: dict[str, Any] = {
            "at": moment.isoformat(), "dry_run": dry_run, "future": future, "already_sent": already_sent,
            "in_progress": busy, "failed": [],
            "unreachable": [{"user": u.recipient, "kind": u.kind, "key": u.key, "reason": u.reason} for u in unreachable],
        }
        if dry_run:  # shows each message's subject: the text, HTML and calendar invitation are not made
            lines = (dict(zip(SENT, row)) for row in spool)
            return {"sent": lines if lazily else list(lines), **report}
        due: list[Occurrence] = list(spool)
        pending_order = {o.entry.key: n for n, o in enumerate(due)}
        if self.channel is None:
            raise BadInput(reason("no-channel", "no delivery channel configured"))
        outgoing = self._bundled(due, templates, moment, actor)
        outcome = deliver(self.log, self.channel, tracked(outgoing, len(outgoing), progress))
        report["in_progress"] += outcome.taken
        report["failed"] = [{**_sent(o.entry, o.message.subject), "error": error} for o, error in outcome.failed]
        sent = sorted(outcome.sent, key=lambda o: pending_order[o.entry.key])  # as due, however bundled
        return {"sent": [_sent(o.entry, o.message.subject) for o in sent], **report}

    def _compose(self, occurrence: Occurrence, templates: Templates, moment: datetime, actor: Actor) -> Outgoing:
        entry = occurrence.entry
        rendered = _rendered(templates.render, occurrence)
        attachments: tuple[Attachment, ...] = ()
        if occurrence.meeting is not None:
            meeting = occurrence.meeting
            attachments = (meeting_ics(
                uid=meeting_uid(meeting), summary=f"{meeting.board.name} meeting", starts=meeting.starts,
                description=rendered.text, organizer=meeting.board.secretary.email, stamp=moment,
                location=meeting.board.location, sequence=meeting.sequence,
                method="CANCEL" if meeting.cancelled else "REQUEST" if meeting.sequence else "PUBLISH",
            ),)
        message = Message(to=(entry.address,), subject=rendered.subject, text=rendered.text, html=rendered.html,
                          attachments=attachments, idempotency_key=entry.key)
        after_sent = self._recorder(actor, occurrence, moment) if occurrence.fact is not None else None
        return Outgoing(entry, message, after_sent)

    def _bundled(self, due: list[Occurrence], templates: Templates, moment: datetime,
                 actor: Actor) -> list[Outgoing | Batch]:
        """A message per occurrence, but one per person for all the escalations they are owed."""
        found: list[Outgoing | Batch] = []
        owed: dict[str, list[Occurrence]] = {}
        for o in due:
            if o.entry.kind in ESCALATIONS:
                owed.setdefault(o.entry.recipient, []).append(o)
            else:
                found.append(self._compose(o, templates, moment, actor))
        for escalations in owed.values():
            parts = tuple(self._compose(o, templates, moment, actor) for o in escalations)
            found.append(parts[0] if len(parts) == 1 else Batch(parts, functools.partial(
                _escalations, templates, {o.entry.key: o for o in escalations})))
        return found

    def _recorder(self, actor: Actor, occurrence: Occurrence, moment: datetime) -> Callable[[Session], None]:
        def record(session: Session) -> None:
            collaboration = find_collaboration(session, occurrence.entry.collaboration or "")
            self.ctx.record(session, actor, "escalated", on=moment.astimezone(LONDON).date(),
                            collaboration=collaboration, **(occurrence.fact or {}))
        return record


def _escalations(templates: Templates, occurrences: dict[str, Occurrence], parts: Sequence[Outgoing]) -> Message:
    """One message listing the escalations claimed for one person (a single one keeps its own message)."""
    if len(parts) == 1:
        return parts[0].message
    owed = [occurrences[part.entry.key] for part in parts]
    rendered = _rendered(templates.render, Occurrence(owed[0].entry, "escalations", {
        "recipient": owed[0].context["recipient"],
        "escalations": [{"kind": o.entry.kind, **o.context} for o in owed]}))
    keys = hashlib.sha256("\n".join(part.entry.key for part in parts).encode()).hexdigest()[:32]
    return Message(to=(owed[0].entry.address,), subject=rendered.subject, text=rendered.text, html=rendered.html,
                   idempotency_key=f"escalations:{keys}")


def _templates(folder: Path | None) -> Templates:
    """Loaded and checked before anything is sent: an unknown variable is refused here, not mid-run."""
    try:
        return load_templates(folder, FILTERS)
    except TemplateError as error:
        raise BadInput(reason("bad-template", f"notification templates: {error}")) from None


def meeting_uid(meeting: Meeting) -> str:
    """The same for every message about one meeting, wherever it was moved, so calendars update the event rather
    than add another."""
    return f"meeting-{meeting.occurrence or meeting.day:%Y%m%d}-board-{meeting.board.id}@collab"


def outbox_beside(db: str) -> Path:
    """cli.md: with neither COLLAB_SMTP nor COLLAB_OUTBOX, messages go to outbox/ beside the database."""
    return folder_beside(db, "outbox")


def _rendered(render: Callable[[str, Any], T], occurrence: Occurrence) -> T:
    """The occurrence's message (or subject) rendered by `render`; a template fault is bad input (2)."""
    try:
        return render(occurrence.template, occurrence.context)
    except TemplateError as error:
        raise BadInput(reason("bad-template", f"notification templates: {error}")) from None


def _sent(entry: Entry, subject: str) -> dict[str, Any]:
    return dict(zip(SENT, _sent_row(entry, subject)))


def _sent_row(entry: Entry, subject: str) -> tuple[str | None, ...]:
    """A line of the report as a plain tuple: a dry run keeps them on disk, and tuples are pickled faster."""
    return entry.address, entry.recipient, entry.kind, subject, entry.key, entry.collaboration


# -- what is due ------------------------------------------------------------------------------------


def unreachable(session: Session, today: date) -> list[Unreachable]:
    """The reminders due today that cannot go out: their recipient has no email address (or there is nobody)."""
    found: list[Unreachable] = []
    for _ in _due(session, today, found):
        pass
    return found


def _group(entry: Entry) -> tuple[bool, date, str]:
    """The order of a run's report, as due (due_on, kind, key: each run is sorted so, spool.py keeps the groups
    apart); the weekly digests last, in the order of their people."""
    return entry.kind == "digest", entry.due_on, entry.kind


_due_order = operator.attrgetter("entry.due_on", "entry.kind", "entry.key")  # in C: a key per message of a run


def _due(session: Session, today: date, unreachable: list[Unreachable]) -> Iterator[list[Occurrence]]:
    """What is due on `today`, in runs sorted as due: a batch of collaborations at a time, then each agenda (its
    lines gathered from every batch), then the cancelled meetings. `unreachable` gets, as drafted, what cannot go
    out: requests and escalations, agendas, cancellations, then PIRs."""
    meetings: dict[tuple[int, date], tuple[Meeting, date]] = {}  # each meeting ahead, and when its agenda opens
    lines: Spool[drafts.AgendaLine] = Spool()
    late: list[Unreachable] = []
    lookback = today - timedelta(days=LOOKBACK_DAYS)  # the earliest escalation still sent, once, not per slot
    try:
        for snap in reviews.snapshots(session, today, ahead=0, behind=LOOKBACK_DAYS, batch=BATCH):
            due, pirs, ahead = [], [], []
            for slot in snap.slots:
                if slot.meeting.day >= today:
                    key = (slot.meeting.board.id, slot.meeting.day)
                    opens = meetings[key][1] if key in meetings else slot.opens
                    meetings[key] = (slot.meeting, min(opens, slot.opens))
                    ahead.append((key, slot))
                    if slot.opens <= today and not slot.satisfied:
                        due.append(drafts.request(slot))
                elif lookback <= slot.escalates <= today and not slot.satisfied:
                    due.append(drafts.escalation(slot, today))
            ahead.sort(key=lambda pair: pair[0])
            lines.add(zip((key for key, _ in ahead), drafts.agenda_lines([slot for _, slot in ahead])))
            for pir in snap.pirs:
                if pir.opens <= today <= pir.pir_due:
                    pirs.append(drafts.pir(pir, overdue=False))
                elif lookback <= pir.escalates <= today:
                    pirs.append(drafts.pir(pir, overdue=True))
            told = any(d.leaders_of is not None for d in due + pirs)
            leaders = drafts.escalation_audience(session, snap) if told else {}
            found, missed = _address(due, leaders)
            reminded, missed_pirs = _address(pirs, leaders)
            unreachable += missed
            late += missed_pirs
            yield sorted(found + reminded, key=_due_order)
        opened = {key: found for key, found in meetings.items() if found[1] <= today}
        missed_agendas: dict[tuple[int, date], list[Unreachable]] = {}
        for key, (meeting, opens) in sorted(opened.items(), key=lambda item: (item[1][1], _agenda_key(item[1][0]))):
            found, missed_agendas[key] = _address([drafts.agenda(meeting, list(lines.group(key)), opens)], {})
            yield found  # one agenda at a time: each lists every review owed at its meeting
    finally:
        lines.close()
    unreachable += [u for key in opened for u in missed_agendas[key]]
    cancelled, missed = _address(drafts.cancellations(session, today), {})
    unreachable += missed + late
    yield sorted(cancelled, key=_due_order)


def _agenda_key(meeting: Meeting) -> str:
    return _key("agenda", None, drafts.agenda_item(meeting), meeting.day, meeting.board.secretary.name)


def _digests(session: Session, today: date, unreachable: list[Unreachable]) -> list[Occurrence]:
    found, unsent = digests.owed(session, today)
    unreachable += [Unreachable("digest", None, key, name, "no email address") for key, name in unsent]
    return [Occurrence(entry, "digest", context) for entry, context in found]


def agenda_text(context: dict[str, Any], secretary: Person) -> str:
    """The agenda's plain-text part, as its secretary receives it."""
    try:
        return _templates(None).render("agenda", {**context, "recipient": drafts.person(secretary)}).text
    except TemplateError as error:
        raise BadInput(reason("bad-template", f"notification templates: {error}")) from None


def _address(due: list[drafts.Draft], leaders: dict[int, list[Person]]) -> tuple[list[Occurrence], list[Unreachable]]:
    """One occurrence per draft and recipient; someone without an email address is reported, not skipped silently."""
    found, unreachable = [], []
    for d in due:
        audience = [*d.audience, *(leaders.get(d.leaders_of, []) if d.leaders_of is not None else [])]
        seen: set[str] = set()
        prefix = _key(d.kind, d.collaboration, d.item, d.day, "")  # each recipient's key but their name, once a draft
        for person in audience:
            name = person.name if person else "(nobody)"
            if name in seen:
                continue
            seen.add(name)
            key = prefix + name
            if person is None or not person.email:
                unreachable.append(Unreachable(d.kind, d.collaboration, key, name, "no email address" if person else "nobody to send it to"))
                continue
            found.append(Occurrence(
                Entry(key, d.kind, d.collaboration, person.name, person.email, d.due_on), d.template,
                {**d.context, "recipient": drafts.person(person)}, d.meeting,
                {**d.fact, "to": person.name} if d.fact is not None else None,
            ))
    return found, unreachable


def _key(kind: str, collaboration: str | None, item: str, day: date, recipient: str) -> str:
    """The idempotency key: kind, collaboration, benefit or meeting, date, recipient."""
    return ":".join((kind, collaboration or "*", item, day.isoformat(), recipient))
