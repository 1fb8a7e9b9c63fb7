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

Escalations are still sent up to LOOKBACK_DAYS after they fell due, and agendas and requests until
the meeting, so a worker that was down catches up on its next run; older ones are left alone, since
news of a review missed months ago helps no one and a newer escalation will have been sent.

The delivery log (workflow/delivery.py) makes each occurrence go out once. Reminders are
operational and live only there. An escalation is a governance fact (the collaboration's leaders were
told that a review was missed), so each one delivered also appends an ``escalated`` event to the
collaboration's hash-chained history, in the transaction that marks the delivery sent: exactly once,
and only once it really went out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from notifications.channels import Attachment, Channel, Message, channel_from_env, meeting_ics
from notifications.render import TemplateError, Templates, load_templates
from workflow import definition as definitions, reviews, validate
from workflow.clock import LONDON
from workflow.context import Actor, Context
from workflow.db import folder_beside
from workflow.delivery import DeliveryLog, Entry, Outgoing, deliver
from workflow.errors import BadInput, reason
from workflow.formatting import FILTERS
from workflow.lookups import find_board, find_collaboration
from workflow.reviews import Meeting, PirDue, Person, ReviewedBenefit, Slot
from workflow.vocabulary import MANAGER

T = TypeVar("T")

LOOKBACK_DAYS = 35  # longer than a monthly board's longest gap between meetings
DEFAULT_WITHIN = 35
MAX_WITHIN = 3660  # ten years ahead: any board's next meetings, and no date arithmetic beyond the calendar


@dataclass(frozen=True)
class Occurrence:
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
                 log: DeliveryLog | None = None) -> None:
        self.ctx = ctx
        self.channel = channel
        self.templates = templates
        self.log = log or DeliveryLog(ctx.uow)

    @classmethod
    def from_env(cls, ctx: Context, db: str, environ: Mapping[str, str] = os.environ) -> Reminders:
        """Channel and templates as the environment configures them (cli.md); a bad template fails here, at load."""
        try:
            channel = channel_from_env(environ, outbox_beside(db))
        except ValueError as error:
            raise BadInput(str(error)) from None
        folder = environ.get("COLLAB_TEMPLATES", "").strip()
        return cls(ctx, channel=channel, templates=_templates(Path(folder) if folder else None))

    def authorise(self) -> None:
        """Refuse (exit 1) a user who may not send reminders, before a worker starts waiting."""
        with self.ctx.uow.read() as session:
            self.ctx.acting(session, "send reminders")

    def reviews(self, at: date | None = None, within: int = DEFAULT_WITHIN, board: str | None = None) -> list[dict[str, Any]]:
        """Reviews upcoming within `within` days, due (reminder window open) and overdue on `at`, unsatisfied."""
        if not 0 <= within <= MAX_WITHIN:
            raise BadInput(reason("bad-window", f"a window of {within} days: give 0 to {MAX_WITHIN}", within=within))
        day = validate.day(at or self.ctx.clock.today(), "the date of the reviews")
        with self.ctx.reading() as session:
            board_id = find_board(session, board).id if board else None
            snap = reviews.snapshot(session, day, ahead=within, behind=None, board_id=board_id)
        return [r.as_dict() for r in reviews.statuses(snap, day, within)]

    def remind(self, at: datetime | None = None, *, dry_run: bool = False, force: bool = False) -> dict[str, Any]:
        """Send every reminder and escalation due at `at` (default now) that the delivery log has not seen sent.

        A moment in the future is only a dry run unless `force`d: sending then would record escalations dated
        ahead and use up occurrences before they are really due (`future` in the report says so)."""
        now = self.ctx.clock.now()
        moment = at or now
        future = moment > now and not force
        dry_run = dry_run or future
        today = moment.astimezone(LONDON).date()
        with self.ctx.uow.read() as session:
            actor = self.ctx.acting(session, None if dry_run else "send reminders")
            occurrences, unreachable = _occurrences(session, today)
        backlog = self.log.backlog([o.entry for o in occurrences])
        pending = {e.key for e in backlog.pending}
        templates = self.templates or _templates(None)
        due = [o for o in occurrences if o.entry.key in pending]
        report: dict[str, Any] = {
            "at": moment.isoformat(), "dry_run": dry_run, "future": future, "already_sent": backlog.already_sent,
            "in_progress": backlog.busy, "failed": [],
            "unreachable": [{"user": u.recipient, "kind": u.kind, "key": u.key, "reason": u.reason} for u in unreachable],
        }
        if dry_run:  # shows each message's subject: the text, HTML and calendar invitation are not made
            return {"sent": [_sent(o.entry, _rendered(templates.subject, o)) for o in due], **report}
        if self.channel is None:
            raise BadInput(reason("no-channel", "no delivery channel configured"))
        outgoing = [self._compose(o, templates, moment, actor) for o in due]
        outcome = deliver(self.log, self.channel, outgoing)
        report["in_progress"] += outcome.taken
        report["failed"] = [{**_sent(o.entry, o.message.subject), "error": error} for o, error in outcome.failed]
        return {"sent": [_sent(o.entry, o.message.subject) for o in outcome.sent], **report}

    def _compose(self, occurrence: Occurrence, templates: Templates, moment: datetime, actor: Actor) -> Outgoing:
        entry = occurrence.entry
        rendered = _rendered(templates.render, occurrence)
        attachments: tuple[Attachment, ...] = ()
        if occurrence.meeting is not None:
            meeting = occurrence.meeting
            attachments = (meeting_ics(
                uid=meeting_uid(meeting), summary=f"{meeting.board.name} meeting", starts=meeting.starts,
                description=rendered.text, organizer=meeting.board.secretary.email, stamp=moment,
            ),)
        message = Message(to=(entry.address,), subject=rendered.subject, text=rendered.text, html=rendered.html,
                          attachments=attachments, idempotency_key=entry.key)
        after_sent = self._recorder(actor, occurrence, moment) if occurrence.fact is not None else None
        return Outgoing(entry, message, after_sent)

    def _recorder(self, actor: Actor, occurrence: Occurrence, moment: datetime) -> Callable[[Session], None]:
        def record(session: Session) -> None:
            collaboration = find_collaboration(session, occurrence.entry.collaboration or "")
            self.ctx.record(session, actor, "escalated", on=moment.astimezone(LONDON).date(),
                            collaboration=collaboration, **(occurrence.fact or {}))
        return record


