"""docs/commands.md is the commands' own help, so the README's reference cannot drift from the code."""

from __future__ import annotations

import runpy
from pathlib import Path

from cli import cli

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_command_reference_is_the_help_of_every_command() -> None:
    reference = runpy.run_path(str(DOCS / "commands.py"))["reference"]
    assert (DOCS / "commands.md").read_text() == reference(cli), "run: python docs/commands.py > docs/commands.md"
