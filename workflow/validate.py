"""The checks every value passes where it enters the engine, before the database or arithmetic sees it.

Each check returns the value in the form to store (a float, a date, NFC text, a normalised address)
or raises BadInput naming the thing ("the target", "the title") and what to do about it. The use
cases call these, so the CLI, a web front end and the demo refuse the same values the same way.

Only the standard library is imported here; email-validator is imported by the first `email()`.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from workflow.errors import BadInput

__all__ = [
    "EARLIEST_DAY", "HORIZON_YEARS", "MAX_MAGNITUDE", "TEXT_LENGTH", "day", "email", "financial_year", "horizon", "key",
    "money", "number", "sha256", "text",
]

# A double holds every decimal of up to 15 significant digits exactly (DBL_DIG), so below 1e15 the
# figure typed is the figure stored and shown back; and rounding it to pennies (realisation.share_savings)
# stays far inside decimal's 28 digits, which 1e27 overflows.
MAX_MAGNITUDE = 1e15
# Dates outside this window are typing mistakes, and at the edges of date's range (year 1, 9999)
# the calendar's arithmetic (review dates, meeting windows) would overflow.
EARLIEST_DAY = date(1900, 1, 1)
HORIZON_YEARS = 50
# Free text kept in a Text column (objective, rationale, reason, note) still has a bound.
TEXT_LENGTH = 10_000
EMAIL_LENGTH = 320  # the users.email column, and RFC 5321's limit

_KEY_PUNCTUATION = frozenset("-_.")
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")  # what str.splitlines() splits on
# Not control characters to Python (category Cf or Zl/Zp), but they reorder or break what a
# terminal or a report shows: bidirectional overrides and isolates, and the Unicode line breaks.
_INVISIBLE = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")


def number(value: str | float | int, what: str) -> float:
    """A finite number with |x| < MAX_MAGNITUDE, from text ("12.5", "-3e4") or a number."""
    if isinstance(value, bool):
        raise BadInput(f"{what} must be a number, not {value!r}")
    if isinstance(value, str) and not value.isascii():
        raise BadInput(f"{what} {value!r} is not a number: use the digits 0-9 (e.g. 12.5)")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise BadInput(f"{what} {value!r} is not a number (e.g. 12.5 or -3)") from None
    if not math.isfinite(result):
        raise BadInput(f"{what} {value!r} is not a finite number: give a figure such as 12.5")
    if abs(result) >= MAX_MAGNITUDE:
        raise BadInput(f"{what} {value!r} is too large: give a figure smaller than {MAX_MAGNITUDE:.0e} in size "
                       f"(use a larger unit, e.g. £m)")
    return result


def horizon(today: date) -> date:
    """The latest plausible date: HORIZON_YEARS after `today` (29 February falls back to the 28th)."""
    year = today.year + HORIZON_YEARS
    return today.replace(year=year) if (today.month, today.day) != (2, 29) else date(year, 2, 28)


def day(value: date | str, what: str, *, not_before: date | None = None, not_after: date | None = None) -> date:
    """An ISO date within a plausible window: from `not_before` (e.g. the registration date; default
    1900-01-01) to `not_after` (default HORIZON_YEARS after the computer's today; the use cases pass
    horizon(clock.today()))."""
    if isinstance(value, str):
        try:
            parsed = date.fromisoformat(value.strip())
        except ValueError:
            raise BadInput(f"{what} {value!r} is not an ISO date (e.g. 2026-11-25)") from None
    elif isinstance(value, date):
        parsed = value.date() if isinstance(value, datetime) else value  # a datetime counts by its day
    else:
        raise BadInput(f"{what} must be a date (e.g. 2026-11-25), not {value!r}")
    earliest = max(not_before or EARLIEST_DAY, EARLIEST_DAY)
    latest = not_after or horizon(date.today())
    if parsed < earliest:
        raise BadInput(f"{what} {parsed} is before {earliest}: give a date on or after {earliest}")
    if parsed > latest:
        raise BadInput(f"{what} {parsed} is after {latest}: give a date no more than {HORIZON_YEARS} years ahead")
    return parsed


def text(value: str, what: str, *, multiline: bool = False, max_length: int = TEXT_LENGTH) -> str:
    """Non-empty text, NFC-normalised and trimmed, with no control characters (ESC included) and,
    unless `multiline`, no line breaks; at most `max_length` characters, the column's size (e.g.
    `Collaboration.title.type.length`), so that PostgreSQL never refuses it with a DataError."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text, not {value!r}")
    _refuse_undecodable(value, what)
    normal = unicodedata.normalize("NFC", value.replace("\r\n", "\n") if multiline else value).strip()
    if not normal:
        raise BadInput(f"{what} must not be empty")
    for ch in normal:
        if multiline and ch in "\n\t":
            continue
        if not multiline and ch in _LINE_BREAKS:
            raise BadInput(f"{what} must be one line: remove the line break")
        if unicodedata.category(ch) == "Cc" or ch in _INVISIBLE:
            raise BadInput(f"{what} contains the control character {_describe(ch)}: remove it")
    if len(normal) > max_length:
        raise BadInput(f"{what} is {len(normal)} characters long; at most {max_length} fit: shorten it")
    return normal


