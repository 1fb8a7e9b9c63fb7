"""How numbers, quantities, dates and times read, in mail, reports and on screen alike (locale-independent)."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

DISPLAY_ZONE = ZoneInfo("Europe/London")

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


def _local(value: date) -> date:
    """An aware datetime shown in UK time; a naive one or a date as given."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(DISPLAY_ZONE)
    return value


def format_date(value: date) -> str:
    """``date(2027, 1, 5)`` -> ``'Tue 5 January 2027'`` (independent of the process locale)."""
    if not isinstance(value, date):
        raise TypeError(f"date filter expects a date or datetime, got {type(value).__name__}")
    value = _local(value)
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def format_time(value: datetime) -> str:
    """``datetime(2027, 1, 5, 14, 0)`` -> ``'14:00'`` (aware datetimes in UK time)."""
    if not isinstance(value, datetime):
        raise TypeError(f"time filter expects a datetime, got {type(value).__name__}")
    return f"{_local(value):%H:%M}"


def format_number(value: int | float | Decimal, places: int = 2) -> str:
    """Thousands separators, at most ``places`` decimals, no trailing zeros.

    ``1234567`` -> ``'1,234,567'``, ``1234.0`` -> ``'1,234'``, ``0.125`` -> ``'0.13'``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"number filter expects a number, got {type(value).__name__}")
    if isinstance(value, int):
        return f"{value:,}"
    text = f"{value:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_quantity(value: int | float | Decimal, unit: str = "", places: int = 2) -> str:
    """A number with its unit: ``'82%'``, ``'£12,500'``, ``'1,250 hours'``."""
    number = format_number(value, places)
    unit = (unit or "").strip()
    if not unit:
        return number
    if unit == "%":
        return f"{number}%"
    if unit in {"£", "GBP"}:
        return f"-£{number[1:]}" if number.startswith("-") else f"£{number}"
    return f"{number} {unit}"


#: The template filters of notifications/ and reports.
FILTERS: dict[str, Callable[..., str]] = {
    "date": format_date, "time": format_time, "number": format_number, "quantity": format_quantity,
}


@functools.lru_cache(maxsize=8)
def _encoder(default: Callable[[Any], Any] | None) -> Callable[[Any], str]:
    """One encoder per `default`, made once: json.dumps with any option builds a new JSONEncoder each call, whose
    encode() makes a new C encoder each call (half the time of a listing's row); this is the C encoder it makes."""
    from json.encoder import c_make_encoder, encode_basestring  # type: ignore[attr-defined]

    encoder = json.JSONEncoder(ensure_ascii=False, default=default)
    if c_make_encoder is None:  # a Python built without the C accelerator
        return encoder.encode
    make = c_make_encoder(None, encoder.default, encode_basestring, None, ": ", ", ", False, False, True)
    return lambda value: "".join(make(value, 0))


def to_json(value: Any, depth: int = 0, laid_out: int = 2, default: Callable[[Any], Any] | None = None) -> str:
    """JSON with the first `laid_out` levels one member a line (a portfolio: one collaboration a line), each
    deeper value compact on its line; `default` encodes what JSON cannot (as json.dumps's).

    Each deeper value is encoded in one call of the C encoder; json.dumps with indent= encodes in
    pure Python, which took a third of `report --all` on 10,000 collaborations.
    """
    parts: list[str] = []
    write_json(value, parts.append, depth, laid_out, default)
    return "".join(parts)


def write_json(value: Any, write: Callable[[str], object], depth: int = 0, laid_out: int = 2,
               default: Callable[[Any], Any] | None = None) -> None:
    """to_json's text, handed to `write` a piece at a time; a list may be an iterator, written an item at a time
    as it comes (`reviews --json` and `remind --dry-run --json` stream their rows)."""
    container = isinstance(value, (dict, list))
    streamed = not container and isinstance(value, Iterator)  # the ABC's check, slow, only for what is neither
    if depth >= laid_out or not (container or streamed) or (container and not value):
        write(_encoder(default)(list(value) if streamed else value))
        return
    inner, outer = "  " * (depth + 1), "  " * depth
    if isinstance(value, dict):
        for n, (k, v) in enumerate(value.items()):
            write(f"{',' if n else '{'}\n{inner}{json.dumps(str(k), ensure_ascii=False)}: ")
            write_json(v, write, depth + 1, laid_out, default)
        write(f"\n{outer}}}")
        return
    empty = True
    if depth + 1 >= laid_out:  # each item compact on its line: the line in one write, the encoder fetched once
        encode = _encoder(default)
        for item in value:
            streamed = not isinstance(item, (dict, list)) and isinstance(item, Iterator)
            write(f"{'[' if empty else ','}\n{inner}{encode(list(item) if streamed else item)}")
            empty = False
        write("[]" if empty else f"\n{outer}]")
        return
    for item in value:
        write(f"{'[' if empty else ','}\n{inner}")
        write_json(item, write, depth + 1, laid_out, default)
        empty = False
    write("[]" if empty else f"\n{outer}]")
