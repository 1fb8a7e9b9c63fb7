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

The delivery log (notifications/dispatch.py) makes each occurrence go out once. Reminders are
operational and live only there. An escalation is a governance fact (the collaboration's leaders were
told that a review was missed), so each one delivered also appends an ``escalated`` event to the
collaboration's hash-chained history, in the transaction that marks the delivery sent: exactly once,
and only once it really went out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from notifications.channels import Channel, Message, channel_from_env, meeting_ics
from notifications.dispatch import DeliveryLog, Entry, Outgoing, deliver
from notifications.render import TemplateError, Templates, load_templates
from workflow import reviews
from workflow.clock import LONDON, Clock, parse_moment
from workflow.db import database_url
from workflow.errors import BadInput
from workflow.reviews import Meeting, PirDue, Person, ReviewedBenefit, Slot
from workflow.service import Actor, Collab, _board, _collaboration

LOOKBACK_DAYS = 35  # longer than a monthly board's longest gap between meetings
DEFAULT_WITHIN = 35
ESCALATIONS = ("escalation", "pir-escalation")


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
    key: str
    recipient: str
    reason: str


class Reminders:
    """The reminder use cases (`collab reviews`, `collab remind`) over one Collab engine."""

    def __init__(self, app: Collab, *, channel: Channel | None = None, templates: Templates | None = None,
                 log: DeliveryLog | None = None) -> None:
        self.app = app
        self.channel = channel
        self.templates = templates
        self.log = log or DeliveryLog(app.uow)

    @classmethod
    def from_env(cls, app: Collab, db: str, environ: Mapping[str, str] = os.environ) -> Reminders:
        """Channel and templates as the environment configures them (cli.md); a bad template fails here, at load."""
        try:
            channel = channel_from_env(environ, outbox_beside(db))
        except ValueError as error:
            raise BadInput(str(error)) from None
        folder = environ.get("COLLAB_TEMPLATES", "").strip()
        try:
            templates = load_templates(Path(folder) if folder else None)
        except TemplateError as error:
            raise BadInput(f"notification templates: {error}") from None
        return cls(app, channel=channel, templates=templates)

    def authorise(self) -> None:
        """Refuse (exit 1) a user who may not send reminders, before a worker starts waiting."""
        with self.app.uow.read() as session:
            self.app._acting(session, "send reminders")

    def reviews(self, at: date | None = None, within: int = DEFAULT_WITHIN, board: str | None = None) -> list[dict[str, Any]]:
        """Reviews upcoming within `within` days, due (reminder window open) and overdue on `at`, unsatisfied."""
        if within < 0:
            raise BadInput(f"--within {within}: a number of days, 0 or more")
        day = at or self.app.clock.today()
        with self.app._reading() as session:
            board_id = _board(session, board).id if board else None
            snap = reviews.snapshot(session, day, ahead=within, behind=None, board_id=board_id)
        return [r.as_dict() for r in reviews.statuses(snap, day, within)]

    def remind(self, at: datetime | None = None, *, dry_run: bool = False) -> dict[str, Any]:
        """Send every reminder and escalation due at `at` (default now) that the delivery log has not seen sent."""
        moment = at or self.app.clock.now()
        today = moment.astimezone(LONDON).date()
        with self.app.uow.read() as session:
            actor = self.app._acting(session, None if dry_run else "send reminders")
            occurrences, unreachable = _occurrences(session, today)
        backlog = self.log.backlog([o.entry for o in occurrences])
        pending = {e.key for e in backlog.pending}
        templates = self.templates or load_templates()
        outgoing = [self._compose(o, templates, moment, actor) for o in occurrences if o.entry.key in pending]
        report: dict[str, Any] = {
            "at": moment.isoformat(), "dry_run": dry_run, "already_sent": backlog.already_sent,
            "in_progress": backlog.busy, "failed": [],
            "unreachable": [{"user": u.recipient, "kind": u.kind, "key": u.key, "reason": u.reason} for u in unreachable],
        }
        if dry_run:
            return {"sent": [_sent(o) for o in outgoing], **report}
        if self.channel is None:
            raise BadInput("no delivery channel configured")
        outcome = deliver(self.log, self.channel, outgoing)
        report["in_progress"] += outcome.taken
        report["failed"] = [{**_sent(o), "error": error} for o, error in outcome.failed]
        return {"sent": [_sent(o) for o in outcome.sent], **report}

    def _compose(self, occurrence: Occurrence, templates: Templates, moment: datetime, actor: Actor) -> Outgoing:
        entry = occurrence.entry
        rendered = templates.render(occurrence.template, occurrence.context)
        attachments = ()
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
            collaboration = _collaboration(session, occurrence.entry.collaboration or "")
            self.app._record(session, actor, "escalated", on=moment.astimezone(LONDON).date(),
                             collaboration=collaboration, **(occurrence.fact or {}))
        return record


