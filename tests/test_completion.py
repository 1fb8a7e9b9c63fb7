"""Shell completion of collaboration keys, user and board names, run as a shell runs it: the real `collab` with
click's completion variables, against the database COLLAB_DB names (both backends)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from builders import open_as, people, scoped
from conftest import COLLAB, collab


def complete(db: str, *words: str) -> list[str]:
    """What bash would offer for the last of `words` (an empty string: a new word)."""
    env = {"_COLLAB_COMPLETE": "bash_complete", "COMP_WORDS": " ".join(("collab", *words)), "COMP_CWORD": str(len(words))}
    return [line.split(",", 1)[1] for line in collab(db, env=env, check=0).out.splitlines() if line]


def test_keys_users_and_boards_complete_from_the_database(db: str) -> None:
    people(db)
    scoped(db, "SA")
    scoped(db, "SB-east")
    open_as(db, "root").add_board("Regional Board", "Dorset Police", "FREQ=MONTHLY;BYDAY=1WE", "sec")
    assert complete(db, "show", "s") == ["SA", "SB-east"]  # whatever the case
    assert complete(db, "benefit", "measure", "SB") == ["SB-east"]
    assert complete(db, "--as", "pcc") == ["pcc.dc", "pcc.do"]
    assert complete(db, "user", "update", "own") == ["owner", "owner2"]
    assert complete(db, "reviews", "--board", "R") == ["RCB", "Regional Board"]
    assert complete(db, "show", "X") == []


def test_completion_offers_nothing_and_creates_nothing_without_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "none.db"
    assert complete(str(missing), "show", "") == []
    assert not missing.exists()
    helped = subprocess.run([COLLAB, "--help"], capture_output=True, text=True, check=True)
    assert "COLLAB_DB" in helped.stdout
