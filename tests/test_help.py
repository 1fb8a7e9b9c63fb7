"""Every command and group explains itself: a non-empty help, and `collab --help` names every environment
variable collab reads."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click

import cli
from conftest import COLLAB

ROOT = Path(cli.__file__).parent


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield " ".join((*path, name)), command
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def test_every_command_and_group_has_help() -> None:
    walked = dict(commands(cli.cli))
    assert {"user update", "digest", "remind", "audit verify"} <= set(walked)
    missing = [name for name, command in walked.items() if not (command.help or "").strip()]
    assert missing == []


def test_help_names_every_environment_variable_collab_reads() -> None:
    sources = [ROOT / "cli.py", *(ROOT / "workflow").glob("*.py"), *(ROOT / "notifications").glob("*.py"),
               *(ROOT / "web").glob("*.py")]
    # a quoted name is read from the environment, but a Flask config key (config["COLLAB_CLOCK"]) is not
    read = {name for path in sources for name in re.findall(r'(?<!config\[)"(COLLAB_[A-Z_]+)"', path.read_text())}
    helped = subprocess.run([COLLAB, "--help"], capture_output=True, text=True, check=True).stdout
    assert {"COLLAB_DB", "COLLAB_DIGEST_DAY"} <= read
    assert sorted(name for name in read if name not in helped) == []