def meeting_uid(meeting: Meeting) -> str:
    """The same for every message about one meeting, so calendars update the event rather than add another."""
    return f"meeting-{meeting.day:%Y%m%d}-board-{meeting.board.id}@collab"


def outbox_beside(db: str) -> Path:
    """cli.md: with neither COLLAB_SMTP nor COLLAB_OUTBOX, messages go to outbox/ beside the database."""
    url = database_url(db)
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).parent / "outbox"
    return Path("outbox")


def _sent(outgoing: Outgoing) -> dict[str, Any]:
    entry = outgoing.entry
    return {"to": entry.address, "user": entry.recipient, "kind": entry.kind, "subject": outgoing.message.subject,
            "key": entry.key, "collaboration": entry.collaboration}


# -- what is due ------------------------------------------------------------------------------------


def _occurrences(session: Session, today: date) -> tuple[list[Occurrence], list[Unreachable]]:
    snap = reviews.snapshot(session, today, ahead=0, behind=LOOKBACK_DAYS)
    drafts = _Drafts(today)
    by_meeting: dict[tuple[int, date], list[Slot]] = {}
    for slot in snap.slots:
        if slot.meeting.day >= today:
            by_meeting.setdefault((slot.meeting.board.id, slot.meeting.day), []).append(slot)
            if slot.opens <= today and not slot.satisfied:
                drafts.request(slot)
        elif slot.escalates <= today <= slot.escalates + timedelta(days=LOOKBACK_DAYS) and not slot.satisfied:
            drafts.escalate(slot)
    for slots in by_meeting.values():
        if min(s.opens for s in slots) <= today:
            drafts.agenda(slots)
    for pir in snap.pirs:
        if pir.opens <= today <= pir.pir_due:
            drafts.pir(pir, "pir-reminder", pir.opens)
        elif pir.escalates <= today <= pir.escalates + timedelta(days=LOOKBACK_DAYS):
            drafts.pir(pir, "pir-escalation", pir.escalates)
    if drafts.needs_chiefs:
        drafts.resolve(reviews.chief_officers(session))
    return sorted(drafts.found, key=lambda o: (o.entry.due_on, o.entry.kind, o.entry.key)), drafts.unreachable


def _key(kind: str, collaboration: str | None, item: str, day: date, recipient: str) -> str:
    """The idempotency key: kind, collaboration, benefit or meeting, date, recipient."""
    return ":".join((kind, collaboration or "*", item, day.isoformat(), recipient))