def _templates(folder: Path | None) -> Templates:
    """Loaded and checked before anything is sent: an unknown variable is refused here, not mid-run."""
    try:
        return load_templates(folder, FILTERS)
    except TemplateError as error:
        raise BadInput(reason("bad-template", f"notification templates: {error}")) from None


def meeting_uid(meeting: Meeting) -> str:
    """The same for every message about one meeting, so calendars update the event rather than add another."""
    return f"meeting-{meeting.day:%Y%m%d}-board-{meeting.board.id}@collab"


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
    return {"to": entry.address, "user": entry.recipient, "kind": entry.kind, "subject": subject,
            "key": entry.key, "collaboration": entry.collaboration}


# -- what is due ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """An occurrence before it is addressed; it becomes one Occurrence per recipient."""

    kind: str
    collaboration: str | None
    item: str  # the benefit (BID@board-ID for a further board), the board (board-ID) or "pir"
    day: date  # the meeting's or the PIR's date
    due_on: date  # when it fell due
    template: str
    context: dict[str, Any]  # all but the recipient
    audience: tuple[Person | None, ...]
    leaders_of: int | None = None  # also to this collaboration's escalation audience
    meeting: Meeting | None = None
    fact: dict[str, Any] | None = None  # an escalation's event payload, but for "to"


def unreachable(session: Session, today: date) -> list[Unreachable]:
    """The reminders due today that cannot go out: their recipient has no email address (or there is nobody)."""
    return _occurrences(session, today)[1]


def _occurrences(session: Session, today: date) -> tuple[list[Occurrence], list[Unreachable]]:
    snap = reviews.snapshot(session, today, ahead=0, behind=LOOKBACK_DAYS)
    drafts: list[_Draft] = []
    by_meeting: dict[tuple[int, date], list[Slot]] = {}
    for slot in snap.slots:
        if slot.meeting.day >= today:
            by_meeting.setdefault((slot.meeting.board.id, slot.meeting.day), []).append(slot)
            if slot.opens <= today and not slot.satisfied:
                drafts.append(_request(slot))
        elif slot.escalates <= today <= slot.escalates + timedelta(days=LOOKBACK_DAYS) and not slot.satisfied:
            drafts.append(_escalation(slot, today))
    drafts += [_agenda(slots) for slots in by_meeting.values() if min(s.opens for s in slots) <= today]
    for pir in snap.pirs:
        if pir.opens <= today <= pir.pir_due:
            drafts.append(_pir(pir, overdue=False))
        elif pir.escalates <= today <= pir.escalates + timedelta(days=LOOKBACK_DAYS):
            drafts.append(_pir(pir, overdue=True))
    leaders = reviews.escalation_audience(session, snap.settings) if any(d.leaders_of is not None for d in drafts) else {}
    found, unreachable = _address(drafts, leaders)
    return sorted(found, key=lambda o: (o.entry.due_on, o.entry.kind, o.entry.key)), unreachable


