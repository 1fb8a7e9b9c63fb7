"""`collab`: the command line over the engine's API (workflow.service). Parse, call a use case, render.

The engine explains refusals with structured reasons; only this shell turns them into hints of
which command to type. Heavy modules (SQLAlchemy, transitions, jinja2) are imported inside the
commands so that `collab --help` and `collab --version` start fast.

Environment: COLLAB_DB (the database), COLLAB_USER (the acting person), COLLAB_NOW (run as of
another moment), COLLAB_SMTP / COLLAB_MAIL_FROM / COLLAB_OUTBOX (where reminders go),
COLLAB_TEMPLATES (notification templates), COLLAB_DIGEST_DAY (the weekly digest's day), COLLAB_KEY /
COLLAB_KEY_PASSPHRASE (signing), COLLAB_SECRET_KEY (the web app's CSRF key).
"""

from __future__ import annotations

import csv
import functools
import gc
import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from workflow import __version__
from workflow.errors import CollabError, Reason
from workflow.inert import csv_cell, terminal
from workflow.vocabulary import (CATEGORIES, COST_CATEGORIES, LOGIN_KINDS, ORIGINS, OUTCOMES, PARTNER_KINDS,
                                 RISK_APPETITES, ROLES)

if TYPE_CHECKING:
    from workflow.service import Collab

# What to type next, by the code of an engine's reason (its params fill the slots).
HINTS = {
    "objective-missing": " (collab update {key} --objective TEXT)",
    "public-benefit-missing": " (collab update {key} --public-benefit TEXT)",
    "rationale-missing": " (collab update {key} --rationale TEXT)",
    "too-few-partners": " (collab partner add {key} ORG)",
    "risk-appetite-missing": " (collab partner add {key} '{partner}' --risk-appetite LEVEL)",
    "cost-share-missing": " (collab partner add {key} '{partner}' --cost-share PERCENT)",
    "too-few-benefits": " (collab benefit add)",
    "artefact-missing": " (collab artefact add {key} {kind} --ref TEXT)",
    "handover-not-proposed": " (collab benefit handover {key} {benefit})",
    "too-few-lessons": " (collab lesson add {key} TEXT)",
    "reason-missing": " (--reason TEXT)",
    "actor-missing": " with --as NAME (or COLLAB_USER)",
    "unknown-user": " (collab user list shows who is registered)",
    "reassignment-needed": " with --reassign-to USER",
    "unknown-collaboration": " (collab list shows them)",
    "unknown-board": " (collab board list shows them)",
    "unknown-benefit": " (collab benefit list {key} shows them)",
    "unknown-partner": " (collab show {key} lists its partners)",
    "unknown-objective": " (collab objective list {key} shows them; collab objective add {key} ID --title TEXT)",
    "benefit-not-linked": " (collab benefit link {key} {benefit} --objective OBJ or --contributes-to BID)",
    "unknown-definition": " (collab definition list shows them)",
    "first-user-admin": " (collab user add {name} --role admin)",
    "destination-ambiguous": " with --to",
    "no-counterpart": " with --map {stage}=NEW",
    "bad-recurrence": " (--meets RRULE, e.g. FREQ=MONTHLY;BYDAY=1TU)",
    "bad-new-recurrence": " (--rule RRULE, e.g. FREQ=MONTHLY;BYDAY=1TU)",
    "board-still-reviews": " (collab benefit update {key} {benefit} --board BOARD)",
    "not-initialised": ": run `collab init`",
    "no-database-file": ": run `collab init` to create it (there is no such file; or check --db)",
    "not-a-database": ": check --db",
    "database-is-a-directory": ": give a file path with --db",
    "schema-behind": ": run `collab init`",
    "signature-required": " (collab key new, then collab approve {key} --gate {gate} --key FILE)",
    "approval-unsigned": " (collab approve {key} --gate {gate} --key FILE, as that person)",
    "login-required": " (connect as that login: its user name in --db or COLLAB_DB)",
    "no-such-login": "; then collab grant {login} --kind writer",
    "login-failed": " (an admin sets a password with collab user password NAME)",
    "removal-is-variation": " (to vary the agreement: collab partner remove {key} '{partner}' --reason TEXT --variation)",
    "removal-needs-retirement": " (collab benefit retire {key} {benefit} --reason TEXT)",
    "no-such-measurement": " (collab history {key} --action measured lists the figures)",
}
LISTING_FIELDS = {"history": ("seq", "recorded_at", "effective_on", "collaboration", "actor", "action", "from_stage",
                              "to_stage", "reason", "payload", "hash", "prev_hash")}


def hinted(reason: Reason) -> str:
    """The reason's sentence, with what to type where the CLI knows it."""
    hint = HINTS.get(reason.code)
    try:
        return reason.text + hint.format(**reason.params) if hint else reason.text
    except (KeyError, IndexError):
        return reason.text


class IsoDate(click.ParamType):
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not an ISO date (e.g. 2026-11-25)", param, ctx)


DATE = IsoDate()


