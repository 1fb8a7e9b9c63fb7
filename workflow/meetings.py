"""A board's meetings as held: its schedule (calendar.py) with the meeting time it set, and each meeting
moved or cancelled one at a time.

A change is kept against the occurrence of the schedule it changes (its own date), so that the meeting
keeps its identity (the iCalendar UID) wherever it is moved, and `sequence` counts the changes made to it.
A cancelled meeting owes no reviews; a moved one owes them on its new day. The functions here read plain
data; `changes_by_board` is the one statement that loads the changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow import calendar
from workflow.clock import LONDON
from workflow.model import Board, MeetingChange

CANCELLED, MOVED = "cancelled", "moved"
_LOOK_BACK = 60  # cancelled meetings skipped at most, looking for the one before a window


@dataclass(frozen=True)
class Change:
    meeting: date  # the occurrence of the schedule changed
    status: str  # MOVED or CANCELLED
    moved_to: date | None
    sequence: int
    reason: str | None = None
    changed_on: date | None = None


@dataclass(frozen=True)
class Held:
    """One meeting as it will be (or was) held."""

    starts: datetime  # Europe/London
    occurrence: date  # the schedule's date for it: its identity
    sequence: int  # changes made to it (0: as scheduled)


@dataclass(frozen=True)
class Schedule:
    rule: str
    anchor: date
    meets_at: time | None = None
    changes: tuple[Change, ...] = ()

    @property
    def by_meeting(self) -> Mapping[date, Change]:
        return {c.meeting: c for c in self.changes}

    def at(self, starts: datetime, day: date) -> datetime:
        """A meeting on `day`, at the board's time (else the schedule's time of day)."""
        return datetime.combine(day, self.meets_at or starts.timetz().replace(tzinfo=None), tzinfo=LONDON)

    def occurrences(self, start: date, end: date) -> list[datetime]:
        """The schedule's own meetings in [start, end], before any change."""
        return calendar.meetings(self.rule, self.anchor, start, end)

    def occurrence(self, day: date) -> datetime | None:
        found = self.occurrences(day, day)
        return found[0] if found else None

    def held(self, start: date, end: date) -> list[Held]:
        """The meetings held in [start, end]: the schedule's, less those cancelled or moved out, plus those moved in."""
        changes = self.by_meeting
        found: dict[date, Held] = {}
        for starts in self.occurrences(start, end):
            day = starts.date()
            change = changes.get(day)
            if change is None:
                found[day] = Held(self.at(starts, day), day, 0)
        for change in changes.values():
            if change.status != MOVED or change.moved_to is None or not start <= change.moved_to <= end:
                continue
            scheduled = self.occurrence(change.meeting)
            if scheduled is not None:
                found[change.moved_to] = Held(self.at(scheduled, change.moved_to), change.meeting, change.sequence)
        return [found[day] for day in sorted(found)]

    def previous(self, before: date) -> date | None:
        """The day of the last meeting held before `before`: the schedule's last unchanged one, or a meeting
        moved to a day before it, whichever is later."""
        changes = self.by_meeting
        moved = [c.moved_to for c in changes.values() if c.status == MOVED and c.moved_to is not None and c.moved_to < before]
        day = before
        for _ in range(_LOOK_BACK):
            found = calendar.previous_meeting(self.rule, self.anchor, day)
            if found is None or found.date() not in changes:
                return max([*moved, *([found.date()] if found else [])], default=None)
            day = found.date()
        return max(moved, default=None)

    def nearest(self, day: date, count: int = 2) -> list[date]:
        """The schedule's meetings nearest `day` (`count` before and after), to name when `day` is not one."""
        before: list[date] = []
        after: list[date] = []
        probe = day
        for _ in range(count):
            found = calendar.previous_meeting(self.rule, self.anchor, probe)
            if found is None:
                break
            before.insert(0, probe := found.date())
        probe = day
        for _ in range(count):
            following = calendar.next_meeting(self.rule, self.anchor, probe)
            if following is None:
                break
            after.append(following.date())
            probe = date.fromordinal(following.date().toordinal() + 1)
        return before + after


def schedule_of(session: Session, board: Board) -> Schedule:
    """The board's schedule with its time of day and every change to its meetings."""
    changes = changes_by_board(session, [board.id]).get(board.id, ())
    return Schedule(board.meets, board.anchor, clock_time(board.meets_at), changes)


def changes_by_board(session: Session, board_ids: Iterable[int] | None = None) -> dict[int, tuple[Change, ...]]:
    """Every change to a meeting, per board (one statement)."""
    query = select(MeetingChange).order_by(MeetingChange.meeting)
    if board_ids is not None:
        query = query.where(MeetingChange.board_id.in_(list(board_ids)))
    found: dict[int, list[Change]] = {}
    for c in session.scalars(query):
        found.setdefault(c.board_id, []).append(Change(c.meeting, c.status, c.moved_to, c.sequence, c.reason, c.changed_on))
    return {board: tuple(changes) for board, changes in found.items()}


def clock_time(value: str | None) -> time | None:
    """A stored HH:MM as a time of day."""
    return None if value is None else time.fromisoformat(value)
