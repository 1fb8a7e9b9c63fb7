"""The entry checks of workflow.validate: worked examples of what passes, in what form, and what is refused."""

import subprocess
import sys
from datetime import date, datetime

import pytest

from workflow import validate
from workflow.errors import BadInput
from workflow.realisation import share_savings


def refused(check, *args, **kwargs) -> str:
    with pytest.raises(BadInput) as caught:
        check(*args, **kwargs)
    return str(caught.value)


# -- number ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "expected"), [
    ("12.5", 12.5), ("-3", -3.0), (" 4e3 ", 4000.0), (7, 7.0), (0.1, 0.1), ("999999999999999", 999999999999999.0),
])
def test_number_accepts_finite_figures(given, expected) -> None:
    assert validate.number(given, "the target") == expected


@pytest.mark.parametrize(("given", "problem"), [
    ("twelve", "the target 'twelve' is not a number"),
    ("nan", "is not a finite number"),
    ("-inf", "is not a finite number"),
    ("1e400", "is not a finite number"),  # float() gives inf
    ("1e27", "too large"),
    ("1e15", "too large"),
    ("-2e15", "too large"),
    ("１２", "use the digits 0-9"),  # full-width digits, which float() would take
    (True, "must be a number"),
    (None, "is not a number"),
])
def test_number_refuses_what_cannot_be_stored_and_computed(given, problem) -> None:
    message = refused(validate.number, given, "the target")
    assert message.startswith("the target") and problem in message


def test_the_largest_number_still_splits_into_pennies() -> None:
    """Just below the bound, decimal arithmetic on it works; at 1e27 (once accepted) it raised InvalidOperation."""
    largest = validate.number("999999999999999", "the saving")
    parts = share_savings(largest, {"a": 33.333, "b": 66.667})
    assert sum(parts.values()) == pytest.approx(largest)


# -- day ------------------------------------------------------------------------------------------


def test_day_parses_iso_and_keeps_dates() -> None:
    assert validate.day("2026-11-25", "the target date") == date(2026, 11, 25)
    assert validate.day(date(2026, 11, 25), "the target date") == date(2026, 11, 25)
    assert validate.day(datetime(2026, 11, 25, 9, 30), "the target date") == date(2026, 11, 25)


def test_day_window() -> None:
    registered, today = date(2026, 1, 6), date(2026, 11, 30)
    latest = validate.horizon(today)
    assert latest == date(2076, 11, 30)
    assert validate.day("2026-01-06", "the date", not_before=registered, not_after=latest) == registered
    assert validate.day("2076-11-30", "the date", not_before=registered, not_after=latest) == latest
    assert refused(validate.day, "2026-01-05", "the date", not_before=registered) == (
        "the date 2026-01-05 is before 2026-01-06: give a date on or after 2026-01-06")
    assert refused(validate.day, "2076-12-01", "the date", not_after=latest) == (
        "the date 2076-12-01 is after 2076-11-30: give a date no more than 50 years ahead")
    assert "is before 1900-01-01" in refused(validate.day, "0001-01-01", "the date")
    assert "no more than 50 years ahead" in refused(validate.day, "9999-12-31", "the date")
    assert validate.horizon(date(2028, 2, 29)) == date(2078, 2, 28)


@pytest.mark.parametrize("given", ["2026-13-01", "25/11/2026", "", "tomorrow"])
def test_day_refuses_what_is_not_an_iso_date(given) -> None:
    assert "is not an ISO date (e.g. 2026-11-25)" in refused(validate.day, given, "the target date")


# -- text -----------------------------------------------------------------------------------------


def test_text_is_trimmed_and_nfc_normalised() -> None:
    decomposed = "Cafe\u0301 alliance"  # 'e' + combining acute
    assert validate.text(f"  {decomposed} ", "the title") == "Café alliance"
    assert len(validate.text(decomposed, "the title")) == len("Café alliance")


def test_text_multiline_keeps_line_breaks_and_tabs_and_unifies_crlf() -> None:
    assert validate.text("first\r\nsecond\n\tthird", "the note", multiline=True) == "first\nsecond\n\tthird"


@pytest.mark.parametrize(("given", "problem"), [
    ("two\nlines", "the title must be one line: remove the line break"),
    ("two\rlines", "the title must be one line"),
    ("two\u2028lines", "the title must be one line"),
    ("red \x1b[31malert", "the title contains the control character '\\x1b' (U+001B): remove it"),
    ("bell\x07", "U+0007"),
    ("tab\there", "U+0009"),
    ("evil\u202etxt.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("   ", "the title must not be empty"),
    ("bad \udcff byte", "the title is not valid UTF-8 text"),
])
def test_text_refusals(given, problem) -> None:
    assert problem in refused(validate.text, given, "the title")


def test_text_multiline_still_refuses_escape() -> None:
    assert "U+001B" in refused(validate.text, "line\n\x1b[2Jcleared", "the note", multiline=True)


def test_text_length_is_the_columns() -> None:
    assert validate.text("x" * 300, "the title", max_length=300) == "x" * 300
    assert refused(validate.text, "x" * 301, "the title", max_length=300) == (
        "the title is 301 characters long; at most 300 fit: shorten it")
    assert "at most 10000 fit" in refused(validate.text, "x" * 10_001, "the objective", multiline=True)


# -- key ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["SA", "pm.alliance", "cc.devon-cornwall", "B1", "2026_q1"])
def test_key_accepts_the_safe_script(given) -> None:
    assert validate.key(given, "the key") == given


def test_key_refuses_a_cyrillic_look_alike_naming_it() -> None:
    assert refused(validate.key, "S\u0410", "the key") == (
        "the key 'SА' contains 'А' (U+0410 CYRILLIC CAPITAL LETTER A): use only the letters A-Z and a-z, "
        "the digits 0-9, '-', '_' and '.'")


@pytest.mark.parametrize(("given", "problem"), [
    ("two words", "SPACE"),
    ("caf\u00e9", "LATIN SMALL LETTER E WITH ACUTE"),
    ("x\x1b", "U+001B"),
    ("-rf", "must start with a letter or a digit"),
    ("..", "must start with a letter or a digit"),
    ("", "the key must not be empty"),
    ("k" * 41, "is 41 characters long; at most 40 fit"),
])
def test_key_refusals(given, problem) -> None:
    assert problem in refused(validate.key, given, "the key")


def test_key_length_can_be_the_columns() -> None:
    assert validate.key("u" * 120, "the user name", max_length=120) == "u" * 120


# -- email ----------------------------------------------------------------------------------------


def test_email_is_normalised() -> None:
    assert validate.email(" Finance.Lead@Alliance.EXAMPLE ") == "Finance.Lead@alliance.example"


@pytest.mark.parametrize(("given", "problem"), [
    ("a@x.org, b@y.org", "invalid characters"),
    ("Boss <boss@x.org>", "display name"),
    ("a@x.org\nBcc: c@y.org", "invalid characters"),
    ("nobody", "@-sign"),
    ("a@localhost", "period"),
])
def test_email_refuses_anything_but_one_address(given, problem) -> None:
    message = refused(validate.email, given)
    assert message.startswith(f"the email address {given!r} is not a single valid address: ")
    assert problem in message


def test_importing_validate_loads_nothing_heavy() -> None:
    probe = ("import sys, workflow.validate; "
             "print(sorted(m for m in ('sqlalchemy', 'email_validator', 'yaml', 'dns') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
