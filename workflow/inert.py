"""Make stored text inert where it is shown: a spreadsheet cell that runs nothing, a terminal line that
draws nothing but itself.

Values are checked where they enter (workflow.validate), but a database written by an older collab,
or edited by hand, can still hold a formula or an escape sequence; so every output path passes its
cells through here. Standard library only: the CLI imports this at start-up.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["csv_cell", "terminal"]

# OWASP "CSV Injection": a cell starting with one of these is taken as a formula by Excel,
# LibreOffice or Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?", re.ASCII)
# Characters that are not Cc but move text around or break the line when shown.
_LAYOUT = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a leading =, +, -, @, tab or CR gets a single quote
    in front ("'=HYPERLINK(...)"). Numbers, and text that is a plain negative number ("-12.5"), are left
    as they are, so figures stay figures."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_START):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def terminal(value: Any) -> str:
    """`str(value)` on one line with nothing for the terminal to obey: control characters (ESC, BEL,
    backspace, CR, line feed, tab), Unicode line breaks and bidirectional overrides are written out
    as Python escapes (\\x1b, \\n, \\u202e), so a stored value can neither colour or clear the screen
    nor forge a line of `history` output."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable():  # the usual case: nothing to escape
        return text
    return "".join(_escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if unicodedata.category(ch) == "Cc" or ch in _LAYOUT or "\ud800" <= ch <= "\udfff":
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch
