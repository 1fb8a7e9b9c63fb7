"""The clock every use case reads: real time, or a fixed moment from COLLAB_NOW.

COLLAB_NOW (ISO 8601, Europe/London unless a zone is given) lets a demo, a test
or an operator replaying a backlog run the engine as of another moment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from workflow.errors import BadInput

LONDON = ZoneInfo("Europe/London")


def parse_moment(text: str, what: str = "datetime") -> datetime:
    """ISO date or datetime; naive values are Europe/London."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{what} {text!r} is not an ISO date or datetime (e.g. 2026-11-25 or 2026-11-25T09:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=LONDON)


def parse_day(text: str, what: str = "date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{what} {text!r} is not an ISO date (e.g. 2026-11-25)") from None


@dataclass(frozen=True)
class Clock:
    fixed: datetime | None = None

    @classmethod
    def from_env(cls) -> Clock:
        value = os.environ.get("COLLAB_NOW")
        return cls(parse_moment(value, "COLLAB_NOW") if value else None)

    def now(self) -> datetime:
        return self.fixed or datetime.now(LONDON)

    def today(self) -> date:
        return self.now().astimezone(LONDON).date()
