"""Which benefit reviews and post-implementation reviews fall due, and when, computed from the database.

The rules (domain.md, "Benefits" and "Reminders"):

- The definition's ``reviews:`` block says where reviews happen. A benefit is reviewed from the day its
  collaboration first entered the stage where reviews ``begin`` (in the default definition, the gate
  that approves every benefit profile, board included), and no earlier than the benefit was identified:
  its first review is at the first meeting whose reminders go out on or after that day, so that the
  board and the owner always get their full notice. Reviews go on through every reviewed stage, and
  while the collaboration is on hold from one; they stop when it leaves them (is withdrawn), or the
  benefit is retired or realised (its latest measurement has reached its target, whichever direction
  the target lies).
- The benefit's own board reviews it; once its handover is accepted, the board named in the handover
  (its own if the handover names none) does, from the day of acceptance, and the figure is asked of
  the handover's receiving owner. Each further board (benefit_boards) reviews it too, and owes its own
  reviews from the day it took the benefit on.
- The review at a meeting is satisfied by a measurement dated after the board's previous meeting.
- The PIR is due on ``pir_due`` (set by the definition's ``schedule-pir`` effect) and is satisfied by
  the artefact the definition names for it.

The database is read in set-based statements (boards and definitions once; then per batch of collaborations,
`snapshots`, the collaborations with the day reviews began, their benefits with their latest measurement and
current handover, PIRs, and the people told of escalations), never one per benefit; meetings are expanded per
board in Python by calendar.py.
`--at` moves the calendar and the measurements counted, not the stages: a collaboration is reviewed
as it stands now.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, Unpack, cast

from sqlalchemy import ColumnElement, Row, Select, and_, exists, false, func, literal, null, or_, select, true
from sqlalchemy.orm import Session, aliased

from workflow import definition as definitions, meetings as held
from workflow.model import (Artefact, Benefit, BenefitBoard, Board, Collaboration, DefinitionVersion, Event, Handover,
                            Measurement, Partner, User)

Settings = dict[tuple[str, int], definitions.Reviews]


class Person(NamedTuple):  # two a reviewed benefit: built several times faster than a frozen dataclass
    name: str
    email: str | None


@dataclass(frozen=True)
class BoardInfo:
    id: int
    name: str
    partner: str
    meets: str
    anchor: date
    secretary: Person
    meets_at: time | None = None
    location: str | None = None
    changes: tuple[held.Change, ...] = ()  # meetings moved or cancelled

    @property
    def schedule(self) -> held.Schedule:
        return held.Schedule(self.meets, self.anchor, self.meets_at, self.changes)


@dataclass(frozen=True)
class Meeting:
    board: BoardInfo
    starts: datetime  # Europe/London, moved off bank holidays
    previous: date | None  # the board's meeting before this one: a figure dated after it satisfies this review
    occurrence: date | None = None  # the schedule's date for it: its identity, wherever it was moved
    sequence: int = 0  # changes made to it
    cancelled: bool = False

    @cached_property  # asked once per slot: a million times a run at 100,000 benefits
    def day(self) -> date:
        return self.starts.date()


class ReviewedBenefit(NamedTuple):
    """A benefit under review, with everything a reminder about it says (a named tuple: one per benefit, built
    several times faster than a frozen dataclass)."""

    collaboration_id: int
    collaboration: str
    collaboration_title: str
    manager: Person
    settings: definitions.Reviews
    code: str
    title: str
    category: str
    measure: str | None
    unit: str
    baseline: float | None
    target: float | None
    board_id: int
    owner: Person | None
    latest: float | None
    latest_on: date | None
    since: date  # under review from this day: a meeting whose reminder window opened earlier owes no review of it
    own_board: bool = True  # reviewed by its own board, not a further one (benefit_boards)


class Slot(NamedTuple):
    """One benefit due for review at one meeting (a named tuple, as ReviewedBenefit: one per benefit and meeting)."""

    benefit: ReviewedBenefit
    meeting: Meeting
    opens: date  # the day the agenda goes out and the owner is asked for the figure
    escalates: date

    @property
    def satisfied(self) -> bool:
        latest_on, previous = self.benefit.latest_on, self.meeting.previous
        return latest_on is not None and (previous is None or latest_on > previous)


@dataclass(frozen=True)
class PirDue:
    """A closed collaboration whose post-implementation review report is not yet recorded."""

    collaboration_id: int
    collaboration: str
    title: str
    manager: Person
    closed_on: date | None  # None if the definition schedules the PIR on a move that does not close the programme
    pir_due: date
    settings: definitions.Reviews

    @property
    def opens(self) -> date:
        return self.pir_due - timedelta(days=self.settings.agenda_days_before)

    @property
    def escalates(self) -> date:
        return self.pir_due + timedelta(days=self.settings.escalation_grace_days)


@dataclass(frozen=True)
class Snapshot:
    slots: list[Slot]
    pirs: list[PirDue]
    settings: Settings
    collaborations: Sequence[int] | None = None  # the batch's collaborations (ids); None: every one


# -- reading the database ---------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _settings(name: str, version: int, digest: str, source: str) -> definitions.Reviews:
    return definitions.parse(source, f"{name} v{version} (stored)").reviews


def settings_by_definition(session: Session) -> Settings:
    """Each stored definition version's review settings (lead days, grace days, PIR months)."""
    return {(d.name, d.version): _settings(d.name, d.version, d.digest, d.source)
            for d in session.scalars(select(DefinitionVersion))}