class _Drafts:
    """Collects occurrences and the people they go to; escalations wait for the chief officers (one query)."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.found: list[Occurrence] = []
        self.unreachable: list[Unreachable] = []
        self._escalations: list[tuple[int, Person, Callable[[Person], None]]] = []

    @property
    def needs_chiefs(self) -> bool:
        return bool(self._escalations)

    def _add(self, kind: str, collaboration: str | None, item: str, day: date, person: Person | None, due_on: date,
             make: Callable[[Person, Entry], Occurrence], fallback: str = "") -> None:
        name = person.name if person else fallback
        key = _key(kind, collaboration, item, day, name)
        if person is None or not person.email:
            self.unreachable.append(Unreachable(kind, key, name, "no email address" if person else "nobody to send it to"))
            return
        self.found.append(make(person, Entry(key, kind, collaboration, person.name, person.email, due_on)))

    def agenda(self, slots: list[Slot]) -> None:
        meeting = slots[0].meeting
        board = meeting.board
        groups: dict[str, list[Slot]] = {}
        for slot in slots:
            groups.setdefault(slot.benefit.collaboration, []).append(slot)
        collaborations = [
            {"key": key, "title": group[0].benefit.collaboration_title,
             "reviews": [_agenda_line(s) for s in sorted(group, key=lambda s: s.benefit.code)]}
            for key, group in sorted(groups.items())
        ]
        self._add("agenda", None, f"board-{board.id}", meeting.day, board.secretary, min(s.opens for s in slots),
                  lambda person, entry: Occurrence(entry, "agenda", {
                      "board": _board_ctx(meeting), "recipient": _person(person), "meeting": _meeting(meeting),
                      "collaborations": collaborations}, meeting=meeting))

    def request(self, slot: Slot) -> None:
        b, meeting = slot.benefit, slot.meeting
        self._add("measurement-request", b.collaboration, b.code, meeting.day, b.owner, slot.opens,
                  lambda person, entry: Occurrence(entry, "measurement-request", {
                      "recipient": _person(person), "board": _board_ctx(meeting), "meeting": _meeting(meeting),
                      "collaboration": _collaboration_ctx(b), "benefit": _benefit_ctx(b)}), fallback="owner")

    def escalate(self, slot: Slot) -> None:
        b, meeting = slot.benefit, slot.meeting
        fact = {"kind": "escalation", "benefit": b.code, "board": meeting.board.name, "meeting": meeting.day}

        def each(person: Person) -> None:
            self._add("escalation", b.collaboration, b.code, meeting.day, person, slot.escalates,
                      lambda to, entry: Occurrence(entry, "escalation", {
                          "recipient": _person(to), "board": _board_ctx(meeting), "meeting": _meeting(meeting),
                          "collaboration": _collaboration_ctx(b), "benefit": _benefit_ctx(b),
                          "days_overdue": (self.today - meeting.day).days}, fact={**fact, "to": to.name}))
        self._escalations.append((b.collaboration_id, b.manager, each))

    def pir(self, pir: PirDue, kind: str, due_on: date) -> None:
        """The reminder goes to the programme manager; the escalation to the chief officers as well."""
        overdue = kind == "pir-escalation"
        fact = {"kind": kind, "pir_due": pir.pir_due} if overdue else None

        def each(person: Person) -> None:
            self._add(kind, pir.collaboration, "pir", pir.pir_due, person, due_on,
                      lambda to, entry: Occurrence(entry, "pir-reminder", {
                          "recipient": _person(to), "collaboration": {"key": pir.collaboration, "title": pir.title},
                          "closed_on": pir.closed_on, "pir_due": pir.pir_due, "overdue": overdue},
                          fact={**fact, "to": to.name} if fact else None))
        if overdue:
            self._escalations.append((pir.collaboration_id, pir.manager, each))
        else:
            each(pir.manager)

    def resolve(self, chiefs: dict[int, list[Person]]) -> None:
        """Address each escalation to the programme manager and the partners' chief officers."""
        for collaboration_id, manager, each in self._escalations:
            seen: set[str] = set()
            for person in [manager, *chiefs.get(collaboration_id, [])]:
                if person.name not in seen:
                    seen.add(person.name)
                    each(person)


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


# -- the demo ---------------------------------------------------------------------------------------


def demo_reminders(db: str, say: Callable[[str], None], moments: Iterable[datetime | str], *,
                   actor: str = "admin") -> list[dict[str, Any]]:
    """Run `collab remind` at each moment of a demo's timeline, printing what went out.

    Messages go where the environment says (cli.md), by default to outbox/ beside the database.
    """
    reports = []
    for moment in moments:
        at = parse_moment(moment, "moment") if isinstance(moment, str) else moment
        say(f"{at.astimezone(LONDON).date()}  $ collab --as {actor} remind --at {at.isoformat(timespec='minutes')}")
        report = Reminders.from_env(Collab.open(db, actor, Clock(at)), db).remind(at)
        for sent in report["sent"]:
            say(f"  {sent['kind']:<20} to {sent['to']}: {sent['subject']}")
        if not report["sent"]:
            say("  nothing due")
        reports.append(report)
    return reports