def _agenda(slots: list[Slot]) -> _Draft:
    meeting = slots[0].meeting
    groups: dict[str, list[Slot]] = {}
    for slot in sorted(slots, key=lambda s: (s.benefit.collaboration, s.benefit.code)):
        groups.setdefault(slot.benefit.collaboration, []).append(slot)
    collaborations = [{"key": key, "title": group[0].benefit.collaboration_title, "reviews": [_agenda_line(s) for s in group]}
                      for key, group in groups.items()]
    return _Draft("agenda", None, f"board-{meeting.board.id}", meeting.day, min(s.opens for s in slots), "agenda",
                  {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaborations": collaborations},
                  (meeting.board.secretary,), meeting=meeting)


def _request(slot: Slot) -> _Draft:
    b, meeting = slot.benefit, slot.meeting
    return _Draft("measurement-request", b.collaboration, _reviewed(slot), meeting.day, slot.opens, "measurement-request",
                  {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaboration": _collaboration_ctx(b),
                   "benefit": _benefit_ctx(b)}, (b.owner,))


def _escalation(slot: Slot, today: date) -> _Draft:
    b, meeting = slot.benefit, slot.meeting
    return _Draft("escalation", b.collaboration, _reviewed(slot), meeting.day, slot.escalates, "escalation",
                  {"board": _board_ctx(meeting), "meeting": _meeting(meeting), "collaboration": _collaboration_ctx(b),
                   "benefit": _benefit_ctx(b), "days_overdue": (today - meeting.day).days},
                  _managers(b.settings, b.manager), leaders_of=b.collaboration_id,
                  fact={"kind": "escalation", "benefit": b.code, "board": meeting.board.name, "meeting": meeting.day})


def _reviewed(slot: Slot) -> str:
    """The item of a benefit's request or escalation: the benefit, and the board when it is a further one (whose
    meeting may fall on the day of its own board's)."""
    return slot.benefit.code if slot.benefit.own_board else f"{slot.benefit.code}@board-{slot.meeting.board.id}"


def _pir(pir: PirDue, *, overdue: bool) -> _Draft:
    """The reminder goes to the programme manager; the escalation to the definition's escalation audience."""
    kind = "pir-escalation" if overdue else "pir-reminder"
    return _Draft(kind, pir.collaboration, "pir", pir.pir_due, pir.escalates if overdue else pir.opens, "pir-reminder",
                  {"collaboration": {"key": pir.collaboration, "title": pir.title}, "closed_on": pir.closed_on,
                   "pir_due": pir.pir_due, "overdue": overdue},
                  _managers(pir.settings, pir.manager) if overdue else (pir.manager,),
                  leaders_of=pir.collaboration_id if overdue else None,
                  fact={"kind": kind, "pir_due": pir.pir_due} if overdue else None)


def _managers(settings: definitions.Reviews, manager: Person) -> tuple[Person, ...]:
    """The programme manager, where the definition tells them of missed reviews."""
    return (manager,) if MANAGER in settings.escalate_to else ()


def _address(drafts: list[_Draft], leaders: dict[int, list[Person]]) -> tuple[list[Occurrence], list[Unreachable]]:
    """One occurrence per draft and recipient; someone without an email address is reported, not skipped silently."""
    found, unreachable = [], []
    for d in drafts:
        audience = [*d.audience, *(leaders.get(d.leaders_of, []) if d.leaders_of is not None else [])]
        seen: set[str] = set()
        for person in audience:
            name = person.name if person else "(nobody)"
            if name in seen:
                continue
            seen.add(name)
            key = _key(d.kind, d.collaboration, d.item, d.day, name)
            if person is None or not person.email:
                unreachable.append(Unreachable(d.kind, d.collaboration, key, name, "no email address" if person else "nobody to send it to"))
                continue
            found.append(Occurrence(
                Entry(key, d.kind, d.collaboration, person.name, person.email, d.due_on), d.template,
                {**d.context, "recipient": _person(person)}, d.meeting,
                {**d.fact, "to": person.name} if d.fact is not None else None,
            ))
    return found, unreachable


def _key(kind: str, collaboration: str | None, item: str, day: date, recipient: str) -> str:
    """The idempotency key: kind, collaboration, benefit or meeting, date, recipient."""
    return ":".join((kind, collaboration or "*", item, day.isoformat(), recipient))


# -- template contexts (the variable contract of notifications/render.py) ---------------------------


def _person(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email}


def _board_ctx(meeting: Meeting) -> dict[str, Any]:
    return {"name": meeting.board.name, "partner": meeting.board.partner}


def _meeting(meeting: Meeting) -> dict[str, Any]:
    return {"starts": meeting.starts, "date": meeting.day}


def _collaboration_ctx(b: ReviewedBenefit) -> dict[str, Any]:
    return {"key": b.collaboration, "title": b.collaboration_title}


def _benefit_ctx(b: ReviewedBenefit) -> dict[str, Any]:
    return {"id": b.code, "title": b.title, "measure": b.measure, "unit": b.unit, "baseline": b.baseline,
            "target": b.target, "latest": b.latest, "latest_on": b.latest_on}


def _agenda_line(slot: Slot) -> dict[str, Any]:
    b = slot.benefit
    return {"benefit_id": b.code, "title": b.title, "category": b.category, "owner": b.owner.name if b.owner else "nobody",
            "status": "figure received" if slot.satisfied else "awaiting figure", "last_measured_on": b.latest_on,
            "latest": b.latest, "unit": b.unit, "target": b.target}