class ProgressBar:
    """The engine's progress callback as a bar on stderr: only on a terminal, and only once the run has taken
    more than a second (a quick run shows nothing). `clock` is the time source, for tests."""

    def __init__(self, label: str, stream: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.stream, self.clock = label, stream or sys.stderr, clock
        self.started = clock()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not self.stream.isatty() or self.clock() - self.started <= 1:
                return
            self.bar = click.progressbar(length=total, label=self.label, file=self.stream)
        self.bar.update(done - self.bar.pos)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.render_finish()


def completing(kind: str) -> Callable[[click.Context, click.Parameter, str], list[str]]:
    """Shell completion of a collaboration key, user or board name from the database that --db (or COLLAB_DB)
    names; the engine is imported only when completing, so `collab --help` stays as quick as it was."""
    def complete(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
        from workflow.lookups import completions

        return completions(ctx.find_root().params.get("db") or "collab.db", kind, incomplete)
    return complete


KEYS, USERS, BOARDS = completing("collaboration"), completing("user"), completing("board")


class CollabGroup(click.Group):
    """Turns the engine's expected failures into their exit codes, with no traceback."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Bytes that are not UTF-8 reach Python as lone surrogates, which no database or terminal takes.
        for where, value in [*(("an argument", a) for a in args),
                             *((f"${k}", v) for k, v in os.environ.items() if k.startswith("COLLAB_"))]:
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                shown = repr(value.encode("utf-8", "surrogateescape"))[1:]
                click.echo(f"{where} is not valid UTF-8 text: {shown} (check the encoding of the terminal or script)", err=True)
                ctx.exit(2)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CollabError as error:
            for reason in error.reasons:
                click.echo(hinted(reason), err=True)
            ctx.exit(error.exit_code)


class Settings:
    def __init__(self, db: str, actor: str | None) -> None:
        self.db = db
        self.actor = actor
        self._app: Collab | None = None

    def app(self) -> Collab:
        if self._app is None:
            from workflow.clock import Clock, parse_moment
            from workflow.service import Collab

            now = os.environ.get("COLLAB_NOW")
            self._app = Collab.open(self.db, self.actor, Clock(parse_moment(now, "COLLAB_NOW") if now else None))
        return self._app


pass_settings = click.make_pass_decorator(Settings)


def emit_json(value: Any) -> None:
    """A listing one row a line; an object one member a line, each of its lists one item a line (json.dumps
    with indent= encodes in pure Python: seconds for `reviews --json` over 100,000 benefits). A listing given
    as an iterator is written as it comes."""
    from workflow.formatting import write_json

    write_json(value, sys.stdout.write, laid_out=1 if isinstance(value, (list, Iterator)) else 2, default=str)
    click.echo()


def emit_csv(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v)
                         for k, v in row.items()})


def emit_table(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if row.get(f) is None else terminal(row.get(f))) for f in fields] for row in rows]
    widths = [max(len(f), *(len(c[i]) for c in cells)) for i, f in enumerate(fields)]
    click.echo("  ".join(f.upper().ljust(w) for f, w in zip(fields, widths)).rstrip())
    for c in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())


def listing(*fields: str, text: Callable[..., None] | None = None) -> Callable[..., Any]:
    """--json and --csv on a command that returns rows; as text, a table of `fields` (or `text(rows, **params)`)."""
    def decorate(command: Callable[..., Iterable[dict[str, Any]]]) -> Callable[..., None]:
        @click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
        @click.option("--csv", "as_csv", is_flag=True, help="Print the rows as CSV.")
        @functools.wraps(command)
        def run(*args: Any, as_json: bool, as_csv: bool, **kwargs: Any) -> None:
            if as_json and as_csv:
                raise click.UsageError("choose one of --json and --csv")
            rows = command(*args, **kwargs)  # a list, or an iterator of a long listing (`reviews`)
            if as_json:
                emit_json(rows)
            elif as_csv:
                emit_csv(rows, fields)
            elif text is not None:
                text(list(rows), **kwargs)
            else:
                emit_table(list(rows), fields)
        return run
    return decorate


def written(text: Callable[[dict[str, Any]], str]) -> Callable[..., Any]:
    """--json on a command that writes: the use case's result (what was written) as JSON, else `text(result)`."""
    def decorate(command: Callable[..., dict[str, Any]]) -> Callable[..., None]:
        @click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
        @functools.wraps(command)
        def run(*args: Any, as_json: bool, **kwargs: Any) -> None:
            done = command(*args, **kwargs)
            emit_json(done) if as_json else click.echo(text(done))
        return run
    return decorate


def key_and_benefit(command: Callable[..., Any]) -> Callable[..., Any]:
    """The KEY and ID arguments of every command on one benefit."""
    return click.argument("key", shell_complete=KEYS)(click.argument("benefit_id", metavar="ID")(command))


def write_text(text: str, out: str | None) -> None:
    """To FILE (saying so), or to stdout when out is None or '-'."""
    if out is None or out == "-":
        click.echo(text, nl=False)
        return
    from pathlib import Path

    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as error:
        raise click.BadParameter(f"cannot write {out}: {error.strerror}", param_hint="--out") from None
    click.echo(f"wrote {out}")


def signing_key(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    """The private key of --key FILE (or COLLAB_KEY), unlocked with COLLAB_KEY_PASSPHRASE or a prompt."""
    if not value:
        return None
    from pathlib import Path

    from workflow.signing import load_private_key

    passphrase = os.environ.get("COLLAB_KEY_PASSPHRASE") or click.prompt(f"Passphrase for {value}", hide_input=True, err=True)
    return load_private_key(Path(value), passphrase)


sign_with = click.option("--key", "signing_key", envvar="COLLAB_KEY", metavar="FILE", callback=signing_key,
                         help="Sign with this private key (needed once you have registered one). Env: COLLAB_KEY.")


def observed(settings: Settings, key: str) -> dict[str, Any]:
    """The collaboration's version as this command first saw it, so a concurrent change is detected."""
    return {"expected_version": settings.app().version_of(key)}


@click.group(cls=CollabGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=(
    "Environment: COLLAB_DB, COLLAB_USER, COLLAB_NOW (run as of another moment), COLLAB_SMTP, COLLAB_MAIL_FROM, "
    "COLLAB_OUTBOX, COLLAB_TEMPLATES, COLLAB_DIGEST_DAY (the weekday remind also sends weekly digests), COLLAB_KEY "
    "and COLLAB_KEY_PASSPHRASE (signing), COLLAB_SECRET_KEY (the web app's CSRF key)."))
@click.version_option(__version__, prog_name="collab")
@click.option("--db", envvar="COLLAB_DB", default="collab.db", show_default=True,
              help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...). Env: COLLAB_DB.")
@click.option("--as", "actor", envvar="COLLAB_USER", metavar="NAME", shell_complete=USERS,
              help="The person acting (a registered user). Env: COLLAB_USER.")
@click.pass_context
def cli(ctx: click.Context, db: str, actor: str | None) -> None:
    """Govern police collaborations: gated stages, benefits that survive closure, review reminders, verifiable history."""
    ctx.obj = Settings(db, actor)


@cli.command()
@pass_settings
def init(settings: Settings) -> None:
    """Create or upgrade the database (idempotent) and store the packaged definitions."""
    from workflow.db import UnitOfWork, engine_for, shown, upgrade
    from workflow.stored import install_packaged

    engine = engine_for(settings.db)
    revision = upgrade(engine)
    click.echo(f"database {shown(settings.db)} is at schema revision {revision}")
    for added in install_packaged(UnitOfWork(engine)):
        click.echo(f"stored definition {added.label}")


@cli.command()
@click.option("--db", "demo_db", default="collab-demo.db", show_default=True,
              help="Where to build the demo (recreated each run if it only holds an earlier demo).")
def demo(demo_db: str) -> None:
    """Walk the Devon & Cornwall / Dorset Strategic Alliance through its gates, printing each step."""
    from workflow.demo import run

    run(demo_db, click.echo)


# -- users and boards ---------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """Register people and their roles."""


login_option = click.option(
    "--login", metavar="DBROLE", help="PostgreSQL only: the database login that acts as this person (connected as "
    "it, no one else can be named with --as; they act only through it).")


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--email")
@click.option("--partner", metavar="ORG", help="The force a chief officer or PCC acts for.")
@login_option
@written(lambda added: f"added {added['name']} as {added['role']}")
@pass_settings
def user_add(settings: Settings, name: str, role: str, email: str | None, partner: str | None,
             login: str | None) -> dict[str, Any]:
    """Register a user (the first user of a new database must be an admin)."""
    return settings.app().add_user(name, role, email=email, partner=partner, login=login)


def users_table(rows: list[dict[str, Any]]) -> None:
    """Every role a person holds, the primary first."""
    emit_table([{**row, "roles": ", ".join(row["roles"])} for row in rows], ("name", "roles", "partner", "email"))


@user.command("list")
@listing("name", "role", "roles", "partner", "email", text=users_table)
@pass_settings
def user_list(settings: Settings) -> list[dict[str, Any]]:
    """Registered people, their roles and forces."""
    return settings.app().users()


@user.command("update")
@click.argument("name", shell_complete=USERS)
@click.option("--email", metavar="ADDR", help="One email address.")
@click.option("--partner", metavar="ORG", help="The force a chief officer or PCC acts for.")
@click.option("--role", type=click.Choice(ROLES), help="The primary role, in place of the present one.")
@click.option("--add-role", "add_roles", multiple=True, type=click.Choice(ROLES),
              help="A further role the person holds (repeatable): a chief officer may also own benefits.")
@click.option("--remove-role", "remove_roles", multiple=True, type=click.Choice(ROLES),
              help="A role the person no longer holds (repeatable); the last one cannot be removed.")
@login_option
@written(lambda done: f"updated {done['name']}: " + (", ".join(
    f"{field} {terminal(str(c['from']))} -> {terminal(str(c['to']))}" for field, c in done["changes"].items())
    or "nothing changed"))
@pass_settings
def user_update(settings: Settings, name: str, email: str | None, partner: str | None, role: str | None,
                add_roles: tuple[str, ...], remove_roles: tuple[str, ...], login: str | None) -> dict[str, Any]:
    """Correct a user's email, force, roles or database login (admin only)."""
    return settings.app().update_user(name, email=email, partner=partner, role=role, login=login, add_roles=add_roles,
                                      remove_roles=remove_roles)


@cli.command()
@click.argument("login")
@click.option("--kind", required=True, type=click.Choice(LOGIN_KINDS),
              help="reader: may only read (auditors); writer: may act, but never change or remove history rows.")
@written(lambda done: f"granted {done['login']} the rights of a {done['kind']} on schema {done['schema']}:\n"
         + "\n".join(f"  {statement};" for statement in done["statements"]))
@pass_settings
def grant(settings: Settings, login: str, kind: str) -> dict[str, Any]:
    """PostgreSQL only: give a database login the rights of a reader or a writer on collab's tables (admin).

    Run it connected as the schema's owner. Map a writer login to its person with `user add/update --login`.
    """
    return settings.app().grant(login, kind)


@user.command("deactivate")
@click.argument("name", shell_complete=USERS)
@click.option("--reassign-to", metavar="USER", shell_complete=USERS, help="Who takes over their benefits, boards and proposed handovers.")
@pass_settings
def user_deactivate(settings: Settings, name: str, reassign_to: str | None) -> None:
    """Stop a user acting, moving what they hold to another user (admin only)."""
    done = settings.app().deactivate_user(name, reassign_to)
    click.echo(f"deactivated {name}: {len(done['benefits'])} benefit(s), {len(done['boards'])} board(s), "
               f"{len(done['handovers'])} handover(s) moved to {reassign_to or 'nobody'}")


@user.command("password")
@click.argument("name", shell_complete=USERS)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (scripts).")
@pass_settings
def user_password(settings: Settings, name: str, password_stdin: bool) -> None:
    """Set the web login password of NAME (an admin for anyone; anyone for themselves); ends their sessions."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"New password for {name}", hide_input=True, confirmation_prompt=True, err=True)
    settings.app().set_password(name, password)
    click.echo(f"password set for {name}")


@cli.command()
@listing("kind", "collaboration", "item", "due_on")
@pass_settings
def todo(settings: Settings) -> list[dict[str, Any]]:
    """What the acting user owes now: approvals, re-approvals, handovers, figures and reviews (an admin: people
    owed a reminder who have no email address)."""
    return settings.app().todo()


@cli.group()
def board() -> None:
    """Boards that review benefits (Resource Control, Executive, Performance)."""


@board.command("add")
@click.argument("name")
@click.option("--partner", required=True, metavar="ORG")
@click.option("--meets", required=True, metavar="RRULE", help="RFC 5545 recurrence, e.g. FREQ=MONTHLY;BYDAY=1TU")
@click.option("--secretary", required=True, metavar="USER")
@click.option("--type", "board_type", metavar="TYPE", help="Its type, as the definition names them (e.g. resource-control).")
@pass_settings
def board_add(settings: Settings, name: str, partner: str, meets: str, secretary: str, board_type: str | None) -> None:
    """Register a board, its meeting rule, its secretary and its type."""
    added = settings.app().add_board(name, partner, meets, secretary, type=board_type)
    click.echo(f"added board {added['name']} ({added['partner']}), meets {added['meets']}")


@board.command("list")
@click.option("--all", "every", is_flag=True, help="Retired boards too.")
@listing("name", "partner", "type", "meets", "time", "location", "secretary", "retired_on")
@pass_settings
def board_list(settings: Settings, every: bool) -> list[dict[str, Any]]:
    """Boards, when and where they meet and who runs them (retired ones with --all)."""
    return settings.app().boards(every=every)


@board.command("update")
@click.argument("name")
@click.option("--rule", metavar="RRULE", help="A new RFC 5545 recurrence: the meetings from today follow it.")
@click.option("--secretary", metavar="USER")
@click.option("--time", metavar="HH:MM", help="The time of day it meets (Europe/London).")
@click.option("--location", metavar="TEXT")
@written(lambda done: f"board {done['name']}: updated {', '.join(done['changes']) or 'nothing'}")
@pass_settings
def board_update(settings: Settings, name: str, rule: str | None, secretary: str | None, time: str | None,
                 location: str | None) -> dict[str, Any]:
    """Change a board's meeting rule, secretary, meeting time or location (admin)."""
    return settings.app().update_board(name, rule=rule, secretary=secretary, time=time, location=location)


@board.group("meeting")
def board_meeting() -> None:
    """Move or cancel one meeting of a board (its secretary, or an admin)."""


@board_meeting.command("move")
@click.argument("name")
@click.argument("day", metavar="DATE", type=DATE)
@click.option("--to", "to", required=True, type=DATE, help="The day it is held instead.")
@click.option("--reason", help="Why (shown in the history).")
@written(lambda done: f"{done['board']}: the meeting of {done['was_on']} moved to {done['to']}")
@pass_settings
def board_meeting_move(settings: Settings, name: str, day: date, to: date, reason: str | None) -> dict[str, Any]:
    """Hold the meeting of DATE on another day: the reviews owed at it are owed then, and its invitation is updated."""
    return settings.app().move_meeting(name, day, to=to, reason_text=reason)


@board_meeting.command("cancel")
@click.argument("name")
@click.argument("day", metavar="DATE", type=DATE)
@click.option("--reason", required=True, help="Why (shown in the history and sent with the cancellation).")
@written(lambda done: f"{done['board']}: the meeting of {done['was_on']} cancelled")
@pass_settings
def board_meeting_cancel(settings: Settings, name: str, day: date, reason: str) -> dict[str, Any]:
    """Cancel the meeting of DATE: no reviews are owed at it, and its invitation is withdrawn."""
    return settings.app().cancel_meeting(name, day, reason_text=reason)


@board.command("agenda")
@click.argument("name")
@click.option("--meeting", type=DATE, help="The meeting (default: the board's next one).")
@click.option("--json", "as_json", is_flag=True, help="Print the agenda as JSON.")
@pass_settings
def board_agenda(settings: Settings, name: str, meeting: date | None, as_json: bool) -> None:
    """The agenda of a board's meeting as its secretary is sent it: the reviews due, and those overdue."""
    from workflow.agendas import board_agenda as agenda

    done = agenda(settings.app().ctx, name, meeting)
    text = done.pop("text")
    if as_json:
        emit_json(done)
        return
    click.echo("\n".join(terminal(line) for line in text.splitlines()))
    for late in done["overdue"]:
        click.echo(f"overdue: {late['collaboration']} {late['benefit']} ({late['title']}), due {late['due_on']}, "
                   f"figure from {late['owner'] or 'nobody'}")


@board.command("retire")
@click.argument("name")
@click.option("--reason", required=True, help="Why (shown in the history).")
@written(lambda done: f"board {done['name']} retired on {done['retired_on']}")
@pass_settings
def board_retire(settings: Settings, name: str, reason: str) -> dict[str, Any]:
    """Retire a board (admin): refused while it still reviews a benefit (move each with benefit update --board)."""
    return settings.app().retire_board(name, reason_text=reason)


# -- definitions ------------------------------------------------------------------------------------


@cli.group()
def definition() -> None:
    """Lifecycle definitions (YAML data: stages, transitions, gates, effects, reviews), stored by version."""


@definition.command("list")
@listing("name", "version", "collaborations", "title")
@pass_settings
def definition_list(settings: Settings) -> list[dict[str, Any]]:
    """Every stored version, with how many collaborations run on it."""
    return settings.app().definitions()


@definition.command("show")
@click.argument("spec", metavar="NAME[@VERSION]")
@click.option("--format", "fmt", type=click.Choice(["text", "yaml", "json", "mermaid"]), default="text", show_default=True,
              help="text: a summary; yaml: the stored text itself; json: as data; mermaid: a state diagram.")
@pass_settings
def definition_show(settings: Settings, spec: str, fmt: str) -> None:
    """The stored definition in force (the newest version without @VERSION)."""
    from workflow.diagram import definition_json, definition_mermaid, definition_text

    found = settings.app().definition(spec)
    shown = {"json": lambda: json.dumps(definition_json(found), indent=2), "yaml": lambda: found.source.rstrip("\n"),
             "mermaid": lambda: definition_mermaid(found), "text": lambda: definition_text(found)}
    click.echo(shown[fmt]())


@definition.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def definition_validate(file: str) -> None:
    """Exit 0 if FILE is a valid definition, 2 with every problem and its line if not."""
    from pathlib import Path

    from workflow.definition import load_file

    found = load_file(Path(file))
    click.echo(f"{file}: valid ({found.name} v{found.version}: {len(found.stages)} stages, {len(found.transitions)} transitions)")


@definition.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_settings
def definition_add(settings: Settings, file: str) -> None:
    """Store NAME@VERSION from FILE (exit 1 if that version is stored with other text)."""
    from pathlib import Path

    from workflow.definition import read_file

    added = settings.app().add_definition(read_file(Path(file)), file)
    state = "stored" if added["added"] else "already stored, unchanged"
    click.echo(f"{added['name']}@{added['version']}: {state}")


# -- collaborations ---------------------------------------------------------------------------------


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--title", required=True)
@click.option("--objective")
@click.option("--public-benefit")
@click.option("--definition", "definition_name", default="police-collaboration", show_default=True,
              metavar="NAME[@VERSION]", help="A stored definition (its newest version without @VERSION).")
@click.option("--origin", type=click.Choice(ORIGINS), default="programme", show_default=True,
              help="operational: started outside the formal change process, registered so that it is sighted.")
@click.option("--manager", metavar="USER", help="The programme manager (default: the acting user).")
@click.option("--on", type=DATE, help="The date it was registered (default today).")
@written(lambda made: f"registered {made['key']} at {made['stage']} ({made['definition']} v{made['version']})")
@pass_settings
def new(settings: Settings, key: str, title: str, objective: str | None, public_benefit: str | None,
        definition_name: str, origin: str, manager: str | None, on: date | None) -> dict[str, Any]:
    """Register a collaboration; it starts at the definition's first stage (keys are unique whatever their case)."""
    return settings.app().new(key, title, objective=objective, public_benefit=public_benefit,
                              definition=definition_name, origin=origin, manager=manager, on=on)


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--title")
@click.option("--objective")
@click.option("--public-benefit")
@click.option("--rationale", help="s.23HA: the existing agreements considered and why this serves efficiency or effectiveness.")
@click.option("--reason", help="Why, shown in the history and the report (e.g. correcting a title registered by mistake).")
@written(lambda done: f"{done['key']}: updated {', '.join(done['changed'])}" if done["changed"] else f"{done['key']}: nothing changed")
@pass_settings
def update(settings: Settings, key: str, reason: str | None, **fields: str | None) -> dict[str, Any]:
    """Change a collaboration's title, objective, public-benefit statement or rationale."""
    return settings.app().update(key, reason=reason, expected_version=settings.app().version_of(key), **fields)


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--to", "to", required=True, metavar="NAME@VERSION", help="The stored definition version to move to.")
@click.option("--map", "stage_map", multiple=True, metavar="OLD=NEW", help="A stage of the old version and its counterpart.")
@click.option("--dry-run", is_flag=True, help="Say what would change, and which passed gates the new version would refuse.")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def migrate(settings: Settings, key: str, to: str, stage_map: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """Move an in-flight collaboration to another stored definition version."""
    pairs = dict(pair.partition("=")[::2] for pair in stage_map)
    if any(not old or not new for old, new in pairs.items()):
        raise click.BadParameter("give each --map as OLD=NEW", param_hint="--map")
    done = settings.app().migrate(key, to, stage_map=pairs, dry_run=dry_run, **observed(settings, key))
    if as_json:
        emit_json(done)
        return
    verb = "would move" if dry_run else "moved"
    click.echo(f"{key}: {verb} from {done['from']} ({done['stage']['from']}) to {done['to']} ({done['stage']['to']})")
    for gate, reasons in done["would_refuse"].items():
        click.echo(f"  passed gate {gate} would be refused today:")
        for reason in reasons:
            click.echo(f"    - {reason}")


@cli.group()
def partner() -> None:
    """Partners of a collaboration (forces and other bodies)."""


@partner.command("add")
@click.argument("key", shell_complete=KEYS)
@click.argument("org")
@click.option("--kind", type=click.Choice(PARTNER_KINDS))
@click.option("--risk-appetite", type=click.Choice(RISK_APPETITES))
@click.option("--cost-share", metavar="PERCENT")
@written(lambda p: f"{p['key']}: {p['name']} ({p['kind']}), risk appetite {p['risk_appetite'] or '-'}, cost share "
                   f"{p['cost_share'] if p['cost_share'] is not None else '-'}%")
@pass_settings
def partner_add(settings: Settings, key: str, org: str, kind: str | None, risk_appetite: str | None,
                cost_share: str | None) -> dict[str, Any]:
    """Record a partner, or change the facts of one already recorded (names match whatever their case)."""
    return settings.app().add_partner(key, org, kind=kind, risk_appetite=risk_appetite, cost_share=cost_share,
                                      **observed(settings, key))


@partner.command("remove")
@click.argument("key", shell_complete=KEYS)
@click.argument("org")
@click.option("--reason", required=True, help="Why (shown in the history and the report).")
@click.option("--variation", is_flag=True,
              help="The partner was approved at a passed gate: vary that agreement (its signatories re-approve).")
@written(lambda done: f"{done['key']}: partner {done['partner']} removed" + (" (a variation: re-approval needed)"
                                                                           if done["variation"] else ""))
@pass_settings
def partner_remove(settings: Settings, key: str, org: str, reason: str, variation: bool) -> dict[str, Any]:
    """Remove a partner recorded by mistake (after a gate approved it, only with --variation); the history keeps it."""
    return settings.app().remove_partner(key, org, reason=reason, variation=variation, **observed(settings, key))


@partner.command("shares")
@click.argument("key", shell_complete=KEYS)
@click.argument("shares", nargs=-1, required=True, metavar="ORG=PERCENT...")
@pass_settings
def partner_shares(settings: Settings, key: str, shares: tuple[str, ...]) -> None:
    """Change several partners' cost shares at once (an agreed total of 100% must hold throughout)."""
    pairs = dict(pair.rpartition("=")[::2] for pair in shares)
    if "" in pairs:
        raise click.BadParameter("give each share as ORG=PERCENT", param_hint="SHARES")
    done = settings.app().set_cost_shares(key, pairs, **observed(settings, key))
    click.echo(f"{key}: " + ", ".join(f"{p['name']} {p['cost_share']:g}%" for p in done["partners"] if p["cost_share"] is not None))


@cli.command("list")
@click.option("--stage")
@listing("key", "stage", "since", "origin", "manager", "title")
@pass_settings
def list_(settings: Settings, stage: str | None) -> list[dict[str, Any]]:
    """Every collaboration, with its stage."""
    return settings.app().list(stage)


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def show(settings: Settings, key: str, as_json: bool) -> None:
    """One collaboration: purpose, partners, artefacts, approvals and benefits."""
    from workflow.text import collaboration_text

    shown = settings.app().show(key)
    emit_json(shown) if as_json else click.echo(collaboration_text(shown))


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def check(settings: Settings, key: str, as_json: bool) -> None:
    """What stands between this collaboration and each next stage."""
    result = settings.app().check(key)
    for move in result["transitions"]:
        move["unmet"] = [hinted(Reason(r["code"], r["text"], r["params"])) for r in move["reasons"]]
    if as_json:
        emit_json(result)
        return
    click.echo(f"{key} is at {result['stage']}")
    for variation in result["variations"]:
        click.echo(f"  variation of the {variation['gate']} gate: {'; '.join(variation['changed'])}")
        click.echo(f"     awaiting re-approval by {', '.join(variation['awaiting'])}")
    for move in result["transitions"]:
        click.echo(f"  -> {move['to']}: {'ready' if move['ready'] else 'not ready'}")
        for reason in move["unmet"]:
            click.echo(f"     - {reason}")
    for gap in result["board_gaps"]:
        click.echo(f"  benefit {gap['benefit']} ({gap['category']}) has no board of type {', '.join(gap['missing'])}"
                   f" (collab benefit board add {key} {gap['benefit']} BOARD)")


def _moves(trigger: str, doc: str, *, reason_required: bool = False, to: bool = False) -> None:
    """advance, hold, resume and withdraw: one command each over the same move use case."""
    @click.argument("key", shell_complete=KEYS)
    @click.option("--on", type=DATE, help="Effective date (default today).")
    @click.option("--reason", required=reason_required)
    @written(lambda done: f"{done['key']}: {done['from']} -> {done['to']} (effective {done['on']})")
    @pass_settings
    def move(settings: Settings, key: str, on: date | None, reason: str | None, **extra: Any) -> dict[str, Any]:
        app = settings.app()
        result: dict[str, Any] = getattr(app, trigger)(key, on=on, reason=reason, **extra, **observed(settings, key))
        return result

    move.__doc__ = doc
    if to:
        move = click.option("--to", "to", metavar="STAGE", help="Needed only where more than one stage follows.")(move)
    cli.command(trigger)(move)


_moves("advance", "Pass the next gate; refused (exit 1) with every unmet requirement if it is not met.", to=True)
_moves("hold", "Pause a collaboration (resume returns it to the same stage).", reason_required=True)
_moves("resume", "Return a paused collaboration to the stage it was held from.")
_moves("withdraw", "Abandon a collaboration (a chief officer or PCC of a partner; its programme manager while it has "
                   "no partner).", reason_required=True)


@cli.group()
def artefact() -> None:
    """Documents a gate needs (PID, agreement, reports)."""


@artefact.command("add")
@click.argument("key", shell_complete=KEYS)
@click.argument("kind")
@click.option("--ref", required=True, help="Where the document is (a reference, path or URL).")
@click.option("--on", type=DATE)
@click.option("--file", "document", type=click.Path(dir_okay=False), metavar="PATH",
              help="The document itself: its SHA-256 is recorded, so a report proves which version was approved.")
@click.option("--sha256", metavar="HEX", help="The SHA-256 of a document not on this machine (64 hex digits).")
@written(lambda added: f"{added['key']}: artefact {added['kind']} recorded ({added['ref']}, {added['on']})"
         + (f", sha256 {added['sha256']}" if added["sha256"] else ""))
@pass_settings
def artefact_add(settings: Settings, key: str, kind: str, ref: str, on: date | None, document: str | None,
                 sha256: str | None) -> dict[str, Any]:
    """Record a document of a kind the definition names (with its SHA-256, from --file or --sha256)."""
    if document is not None and sha256 is not None:
        raise click.UsageError("give either --file PATH or --sha256 HEX, not both")
    if document is not None:
        sha256 = file_sha256(document)
    return settings.app().add_artefact(key, kind, ref, on=on, sha256=sha256, **observed(settings, key))


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's content, read in blocks (a document may be large)."""
    import hashlib

    digest = hashlib.sha256()
    try:
        with open(path, "rb") as document:
            for block in iter(lambda: document.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        raise click.BadParameter(f"cannot read {path}: {error.strerror}", param_hint="--file") from None
    return digest.hexdigest()


@cli.command()
@click.argument("key", shell_complete=KEYS)
@click.option("--gate", required=True)
@click.option("--on", type=DATE)
@sign_with
@written(lambda done: f"{done['key']}: {done['partner']} {done['role']} "
                      f"{'had already approved' if done['already'] else 'approved'} the {done['gate']} gate "
                      f"({done['on']}{', signed' if done.get('signed') else ''})")
@pass_settings
def approve(settings: Settings, key: str, gate: str, on: date | None, signing_key: Any) -> dict[str, Any]:
    """Approve a gate as the acting user's role for their force, bound to the facts it checks now."""
    return settings.app().approve(key, gate, on=on, signing_key=signing_key, **observed(settings, key))


# -- benefits ---------------------------------------------------------------------------------------


@cli.group()
def benefit() -> None:
    """The benefits register: profiles, plans, measurements, handover."""


@benefit.command("add")
@key_and_benefit
@click.option("--title", required=True)
@click.option("--category", required=True, type=click.Choice(CATEGORIES))
@click.option("--measure")
@click.option("--baseline", type=float)
@click.option("--target", type=float)
@click.option("--by", type=DATE, help="Target date.")
@click.option("--owner", metavar="USER", shell_complete=USERS)
@click.option("--board", metavar="BOARD", shell_complete=BOARDS)
@click.option("--unit", default="")
@click.option("--dis-benefit", is_flag=True, help="A negative consequence, tracked the same way and shown apart.")
@click.option("--on", type=DATE, help="When it was identified (default today); its realisation starts here.")
@written(lambda added: f"{added['key']}: benefit {added['id']} ({added['category']}) {added['title']}")
@pass_settings
def benefit_add(settings: Settings, key: str, benefit_id: str, **profile: Any) -> dict[str, Any]:
    """Identify a benefit; the delivery gate needs its profile complete."""
    return settings.app().add_benefit(key, benefit_id, **profile, **observed(settings, key))


@benefit.command("update")
@key_and_benefit
@click.option("--title")
@click.option("--category", type=click.Choice(CATEGORIES), help="A correction: needs --reason.")
@click.option("--reason", help="Why (needed to correct the category; shown in the history and the report).")
@click.option("--measure")
@click.option("--unit")
@click.option("--baseline", type=float)
@click.option("--target", type=float)
@click.option("--by", type=DATE, help="Target date.")
@click.option("--owner", metavar="USER", shell_complete=USERS)
@click.option("--board", metavar="BOARD", shell_complete=BOARDS)
@written(lambda done: f"{done['key']}: benefit {done['id']}: updated {', '.join(done['changed']) or 'nothing'}")
@pass_settings
def benefit_update(settings: Settings, key: str, benefit_id: str, **fields: Any) -> dict[str, Any]:
    """Complete or correct a benefit's profile (title, category, measure, figures, owner, board)."""
    return settings.app().update_benefit(key, benefit_id, **fields, **observed(settings, key))


@benefit.command("plan")
@click.argument("key", shell_complete=KEYS)
@click.argument("benefit_id", metavar="[ID]", required=False)
@click.option("--point", "points", multiple=True, metavar="DATE=VALUE",
              help="An expected value on a date; repeat for each point. Replaces the plan.")
@click.option("--from-csv", "table", type=click.Path(dir_okay=False), metavar="FILE",
              help="The plans of many benefits at once, instead of ID --point: a CSV file with the columns benefit, "
                   "on and value; each benefit named has its plan replaced, or none if a row is wrong (each named).")
@pass_settings
def benefit_plan(settings: Settings, key: str, benefit_id: str | None, points: tuple[str, ...], table: str | None) -> None:
    """Set a benefit's realisation plan (linear between points)."""
    if table is not None:
        if benefit_id is not None or points:
            raise click.UsageError("give either ID --point DATE=VALUE ... or --from-csv FILE, not both")
        rows = read_table(table, required=("benefit", "on", "value"))
        done = settings.app().plan_rows(key, rows, first=2, **observed(settings, key))
        click.echo(f"{key}: plans set for {done['benefits']} benefit(s) ({done['points']} points)")
        return
    if benefit_id is None or not points:
        raise click.UsageError("give the benefit's ID and at least one --point DATE=VALUE (or --from-csv FILE)")
    parsed = []
    for point in points:
        day, _, value = point.partition("=")
        try:
            parsed.append((date.fromisoformat(day), float(value)))
        except ValueError:
            raise click.BadParameter(f"{point!r} is not DATE=VALUE (e.g. 2027-03-31=4.5)", param_hint="--point") from None
    result = settings.app().plan(key, benefit_id, parsed, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} plan set ({result['points']} points)")


@benefit.command("measure", context_settings={"ignore_unknown_options": True})  # VALUE may be negative: -1
@click.argument("key", shell_complete=KEYS)
@click.argument("benefit_id", metavar="[ID", required=False)
@click.argument("value", metavar="VALUE]", required=False)
@click.option("--on", type=DATE, help="The date the value was true (default today; never in the future).")
@click.option("--note")
@click.option("--from-csv", "table", type=click.Path(dir_okay=False), metavar="FILE",
              help="Many figures at once, instead of ID VALUE: a CSV file with the columns benefit and value, and "
                   "optionally on and note; all are recorded, or none if a row is wrong (each named by its row).")
@written(lambda done: f"{done['key']}: {done['measured']} figure(s) measured" if "measured" in done
         else f"{done['key']}: benefit {done['id']} measured {done['value']:g} on {done['on']}")
@pass_settings
def benefit_measure(settings: Settings, key: str, benefit_id: str | None, value: str | None, on: date | None,
                    note: str | None, table: str | None) -> dict[str, Any]:
    """Record a measurement (the benefit's owner or its board's secretary)."""
    if table is not None:
        if benefit_id is not None or value is not None or on is not None or note is not None:
            raise click.UsageError("give either ID VALUE [--on DATE] [--note TEXT] or --from-csv FILE, not both")
        rows = read_table(table, required=("benefit", "value"), optional=("on", "note"))
        return settings.app().measure_rows(key, rows, first=2, **observed(settings, key))
    if benefit_id is None or value is None:
        raise click.UsageError("give the benefit's ID and the VALUE measured (or --from-csv FILE)")
    return settings.app().measure(key, benefit_id, value, on=on, note=note, **observed(settings, key))


@benefit.command("void", context_settings={"ignore_unknown_options": True})  # --value may be negative
@key_and_benefit
@click.argument("day", metavar="DATE", type=DATE)
@click.option("--reason", required=True, help="Why the figure is wrong (shown in the history and the report).")
@click.option("--value", type=float, help="Which figure of that day, if there is more than one (default: the newest).")
@written(lambda done: f"{done['key']}: benefit {done['id']}: measurement {done['value']:g} of {done['on']} voided")
@pass_settings
def benefit_void(settings: Settings, key: str, benefit_id: str, day: date, reason: str,
                 value: float | None) -> dict[str, Any]:
    """Void a wrong measurement (its owner or its board's secretary): it stays in the history, out of the figures."""
    return settings.app().void_measurement(key, benefit_id, day, reason=reason, value=value, **observed(settings, key))


@benefit.command("review")
@key_and_benefit
@click.option("--board", required=True, metavar="BOARD", help="The board that reviewed it.")
@click.option("--meeting", required=True, type=DATE, help="The date of the meeting (held, not ahead).")
@click.option("--outcome", required=True, type=click.Choice(OUTCOMES))
@click.option("--note", required=True, help="What the board concluded.")
@click.option("--evidence-source", metavar="TEXT", help="Evidence behind the note, e.g. a staff survey (with --evidence-date).")
@click.option("--evidence-date", "evidence_on", type=DATE, metavar="DATE", help="The date of that evidence.")
@written(lambda done: f"{done['key']}: benefit {done['id']}: {done['board']} of {done['meeting']}: {done['outcome']}")
@pass_settings
def benefit_review(settings: Settings, key: str, benefit_id: str, board: str, meeting: date, outcome: str, note: str,
                   evidence_source: str | None, evidence_on: date | None) -> dict[str, Any]:
    """Record a board's review outcome for a benefit (the board's secretary): shown in the report."""
    return settings.app().review_benefit(key, benefit_id, board=board, meeting=meeting, outcome=outcome, note=note,
                                         evidence_source=evidence_source, evidence_on=evidence_on,
                                         **observed(settings, key))


@benefit.command("remove")
@key_and_benefit
@click.option("--reason", required=True, help="Why (shown in the history and the report).")
@written(lambda done: f"{done['key']}: benefit {done['id']} removed")
@pass_settings
def benefit_remove(settings: Settings, key: str, benefit_id: str, reason: str) -> dict[str, Any]:
    """Remove a benefit identified by mistake, before a gate approved it (after that, retire it); the history keeps it."""
    return settings.app().remove_benefit(key, benefit_id, reason=reason, **observed(settings, key))


def read_table(path: str, *, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The rows of a CSV file with a header row (UTF-8, a spreadsheet's byte-order mark allowed), as text."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            reader = csv.DictReader(file)
            columns = [name.strip() for name in reader.fieldnames or []]
            reader.fieldnames = columns
            missing = [name for name in required if name not in columns]
            unknown = [name for name in columns if name not in required + optional]
            if missing or unknown:
                raise click.BadParameter(
                    f"{path}: the header row must name the columns {', '.join(required)}"
                    f"{' and optionally ' + ', '.join(optional) if optional else ''}"
                    f" ({'missing: ' + ', '.join(missing) if missing else 'unknown: ' + ', '.join(unknown)})",
                    param_hint="--from-csv")
            return [{name: (cell or "").strip() for name, cell in row.items() if name is not None} for row in reader]
    except OSError as error:
        raise click.BadParameter(f"cannot read {path}: {error.strerror}", param_hint="--from-csv") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise click.BadParameter(f"{path} is not a UTF-8 CSV file ({error})", param_hint="--from-csv") from None


@cli.group()
def cost() -> None:
    """Each partner's costs by UK financial year (1 April - 31 March) and category, in pounds to the penny."""


COST_COLUMNS = ("partner", "year", "category", "one_off", "recurring")


@cost.command("set")
@click.argument("key")
@click.option("--partner", metavar="ORG", help="The partner the cost falls on.")
@click.option("--year", metavar="YYYY-YY", help="The financial year, e.g. 2026-27.")
@click.option("--category", type=click.Choice(COST_CATEGORIES))
@click.option("--one-off", metavar="AMOUNT", help="One-off cost in pounds, to the penny (e.g. 1234.50).")
@click.option("--recurring", metavar="AMOUNT", help="Recurring cost in the year, in pounds, to the penny.")
@click.option("--reason", help="Why a figure already set changes (needed then; shown in the history and the report).")
@click.option("--from-csv", "table", type=click.Path(dir_okay=False), metavar="FILE",
              help="Many costs at once: a CSV file with the columns partner, year, category, one_off and recurring, "
                   "and optionally reason; all are set, or none if a row is wrong (each named by its row).")
@written(lambda done: f"{done['key']}: {done['set']} cost(s) set" if "set" in done else
         f"{done['key']}: {done['partner']} {done['category']} {done['year']}: one-off £{done['one_off']:,.2f}, "
         f"recurring £{done['recurring']:,.2f}" + ("" if done["changed"] else " (unchanged)"))
@pass_settings
def cost_set(settings: Settings, key: str, partner: str | None, year: str | None, category: str | None,
             one_off: str | None, recurring: str | None, reason: str | None, table: str | None) -> dict[str, Any]:
    """Set a partner's one-off and recurring cost of a category in a year (a programme manager); a change says why."""
    single = {"partner": partner, "year": year, "category": category, "one_off": one_off, "recurring": recurring}
    if table is not None:
        if any(value is not None for value in (*single.values(), reason)):
            raise click.UsageError("give either --partner, --year, --category, --one-off and --recurring or "
                                   "--from-csv FILE, not both")
        rows = read_table(table, required=COST_COLUMNS, optional=("reason",))
        return settings.app().set_cost_rows(key, rows, first=2, **observed(settings, key))
    missing = [f"--{name.replace('_', '-')}" for name, value in single.items() if value is None]
    if missing:
        raise click.UsageError(f"give {', '.join(missing)} (or --from-csv FILE)")
    return settings.app().set_cost(key, reason=reason, **single, **observed(settings, key))  # type: ignore[arg-type]


@cost.command("list")
@click.argument("key")
@listing(*COST_COLUMNS)
@pass_settings
def cost_list(settings: Settings, key: str) -> list[dict[str, Any]]:
    """The collaboration's costs by partner, financial year and category."""
    return settings.app().costs(key)


@benefit.command("handover")
@key_and_benefit
@click.option("--business-area", required=True)
@click.option("--to", "to", required=True, metavar="USER", shell_complete=USERS, help="The receiving owner, who must accept.")
@click.option("--board", metavar="BOARD", shell_complete=BOARDS, help="The board that reviews it after closure.")
@pass_settings
def benefit_handover(settings: Settings, key: str, benefit_id: str, business_area: str, to: str, board: str | None) -> None:
    """Propose handing a benefit over to a business area."""
    settings.app().handover(key, benefit_id, business_area=business_area, to=to, board=board, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} proposed to {business_area} ({to}); awaiting acceptance")


@benefit.command("accept")
@key_and_benefit
@sign_with
@pass_settings
def benefit_accept(settings: Settings, key: str, benefit_id: str, signing_key: Any) -> None:
    """Accept a benefit handed over to you."""
    done = settings.app().accept(key, benefit_id, signing_key=signing_key, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} accepted" + (", signed" if done["signed"] else ""))


@benefit.command("decline")
@key_and_benefit
@click.option("--reason", required=True)
@pass_settings
def benefit_decline(settings: Settings, key: str, benefit_id: str, reason: str) -> None:
    """Decline a benefit handed over to you, saying why."""
    settings.app().decline(key, benefit_id, reason=reason, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} declined")


@benefit.command("retire")
@key_and_benefit
@click.option("--reason", required=True)
@pass_settings
def benefit_retire(settings: Settings, key: str, benefit_id: str, reason: str) -> None:
    """Stop tracking a benefit (a chief officer of a partner); its history stays."""
    done = settings.app().retire(key, benefit_id, reason=reason, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} retired on {done['retired_on']}")


@benefit.command("link")
@key_and_benefit
@click.option("--objective", metavar="OBJ", help="The objective this (programme) benefit serves.")
@click.option("--contributes-to", metavar="BID", help="The benefit this (business-area) benefit contributes to.")
@click.option("--caused-by", metavar="BID", help="The benefit that causes this dis-benefit.")
@written(lambda done: f"{done['key']}: benefit {done['id']} linked ({done['link']}) to {done['to']}")
@pass_settings
def benefit_link(settings: Settings, key: str, benefit_id: str, **ends: str | None) -> dict[str, Any]:
    """Place a benefit on the logic map: give exactly one of --objective, --contributes-to, --caused-by."""
    given = [(name, value) for name, value in ends.items() if value is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --objective, --contributes-to, --caused-by")
    [(name, to)] = given
    return settings.app().link_benefit(key, benefit_id, kind=name.replace("_", "-"), to=to, **observed(settings, key))


@benefit.group("board")
def benefit_board() -> None:
    """Further boards reviewing a benefit, besides its own (each owes its own reviews)."""


@benefit_board.command("add")
@key_and_benefit
@click.argument("board_name", metavar="BOARD")
@click.option("--on", type=DATE, help="The day the board takes the benefit on (default today); it owes reviews from then.")
@written(lambda done: f"{done['key']}: benefit {done['id']} reviewed by {done['board']} from {done['since']}")
@pass_settings
def benefit_board_add(settings: Settings, key: str, benefit_id: str, board_name: str, on: date | None) -> dict[str, Any]:
    """A further board reviews the benefit: its agenda and reminders include it."""
    return settings.app().add_benefit_board(key, benefit_id, board_name, on=on, **observed(settings, key))


@benefit_board.command("remove")
@key_and_benefit
@click.argument("board_name", metavar="BOARD")
@click.option("--reason", required=True)
@written(lambda done: f"{done['key']}: benefit {done['id']} no longer reviewed by {done['board']}")
@pass_settings
def benefit_board_remove(settings: Settings, key: str, benefit_id: str, board_name: str, reason: str) -> dict[str, Any]:
    """A further board stops reviewing the benefit (its own board changes with benefit update --board)."""
    return settings.app().remove_benefit_board(key, benefit_id, board_name, reason=reason, **observed(settings, key))


REGISTER_FIELDS = ("id", "category", "status", "latest", "target", "progress", "planned", "owner", "boards", "handover",
                   "title")


def _register_text(rows: list[dict[str, Any]], key: str, **_: Any) -> None:
    """Benefits, then dis-benefits apart, with their figures as text."""
    from workflow.text import realisation_row

    for title, dis in (("benefits", False), ("dis-benefits", True)):
        chosen = [r for r in rows if r["dis_benefit"] == dis]
        if chosen or not dis:
            click.echo(f"{key} {title}:")
            emit_table([realisation_row(r) for r in chosen], REGISTER_FIELDS)


@benefit.command("list")
@click.argument("key", shell_complete=KEYS)
@listing(*REGISTER_FIELDS, text=_register_text)
@pass_settings
def benefit_list(settings: Settings, key: str) -> list[dict[str, Any]]:
    """The benefits register with realisation as at today; dis-benefits apart."""
    return settings.app().benefits(key)


@cli.group()
def objective() -> None:
    """A collaboration's objectives: the roots of its benefits logic map."""


@objective.command("add")
@click.argument("key", shell_complete=KEYS)
@click.argument("objective_id", metavar="ID")
@click.option("--title", required=True)
@click.option("--on", type=DATE, help="Effective date (default today).")
@written(lambda done: f"{done['key']}: objective {done['id']} added")
@pass_settings
def objective_add(settings: Settings, key: str, objective_id: str, title: str, on: date | None) -> dict[str, Any]:
    """Record an objective of the collaboration."""
    return settings.app().add_objective(key, objective_id, title=title, on=on, **observed(settings, key))


def _objectives_text(rows: list[dict[str, Any]], **_: Any) -> None:
    emit_table([{**row, "benefits": " ".join(row["benefits"])} for row in rows], ("id", "title", "benefits"))


@objective.command("list")
@click.argument("key", shell_complete=KEYS)
@listing("id", "title", "benefits", text=_objectives_text)
@pass_settings
def objective_list(settings: Settings, key: str) -> list[dict[str, Any]]:
    """Objectives and the benefits linked to each directly."""
    return settings.app().objectives(key)


@cli.group()
def lesson() -> None:
    """Lessons learned, shared across collaborations."""


@lesson.command("add")
@click.argument("key", shell_complete=KEYS)
@click.argument("text")
@click.option("--theme")
@pass_settings
def lesson_add(settings: Settings, key: str, text: str, theme: str | None) -> None:
    """Record a lesson learned."""
    settings.app().add_lesson(key, text, theme=theme, **observed(settings, key))
    click.echo(f"{key}: lesson recorded")


@cli.command()
@click.option("--search", metavar="TEXT", help="Match text, theme, collaboration key or title (any case).")
@listing("collaboration", "recorded_on", "theme", "by", "text")
@pass_settings
def lessons(settings: Settings, search: str | None) -> list[dict[str, Any]]:
    """Lessons learned across every collaboration."""
    return settings.app().lessons(search)


# -- history and audit --------------------------------------------------------------------------------


def _history_text(rows: list[dict[str, Any]], **_: Any) -> None:
    """One line an event; stored text is escaped, so no field can colour the terminal or forge a line."""
    for r in rows:
        move = f" {terminal(r['from_stage'] or '')}->{terminal(r['to_stage'])}" if r["to_stage"] else ""
        why = f" ({terminal(r['reason'])})" if r["reason"] else ""
        click.echo(f"{r['seq']:>6}  {r['effective_on']}  {terminal(r['actor']):<16} {terminal(r['action'])}{move}{why}")


@cli.command()
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="Across every collaboration (and user and board changes).")
@click.option("--since", type=DATE, help="Events effective on or after this date.")
@click.option("--actor", metavar="NAME", shell_complete=USERS)
@click.option("--action", metavar="NAME", help="e.g. advance, approved, benefit-added")
@listing(*LISTING_FIELDS["history"], text=_history_text)
@pass_settings
def history(settings: Settings, key: str | None, every: bool, since: date | None, actor: str | None,
            action: str | None) -> list[dict[str, Any]]:
    """The history of a collaboration (or --all), oldest first."""
    if bool(key) == every:
        raise click.UsageError("give a collaboration KEY or --all")
    return settings.app().history(key, since=since, actor=actor, action=action)


@cli.group()
def audit() -> None:
    """Check, anchor and export the tamper-evident history."""


def seq_hash(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, str] | None:
    """SEQ:HASH, as `collab audit head` prints it."""
    if value is None:
        return None
    seq, _, digest = value.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or int(seq) < 1 or len(digest) != 64 or not set(digest) <= set("0123456789abcdef"):
        raise click.BadParameter(f"{value!r} is not SEQ:HASH (an event number, a colon, 64 hex digits)")
    return int(seq), digest


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True)
@click.option("--expect", metavar="SEQ:HASH", callback=seq_hash,
              help="Also exit 3 unless event SEQ is still present with this hash (a head quoted earlier).")
@pass_settings
def audit_verify(settings: Settings, as_json: bool, expect: tuple[int, str] | None) -> None:
    """Recompute the hash chain and check every signature; exit 3 naming the first event that does not match."""
    with ProgressBar("verifying the history") as progress:
        result = settings.app().verify(expect, progress)
    if as_json:
        emit_json(result.as_dict())
    elif result.ok:
        click.echo(f"history verified: {result.events} events, head {result.head}"
                   + (f"; event {expect[0]} has the expected hash" if expect else ""))
    else:
        click.echo(f"history does NOT verify: {result.problem}", err=True)
    if not result.ok:
        sys.exit(3)


@audit.command("head")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def audit_head(settings: Settings, as_json: bool) -> None:
    """The newest event's number, hash and time: the statement to quote in board minutes.

    Later, `collab audit verify --expect SEQ:HASH` proves the history still holds it.
    """
    top = settings.app().head()
    if as_json:
        emit_json(top)
    else:
        click.echo(f"collab history head: event {top['seq']}, hash {top['hash']}, recorded {top['recorded_at']}")
        click.echo(f"check later with: collab audit verify --expect {top['seq']}:{top['hash']}")


@audit.command("export")
@click.argument("key", shell_complete=KEYS)
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write here instead of stdout.")
@pass_settings
def audit_export(settings: Settings, key: str, out: str | None) -> None:
    """One collaboration's events as JSON, verifiable on their own (docs/audit-format.md)."""
    bundle = settings.app().export(key)
    write_text(json.dumps(bundle, indent=2, ensure_ascii=False) + "\n", out)


# -- keys ---------------------------------------------------------------------------------------------


@cli.group()
def key() -> None:
    """Signing keys (Ed25519)."""


@key.command("new")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write the private key (default ~/.collab/USER.key); never overwritten.")
@pass_settings
def key_new(settings: Settings, out: str | None) -> None:
    """Make a key pair for the acting user and register its public key.

    The private key is encrypted with a passphrase (COLLAB_KEY_PASSPHRASE, or asked twice).
    """
    from pathlib import Path

    passphrase = os.environ.get("COLLAB_KEY_PASSPHRASE") or click.prompt(
        "Passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True)
    made = settings.app().new_key(passphrase, Path(out) if out else None)
    click.echo(f"key {made['fingerprint']} registered for {made['user']}; private key in {made['file']}")


# -- reports, reviews and reminders ------------------------------------------------------------------


@cli.command()
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="The portfolio: every collaboration.")
@click.option("--partner", metavar="ORG", help="With --all: that force's portfolio, its share of costs and savings only.")
@click.option("--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write it ('-' for stdout). Default: stdout for json and csv; "
                   "KEY-report.html or portfolio-report.html here for html.")
@pass_settings
def report(settings: Settings, key: str | None, every: bool, partner: str | None, fmt: str, out: str | None) -> None:
    """A report to open, print or attach: one collaboration (KEY) or the portfolio (--all).

    Exit 3, after writing the report, if the history it verified does not match its chain.
    """
    if bool(key) == every:
        raise click.UsageError("give a collaboration KEY or --all")
    if partner is not None and not every:
        raise click.UsageError("--partner ORG goes with --all (a force's portfolio)")
    from workflow.report_formats import render
    from workflow.reports import collaboration_report, portfolio_report

    ctx = settings.app().ctx
    with ProgressBar("verifying the history") as progress:
        facts = collaboration_report(ctx, key) if key else portfolio_report(ctx, partner, progress=progress)
    text = render(facts, fmt)
    if out is None and fmt == "html":
        out = "portfolio-report.html" if every else f"{key}-report.html"
    write_text(text, out)
    verified = facts["verification"]
    if not verified["ok"]:
        click.echo(f"history does NOT verify: {verified['problem']}", err=True)
        sys.exit(3)


@cli.command()
@click.option("--at", type=DATE, help="As of this date (default today).")
@click.option("--within", type=click.IntRange(min=0), default=35, show_default=True, metavar="DAYS",
              help="How far ahead upcoming reviews are listed; due and overdue ones always are.")
@click.option("--board", metavar="BOARD", shell_complete=BOARDS, help="Only this board's reviews (leaves out PIRs).")
@listing("due_on", "status", "board", "collaboration", "benefit", "owner", "title")
@pass_settings
def reviews(settings: Settings, at: date | None, within: int, board: str | None) -> Iterator[dict[str, Any]]:
    """Benefit reviews and PIRs still owed: upcoming, due (reminders out) and overdue (meeting passed)."""
    from workflow.reminders import Reminders

    return Reminders(settings.app().ctx).each_review(at=at, within=within, board=board)


def sending(command: Callable[..., dict[str, Any]]) -> Callable[..., None]:
    """--at, --dry-run, --force and --json on a command that sends through the delivery log, and its report:
    exit 5 if some could not be delivered, or are owed to someone without an email address."""
    @click.option("--at", "at_text", metavar="DATETIME",
                  help="Send what is due at this moment (default now; Europe/London unless a zone is given).")
    @click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
    @click.option("--force", is_flag=True, help="Really send when --at is in the future (otherwise that is a dry run).")
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @functools.wraps(command)
    def run(*args: Any, at_text: str | None, dry_run: bool, force: bool, as_json: bool, **kwargs: Any) -> None:
        from workflow.clock import parse_moment

        at = parse_moment(at_text, "--at") if at_text else None
        done = command(*args, at=at, dry_run=dry_run, force=force, **kwargs)
        if done["future"]:
            click.echo(f"--at {at_text} is in the future: a dry run, nothing sent or recorded (--force sends)", err=True)
        if as_json:
            emit_json(done)
        else:
            verb = "would send" if done["dry_run"] else "sent"
            count = 0
            for count, sent in enumerate(done["sent"], 1):
                click.echo(f"{verb} {sent['kind']} to {sent['to']}: {sent['subject']}")
            click.echo(f"{count} {verb}, {done['already_sent']} already sent"
                       + (f", {done['in_progress']} being sent by another worker" if done["in_progress"] else ""))
        for skipped in done["unreachable"]:
            click.echo(f"not sent: {skipped['kind']} for {skipped['user']}: {skipped['reason']}", err=True)
        for failed in done["failed"]:
            click.echo(f"could not send {failed['kind']} to {failed['to']}: {failed['error']} (the next run retries)",
                       err=True)
        if done["unreachable"]:
            click.echo("give them an address: collab user update NAME --email ADDR (collab todo lists them for an admin)",
                       err=True)
        if done["failed"] or done["unreachable"]:
            sys.exit(5)
    return run


@cli.command()
@sending
@pass_settings
def remind(settings: Settings, at: datetime | None, dry_run: bool, force: bool) -> dict[str, Any]:
    """Send every reminder and escalation due, each exactly once (one message a person for their escalations),
    and on the COLLAB_DIGEST_DAY weekday each person's weekly digest.

    Exit 5 if some could not be delivered, or are owed to someone without an email address.
    """
    from workflow.reminders import Reminders

    with ProgressBar("sending") as progress:
        return Reminders.from_env(settings.app().ctx, settings.db).remind(at, dry_run=dry_run, force=force,
                                                                          progress=progress, lazily=True)


@cli.command()
@sending
@pass_settings
def digest(settings: Settings, at: datetime | None, dry_run: bool, force: bool) -> dict[str, Any]:
    """Send each person the weekly digest of what `todo` lists for them, once a week (the week of --at).

    Exit 5 if some could not be delivered, or are owed to someone without an email address.
    """
    from workflow.reminders import Reminders

    return Reminders.from_env(settings.app().ctx, settings.db).digest(at, dry_run=dry_run, force=force)


@cli.command()
@click.option("--every", type=click.FloatRange(min=0.1, max=86400), default=60, show_default=True, metavar="SECONDS",
              help="From 0.1 to 86400 (a day).")
@pass_settings
def worker(settings: Settings, every: float) -> None:
    """Run `remind` now and every SECONDS until SIGTERM or Ctrl-C (exit 0 once the current run finishes)."""
    if math.isnan(every):  # FloatRange lets NaN through: it compares neither below nor above a bound
        raise click.BadParameter("nan is not a number of seconds", param_hint="--every")
    from workflow.reminders import Reminders
    from workflow.worker import run

    reminders = Reminders.from_env(settings.app().ctx, settings.db)
    reminders.authorise()
    run(reminders, every, click.echo)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--insecure-cookies", is_flag=True,
              help="Let cookies travel over plain http (testing on localhost only; behind TLS leave it off).")
@pass_settings
def serve(settings: Settings, host: str, port: int, insecure_cookies: bool) -> None:
    """Serve the web interface (waitress) on the same database; people log in with `collab user password`."""
    from web import serve as run_server

    run_server(settings.db, host, port, secure_cookies=not insecure_cookies, say=click.echo)


# -- robustness: backup (workflow.backup) -------------------------------------------------------------


@cli.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_settings
def backup_(settings: Settings, file: str) -> None:
    """Copy the SQLite database to FILE (a new file) while others may write, then verify the copy's history."""
    from workflow.backup import backup
    from workflow.db import shown

    done = backup(settings.db, file)
    click.echo(f"backed up {shown(settings.db)} to {done.path}: history verified, {done.events} events, head {done.head}")


def main() -> None:
    # A command builds its objects in bulk (`reviews` and `remind` hundreds of thousands on a large programme), few
    # of them in cycles: collecting every 700 allocations walked them over and over (a third of `remind`'s time).
    gc.set_threshold(100_000, 50, 100)
    try:
        cli(prog_name="collab")
    finally:
        # Leave the heavy imports' objects out of the collections Python runs while it shuts down:
        # they die with the process either way, and traversing them cost about 100 ms per command.
        gc.freeze()


if __name__ == "__main__":
    main()
