"""Checks every value passes where it enters the engine; each names the thing and what to give instead."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from workflow.errors import BadInput, reason


def text(value: str | None, what: str) -> str:
    if value is None or not value.strip():
        raise BadInput(reason("empty", f"{what} must not be empty", what=what))
    return value


def key(value: str, what: str) -> str:
    if not value or not all(ch.isalnum() or ch in "-_." for ch in value) or len(value) > 40:
        raise BadInput(reason("bad-key", f"{what} {value!r}: use up to 40 letters, digits, '-', '_' or '.'", what=what))
    return value


def number(value: str | float, what: str) -> float:
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise BadInput(reason("not-a-number", f"{what} {value!r} is not a number", what=what)) from None
    if found != found or found in (float("inf"), float("-inf")):
        raise BadInput(reason("not-finite", f"{what} {value!r} is not a finite number", what=what))
    return found


def percent(value: str, what: str = "the cost share") -> Decimal:
    try:
        found = Decimal(value.strip().rstrip("%"))
    except InvalidOperation:
        raise BadInput(reason("not-a-percentage", f"{what} {value!r} is not a number of percent (e.g. 60 or 37.5)",
                              what=what)) from None
    if not found.is_finite() or not 0 <= found <= 100:
        raise BadInput(reason("not-a-percentage", f"{what} {value}: a percentage from 0 to 100", what=what))
    return found
