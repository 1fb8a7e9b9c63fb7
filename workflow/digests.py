"""The weekly digest: once a week each person is sent one message listing what `collab todo` lists for them,
in place of a stream of single reminders they would otherwise have to piece together.

A digest is an occurrence like any reminder (workflow/reminders.py sends it through the delivery log), keyed by
the week (its Monday) and the person, so it goes out once a week however often `remind` or `digest` runs.
Someone who owes nothing gets no digest; someone who owes something but has no email address is reported.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.context import Actor
from workflow.delivery import Entry
from workflow.errors import BadInput, reason
from workflow.model import User

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NEVER = ("", "none")


def weekday(name: str) -> int | None:
    """The weekday (Monday 0) named by the COLLAB_DIGEST_DAY setting; None (no digest with the reminders) if unset."""
    chosen = name.strip().lower()
    if chosen in NEVER:
        return None
    matches = [n for n, day in enumerate(WEEKDAYS) if day.startswith(chosen) and len(chosen) >= 3]
    if not matches:
        raise BadInput(reason("bad-digest-day", f"COLLAB_DIGEST_DAY={name!r} is not a weekday: give one of "
                              f"{', '.join(WEEKDAYS)} (or none)", day=name))
    return matches[0]


def week_of(day: date) -> date:
    """The Monday of the week `day` is in: the digest's date, and its key."""
    return day - timedelta(days=day.weekday())


def owed(session: Session, today: date) -> tuple[list[tuple[Entry, dict[str, Any]]], list[tuple[str, str]]]:
    """This week's digests: (entry, template context) for each active person who owes something and has an
    address, and (key, name) of each who owes something but has none."""
    from workflow.todo import owed_today, todo  # todo reads what reminders cannot send, and reminders sends digests

    week, reviews = week_of(today), owed_today(session, today)  # worked out once for everyone
    found, unreachable = [], []
    people = select(User).options(selectinload(User.held)).where(User.deactivated_on.is_(None)).order_by(User.name)
    for user in session.scalars(people):
        items = [{**item, "due_on": date.fromisoformat(item["due_on"]) if item["due_on"] else None}
                 for item in todo(session, Actor.of(user), today, reviews)]
        if not items:
            continue
        key = f"digest:*:week:{week.isoformat()}:{user.name}"
        if not user.email:
            unreachable.append((key, user.name))
            continue
        found.append((Entry(key, "digest", None, user.name, user.email, week),
                      {"recipient": {"name": user.name, "email": user.email}, "week": week, "items": items}))
    return found, unreachable
