"""Start-up stays light, migrations match the models, and the demo runs end to end."""

import os
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

from builders import open_as, people, scoped
from conftest import collab
from workflow import db as database

PROBE = """
import sys
sys.argv = ["collab", *{args!r}]
import cli
try:
    cli.main()
except SystemExit:
    pass
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print("HEAVY:", ",".join(heavy))
"""
# What only some commands need: passwords (argon2), notifications (workflow.reminders, jinja2, icalendar),
# meeting dates (holidays), schema upgrades (alembic). A write in one process pays for none of them (issue 14).
NOT_FOR_A_MOVE = ("argon2", "workflow.reminders", "jinja2", "icalendar", "holidays", "alembic")


def probe(args: list[str], heavy: tuple[str, ...], env: dict[str, str] | None = None) -> str:
    """The heavy modules among `heavy` that `collab ARGS` imported."""
    out = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy)], capture_output=True,
                         text=True, check=True, env=env).stdout
    return out.strip().splitlines()[-1]


def test_help_and_version_import_nothing_heavy() -> None:
    for arg in ("--help", "--version"):
        assert probe([arg], ("sqlalchemy", "transitions", "jinja2", "alembic", "yaml")) == "HEAVY:"


def test_a_move_imports_only_what_moving_needs(db: str) -> None:
    people(db)
    scoped(db)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")}, "COLLAB_DB": db, "COLLAB_USER": "pm"}
    assert probe(["hold", "SA", "--reason", "budget review"], NOT_FOR_A_MOVE, env) == "HEAVY:"
    assert probe(["resume", "SA"], NOT_FOR_A_MOVE, env) == "HEAVY:"
    assert open_as(db, "pm").show("SA")["stage"] == "scoping"  # both moves ran: held, then resumed


def test_schema_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(database.MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == database.SCHEMA_REVISION


def test_migrations_create_what_the_models_declare(db: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from workflow.model import Base

    with database.engine_for(db).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_demo_walks_the_strategic_alliance(tmp_path: Path) -> None:
    target = tmp_path / "demo.db"
    result = collab(str(tmp_path / "unused.db"), "demo", "--db", str(target), check=0)
    assert "refused (exit 1):" in result.out
    assert "- Dorset Police PCC has not approved the delivery gate" in result.out
    assert f"collab --db {target} serve --insecure-cookies" in result.out  # and how to open it in a browser
    app = open_as(str(target), "auditor")
    shown = app.show("SA")
    assert shown["stage"] == "bau"  # the demo walks every gate, to business as usual
    assert [b["category"] for b in shown["benefits"]].count("effectiveness") == 5
    assert {b["category"] for b in shown["benefits"]} == {"economic", "efficiency", "effectiveness"}
    assert app.verify().ok
    collab(str(tmp_path / "unused.db"), "demo", "--db", str(target), check=0)  # a second run replaces the first


def test_demo_leaves_other_databases_alone(tmp_path: Path) -> None:
    precious = tmp_path / "precious.db"
    collab(str(precious), "init", check=0)
    collab(str(precious), "user", "add", "root", "--role", "admin", check=0)
    result = collab(str(precious), "demo", "--db", str(precious), check=2)
    assert "is not an earlier demo" in result.err
    assert open_as(str(precious), "root").users()[0]["name"] == "root"
