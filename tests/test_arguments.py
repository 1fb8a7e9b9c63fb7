"""Command-line bytes that are not UTF-8 are bad input (exit 2) with a plain message, never a traceback."""

from __future__ import annotations

import os

import pytest

from builders import people
from conftest import collab

NOT_UTF8 = os.fsdecode(b"caf\xe9")  # Latin-1 'café', as a script saved in the wrong encoding would pass it


@pytest.mark.parametrize(("args", "env", "where"), [
    (["new", NOT_UTF8, "--title", "Cafe"], {}, "an argument"),
    (["new", "CAFE", "--title", NOT_UTF8], {}, "an argument"),
    (["user", "list"], {"COLLAB_USER": NOT_UTF8}, "$COLLAB_USER"),
])
def test_invalid_utf8_is_refused_plainly(db: str, args: list[str], env: dict[str, str], where: str) -> None:
    people(db)
    before = collab(db, "history", "--all", "--json", actor="audit", check=0).json()
    result = collab(db, *args, actor=None if env else "pm", env=env, check=2)
    assert result.err.strip() == f"{where} is not valid UTF-8 text: 'caf\\xe9' (check the encoding of the terminal or script)"
    assert collab(db, "history", "--all", "--json", actor="audit", check=0).json() == before