def load_boards(session: Session, board_id: int | None = None) -> list[BoardInfo]:
    """The boards still meeting (not retired), with their meeting changes."""
    query = select(Board.id, Board.name, Board.partner, Board.meets, Board.anchor, User.name, User.email, Board.meets_at,
                   Board.location).join(User, User.id == Board.secretary_id).where(Board.retired_on.is_(None)).order_by(Board.name)
    if board_id is not None:
        query = query.where(Board.id == board_id)
    changes = held.changes_by_board(session, None if board_id is None else [board_id])
    return [BoardInfo(r[0], r[1], r[2], r[3], r[4], Person(r[5], r[6]), held.clock_time(r[7]), r[8], changes.get(r[0], ()))
            for r in session.execute(query)]


def board_meetings(board: BoardInfo, start: date, end: date) -> list[Meeting]:
    """The board's meetings held in [start, end] (moves and cancellations applied), each knowing the one before it."""
    schedule = board.schedule
    found = schedule.held(start, end)
    if not found:
        return []
    previous = schedule.previous(found[0].starts.date())
    result = []
    for meeting in found:
        result.append(Meeting(board, meeting.starts, previous, meeting.occurrence, meeting.sequence))
        previous = meeting.starts.date()
    return result


def _per_definition(settings: Settings, condition: Any) -> ColumnElement[bool]:
    """`condition(reviews)` for each stored definition version, applied to the collaborations on it."""
    return or_(false(), *(
        and_(Collaboration.definition_name == name, Collaboration.definition_version == version, condition(reviews))
        for (name, version), reviews in settings.items()
    ))


def in_review(settings: Settings) -> ColumnElement[bool]:
    """A collaboration whose benefits are reviewed: in a reviewed stage, or on hold from one."""
    stage = func.coalesce(Collaboration.held_from, Collaboration.stage)
    return _per_definition(settings, lambda reviews: stage.in_(reviews.stages))


def reviewed_benefits(session: Session, at: date, board_ids: list[int], settings: Settings,
                      batch: Sequence[int] | None = None) -> list[ReviewedBenefit]:
    """Every review of a benefit by one of `board_ids` on `at`: one per benefit and reviewing board (its own, and
    each further board), in three statements; only the benefits of the `batch` of collaborations, if given."""
    if not board_ids:
        return []
    # Core, not the ORM: plain rows, without the ORM's per-row loading (a third of the time at 100,000 benefits).
    # What is the collaboration's is read once for it, not on each of its benefits' rows (a third of their width).
    programmes = {row[0]: _Programme(row[1], row[2], Person(row[5], row[6]), settings[(row[3], row[4])],
                                     date.fromisoformat(row[7]))
                  for row in session.connection().execute(_programmes_query(settings, batch)).fetchall()}
    found = [_benefit(row, programmes[row[0]]) for further in (False, True)
             for row in session.connection().execute(_reviews_query(at, board_ids, batch, further=further, lateral=(
                 session.get_bind().dialect.name == "postgresql"))).fetchall()
             if row[0] in programmes]
    first: dict[tuple[int, str, int], ReviewedBenefit] = {}
    for b in found:  # a further board that became the benefit's own by handover owes one review a meeting
        seen = first.setdefault((b.collaboration_id, b.code, b.board_id), b)
        if b.since < seen.since:
            first[(b.collaboration_id, b.code, b.board_id)] = b
    return sorted(first.values(), key=lambda b: (b.collaboration, b.code, not b.own_board, b.board_id))


class _Programme(NamedTuple):
    key: str
    title: str
    manager: Person
    settings: definitions.Reviews
    entered: date  # first entered the stage where reviews begin