def key(value: str, what: str, *, max_length: int = 40) -> str:
    """A key or a name that is typed and matched exactly (collaboration key, user name, benefit ID):
    ASCII letters, digits, '-', '_' and '.', starting with a letter or digit, so that a Cyrillic 'а'
    cannot pose as a Latin 'a' and no key reads as a command-line option."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text, not {value!r}")
    _refuse_undecodable(value, what)
    if not value:
        raise BadInput(f"{what} must not be empty")
    for ch in value:
        if not (ch.isascii() and (ch.isalnum() or ch in _KEY_PUNCTUATION)):
            raise BadInput(f"{what} {value!r} contains {_describe(ch)}: use only the letters A-Z and a-z, "
                           f"the digits 0-9, '-', '_' and '.'")
    if not value[0].isalnum():
        raise BadInput(f"{what} {value!r} must start with a letter or a digit")
    if len(value) > max_length:
        raise BadInput(f"{what} {value!r} is {len(value)} characters long; at most {max_length} fit: shorten it")
    return value


def email(value: str, what: str = "the email address") -> str:
    """Exactly one address (no display name, no list), checked by email-validator without any DNS
    lookup, returned normalised (domain lower-cased and IDNA-normalised)."""
    if not isinstance(value, str):
        raise BadInput(f"{what} must be text, not {value!r}")
    _refuse_undecodable(value, what)
    from email_validator import EmailNotValidError, validate_email

    try:
        normal = validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise BadInput(f"{what} {value!r} is not a single valid address: {error} (e.g. name@force.police.uk)") from None
    if len(normal) > EMAIL_LENGTH:
        raise BadInput(f"{what} is {len(normal)} characters long; at most {EMAIL_LENGTH} fit")
    return normal


def _refuse_undecodable(value: str, what: str) -> None:
    """A lone surrogate is how Python carries bytes that were not UTF-8 (a command-line argument)."""
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise BadInput(f"{what} is not valid UTF-8 text: retype it, or check the terminal's encoding")


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")  # control characters have none
    return f"{ch!r} (U+{ord(ch):04X}{' ' + name if name else ''})"


def percent(value: str, what: str = "the cost share") -> Decimal:
    """A percentage from 0 to 100, as the exact decimal the cost shares are stored in."""
    try:
        found = Decimal(value.strip().rstrip("%"))
    except InvalidOperation:
        raise BadInput(f"{what} {value!r} is not a number of percent (e.g. 60 or 37.5)") from None
    if not found.is_finite() or not 0 <= found <= 100:
        raise BadInput(f"{what} {value}: a percentage from 0 to 100")
    return found


MAX_POUNDS = Decimal("1e12")  # the costs columns hold 14 digits, 2 of them pence


def money(value: str, what: str) -> Decimal:
    """An amount of pounds to the penny (e.g. 1234.50), as the exact decimal stored: never a float, never
    negative (a correction is a new figure), at most two decimals."""
    text = value.strip().removeprefix("£").replace(",", "") if isinstance(value, str) else str(value)
    try:
        found = Decimal(text) if text.isascii() else None
    except InvalidOperation:
        found = None
    if found is None or not found.is_finite():
        raise BadInput(f"{what} {value!r} is not an amount of pounds (e.g. 1234.50)")
    if found < 0:
        raise BadInput(f"{what} {value!r} is negative: give the amount spent (0 or more)")
    if found.as_tuple().exponent < -2:  # type: ignore[operator]
        raise BadInput(f"{what} {value!r} has more than two decimals: give pounds to the penny (e.g. 1234.50)")
    if found >= MAX_POUNDS:
        raise BadInput(f"{what} {value!r} is too large: give less than £1,000,000,000,000")
    return abs(found).quantize(Decimal("0.01"))  # abs: -0 is 0


def sha256(value: str, what: str = "the SHA-256") -> str:
    """A SHA-256 digest as 64 hexadecimal digits, kept in lower case."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if len(text) != 64 or not all(ch in "0123456789abcdef" for ch in text):
        raise BadInput(f"{what} {value!r} is not a SHA-256: give its 64 hexadecimal digits")
    return text


def financial_year(value: str, today: date, what: str = "the financial year") -> str:
    """A UK financial year (1 April to 31 March) as written, YYYY-YY: 2026-27; none beyond the horizon of `today`."""
    text = value.strip() if isinstance(value, str) else ""
    first, _, second = text.partition("-")
    if not (len(first) == 4 and len(second) == 2 and (first + second).isdigit() and text.isascii()):
        raise BadInput(f"{what} {value!r} is not a financial year: write it as 2026-27")
    if (int(first) + 1) % 100 != int(second):
        raise BadInput(f"{what} {value!r} does not run from one year into the next: write {first}-{(int(first) + 1) % 100:02d}")
    if not EARLIEST_DAY.year <= int(first) <= horizon(today).year:
        raise BadInput(f"{what} {value!r} is out of range: give a year from {EARLIEST_DAY.year} to {HORIZON_YEARS} years ahead")
    return text