def _programmes_query(settings: Settings, batch: Sequence[int] | None) -> Select[Unpack[tuple[Any, ...]]]:
    """The collaborations (of the batch) in review, with the day each first entered the stage where reviews begin."""
    entered = (
        select(Event.collaboration.label("key"), func.min(Event.effective_on).label("on"))
        .join(Collaboration, Collaboration.key == Event.collaboration)
        .where(_per_definition(settings, lambda reviews: Event.to_stage == reviews.begin), *in_batch(batch))
        .group_by(Event.collaboration).subquery()
    )
    manager = aliased(User)
    return (select(Collaboration.id, Collaboration.key, Collaboration.title, Collaboration.definition_name,
                   Collaboration.definition_version, manager.name, manager.email, entered.c.on)
            .join(manager, manager.id == Collaboration.manager_id)
            .join(entered, entered.c.key == Collaboration.key)  # only the batch's: an IN here too was probed per row
            .where(in_review(settings)))


def _reviews_query(at: date, board_ids: list[int], batch: Sequence[int] | None, *, further: bool,
                   lateral: bool = False) -> Select[Unpack[tuple[Any, ...]]]:
    """The benefits (of the batch) reviewed by their own board (the handover's, once accepted) or, `further`, by
    each further board, from the day that board took them on; not retired, not yet realised.

    Each benefit's latest figure by `at` and its current (newest) handover are found per benefit through their
    indexes on benefit_id: a window over the measurements joined back was scanned per benefit by SQLite reading a
    batch (quadratic), as was an `id IN (... GROUP BY ...)` for the handover. SQLite joins on the newest figure's
    id and on "no newer handover"; PostgreSQL hashed the whole tables for those joins at every batch, so it reads
    them through LATERAL joins (`lateral`)."""
    newest_figure = (select(Measurement.id, Measurement.value, Measurement.on)
                     .where(Measurement.benefit_id == Benefit.id, Measurement.on <= at, Measurement.voided_on.is_(None))
                     .order_by(Measurement.on.desc(), Measurement.id.desc()).limit(1))
    latest: Any
    accepted: Any
    if lateral:
        latest = newest_figure.lateral()
        accepted = select(Handover).where(Handover.benefit_id == Benefit.id).order_by(Handover.id.desc()).limit(1).lateral()
        figure, handover, figure_on, handover_on = latest.c, accepted.c, true(), accepted.c.status == "accepted"
    else:
        latest, accepted, newer = aliased(Measurement), aliased(Handover), aliased(Handover)
        figure, handover = latest, accepted
        figure_on = latest.id == newest_figure.with_only_columns(Measurement.id).correlate(Benefit).scalar_subquery()
        handover_on = and_(accepted.benefit_id == Benefit.id, accepted.status == "accepted",
                           ~exists().where(newer.benefit_id == accepted.benefit_id, newer.id > accepted.id))
    owner, assigned = aliased(User), aliased(BenefitBoard)
    board_id = assigned.board_id if further else func.coalesce(handover.board_id, Benefit.board_id)
    # The day this board took the benefit on: a further board's `since`, or the handover's acceptance when it moved
    # the benefit to another board (see _benefit).
    taken_on = assigned.since if further else handover.decided_on
    realised = or_(
        and_(Benefit.target > Benefit.baseline, figure.value >= Benefit.target),
        and_(Benefit.target < Benefit.baseline, figure.value <= Benefit.target),
    )
    query = (
        select(
            Benefit.collaboration_id, Benefit.code, Benefit.title, Benefit.category, Benefit.measure, Benefit.unit,
            Benefit.baseline, Benefit.target, board_id, owner.name, owner.email, figure.value, figure.on,
            Benefit.start_on, taken_on, null() if further else Benefit.board_id, literal(further),
        )
        .select_from(Benefit)
        .outerjoin(accepted, handover_on)
        .outerjoin(latest, figure_on)
        .outerjoin(owner, owner.id == func.coalesce(handover.to_user_id, Benefit.owner_id))
        .where(Benefit.retired_on.is_(None), board_id.in_(board_ids), ~func.coalesce(realised, False),
               *([] if batch is None else [Benefit.collaboration_id.in_(batch)]))
    )
    return query.join(assigned, assigned.benefit_id == Benefit.id) if further else query


def in_batch(batch: Sequence[int] | None) -> list[ColumnElement[bool]]:
    """The collaborations of the batch (every one if None)."""
    return [] if batch is None else [Collaboration.id.in_(batch)]


def _benefit(row: Row[Unpack[tuple[Any, ...]]], programme: _Programme) -> ReviewedBenefit:
    (cid, code, title, category, measure, unit, baseline, target, board_id, oname, oemail, latest, latest_on,
     start_on, taken_on, own_board_id, further) = row
    moved_on = taken_on if board_id != own_board_id else None  # the new (or further) board owes reviews from then on
    since = programme.entered  # comparisons, not max() over a generator: 100,000 rows
    if start_on is not None and start_on > since:
        since = start_on
    if moved_on is not None and moved_on > since:
        since = moved_on
    return ReviewedBenefit(
        collaboration_id=cid, collaboration=programme.key, collaboration_title=programme.title,
        manager=programme.manager, settings=programme.settings, code=code, title=title, category=category,
        measure=measure, unit=unit, baseline=baseline, target=target, board_id=board_id,
        owner=Person(oname, oemail) if oname else None, latest=latest, latest_on=latest_on, since=since,
        own_board=not further,
    )


def pirs_due(session: Session, at: date, settings: Settings, batch: Sequence[int] | None = None) -> list[PirDue]:
    """Collaborations (of the `batch`) with a PIR scheduled, still in review, with no PIR artefact recorded by `at`."""
    manager = aliased(User)
    reported = _per_definition(settings, lambda reviews: exists().where(
        Artefact.collaboration_id == Collaboration.id, Artefact.kind == reviews.pir_artefact, Artefact.recorded_on <= at))
    query = (
        select(Collaboration.id, Collaboration.key, Collaboration.title, manager.name, manager.email,
               Collaboration.closed_on, Collaboration.pir_due, Collaboration.definition_name,
               Collaboration.definition_version)
        .join(manager, manager.id == Collaboration.manager_id)
        .where(Collaboration.pir_due.is_not(None), in_review(settings), ~reported,
               *in_batch(batch))
        .order_by(Collaboration.key)
    )
    return [PirDue(cid, key, title, Person(name, email), closed_on, cast(date, pir_due), settings[(dname, dversion)])
            for cid, key, title, name, email, closed_on, pir_due, dname, dversion in session.execute(query)]


def snapshot(session: Session, at: date, *, ahead: int, behind: int | None, board_id: int | None = None) -> Snapshot:
    """Review slots at meetings from `behind` days (plus the grace period) before `at` to `ahead` days (plus the
    agenda lead) after it; `behind=None` starts each board at its last meeting before `at`. PIRs are left out
    when one board is asked for."""
    return next(snapshots(session, at, ahead=ahead, behind=behind, board_id=board_id))


def snapshots(session: Session, at: date, *, ahead: int, behind: int | None, board_id: int | None = None,
              batch: int | None = None) -> Iterator[Snapshot]:
    """The snapshot a `batch` of collaborations at a time (all at once if None), in the order of their keys: read
    in the caller's one transaction, so the batches are consistent with each other."""
    settings = settings_by_definition(session)
    lead = max((s.agenda_days_before for s in settings.values()), default=0)
    grace = max((s.escalation_grace_days for s in settings.values()), default=0)
    end = at + timedelta(days=ahead + lead)
    meetings: dict[int, list[Meeting]] = {}
    for board in load_boards(session, board_id):
        if behind is None:
            start = board.schedule.previous(at) or at
        else:
            start = at - timedelta(days=behind + grace)
        meetings[board.id] = board_meetings(board, start, end)
    boards = [b for b, found in meetings.items() if found]
    keyed = None if batch is None else session.execute(select(Collaboration.key, Collaboration.id).where(in_review(settings)))
    for ids in [None] if keyed is None else _batches(sorted((key, cid) for key, cid in keyed), cast(int, batch)):
        slots = _slots(reviewed_benefits(session, at, boards, settings, ids), meetings)
        yield Snapshot(slots, pirs_due(session, at, settings, ids) if board_id is None else [], settings, ids)


def _batches(keyed: list[tuple[str, int]], size: int) -> Iterator[list[int]]:
    """Collaboration ids about `size` at a time, by key, never ending a batch between a key and a longer one it begins
    (SA, SA2): reminders' idempotency keys sort SA2 first, so batches sorted whole come out end to end in both orders."""
    ids: list[int] = []
    keys: set[str] = set()
    for key, cid in keyed:
        if len(ids) >= size and not any(key[:n] in keys for n in range(1, len(key))):
            yield ids
            ids, keys = [], set()
        ids.append(cid)
        keys.add(key)
    if ids:
        yield ids


def _slots(benefits: list[ReviewedBenefit], meetings: dict[int, list[Meeting]]) -> list[Slot]:
    """Each benefit's slots at its board's meetings whose reminders go out once it is under review. A meeting's
    dates are worked out once per board and lead and grace days, not once per benefit."""
    dated: dict[tuple[int, int, int], list[tuple[Meeting, date, date]]] = {}
    slots: list[Slot] = []
    for b in benefits:
        lead, grace = b.settings.agenda_days_before, b.settings.escalation_grace_days
        found = dated.get((b.board_id, lead, grace))
        if found is None:
            found = dated[(b.board_id, lead, grace)] = [
                (m, m.day - timedelta(days=lead), m.day + timedelta(days=grace)) for m in meetings[b.board_id]]
        slots.extend(Slot(b, m, opens, escalates) for m, opens, escalates in found if opens >= b.since)
    return slots
