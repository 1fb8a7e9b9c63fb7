"""`collab`: the command line over workflow.service. Parse, call a use case, render; no rules here.

Heavy modules (SQLAlchemy, transitions, jinja2) are imported inside the commands so
that `collab --help` and `collab --version` start fast.
"""

from __future__ import annotations

import csv
import gc
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from workflow import __version__
from workflow.errors import CollabError
from workflow.vocabulary import CATEGORIES, ORIGINS, PARTNER_KINDS, RISK_APPETITES, ROLES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from workflow.service import Collab



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


class CollabGroup(click.Group):
    """Turns the engine's expected failures into their exit codes, with no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CollabError as error:
            for reason in error.reasons:
                click.echo(reason, err=True)
            ctx.exit(error.exit_code)


class Settings:
    def __init__(self, db: str, actor: str | None) -> None:
        self.db = db
        self.actor = actor
        self._app: Collab | None = None

    def app(self) -> Collab:
        if self._app is None:
            from workflow.service import Collab

            self._app = Collab.open(self.db, self.actor)
        return self._app


pass_settings = click.make_pass_decorator(Settings)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def emit_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str]) -> None:
    writer = csv.DictWriter(sys.stdout, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v, sort_keys=True) if isinstance(v, (dict, list)) else v for k, v in row.items()})


def emit_rows(rows: Sequence[dict[str, Any]], fields: Sequence[str], as_json: bool) -> None:
    """What every listing command prints: the rows as JSON, or a table of `fields`."""
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, fields)


def emit_table(rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> None:
    rows = list(rows)
    if not rows:
        click.echo("(none)")
        return
    cells = [[("" if row.get(f) is None else str(row.get(f))) for f in fields] for row in rows]
    widths = [max(len(f), *(len(c[i]) for c in cells)) for i, f in enumerate(fields)]
    click.echo("  ".join(f.upper().ljust(w) for f, w in zip(fields, widths)).rstrip())
    for c in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(c, widths)).rstrip())


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


def observed(settings: Settings, key: str) -> dict[str, Any]:
    """The collaboration's version as this command first saw it, so a concurrent change is detected."""
    return {"expected_version": settings.app().version_of(key)}


@click.group(cls=CollabGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="collab")
@click.option("--db", envvar="COLLAB_DB", default="collab.db", show_default=True,
              help="SQLite file path or SQLAlchemy URL (postgresql+psycopg://...).")
@click.option("--as", "actor", envvar="COLLAB_USER", metavar="NAME", help="The person acting (a registered user).")
@click.pass_context
def cli(ctx: click.Context, db: str, actor: str | None) -> None:
    """Govern police collaborations: gated stages, benefits that survive closure, review reminders, verifiable history."""
    ctx.obj = Settings(db, actor)


@cli.command()
@pass_settings
def init(settings: Settings) -> None:
    """Create or upgrade the database (idempotent)."""
    from workflow.db import engine_for, upgrade

    revision = upgrade(engine_for(settings.db))
    click.echo(f"database {settings.db} is at schema revision {revision}")


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


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--email")
@click.option("--partner", metavar="ORG", help="The force a chief officer or PCC acts for.")
@pass_settings
def user_add(settings: Settings, name: str, role: str, email: str | None, partner: str | None) -> None:
    """Register a user (the first user of a new database must be an admin)."""
    added = settings.app().add_user(name, role, email=email, partner=partner)
    click.echo(f"added {added['name']} as {added['role']}")


@user.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def user_list(settings: Settings, as_json: bool) -> None:
    rows = settings.app().users()
    emit_rows(rows, ("name", "role", "partner", "email"), as_json)


@cli.group()
def board() -> None:
    """Boards that review benefits (Resource Control, Executive, Performance)."""


@board.command("add")
@click.argument("name")
@click.option("--partner", required=True, metavar="ORG")
@click.option("--meets", required=True, metavar="RRULE", help="RFC 5545 recurrence, e.g. FREQ=MONTHLY;BYDAY=1TU")
@click.option("--secretary", required=True, metavar="USER")
@pass_settings
def board_add(settings: Settings, name: str, partner: str, meets: str, secretary: str) -> None:
    added = settings.app().add_board(name, partner, meets, secretary)
    click.echo(f"added board {added['name']} ({added['partner']}), meets {added['meets']}")


@board.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def board_list(settings: Settings, as_json: bool) -> None:
    rows = settings.app().boards()
    emit_rows(rows, ("name", "partner", "meets", "secretary"), as_json)


# -- definitions ------------------------------------------------------------------------------------


@cli.group()
def definition() -> None:
    """Lifecycle definitions (YAML data: stages, transitions, gates)."""


@definition.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def definition_list(settings: Settings, as_json: bool) -> None:
    rows = settings.app().definitions()
    emit_rows(rows, ("name", "version", "source", "title"), as_json)


@definition.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "mermaid"]), default="text", show_default=True)
def definition_show(name: str, fmt: str) -> None:
    from workflow import definition as definitions
    from workflow.diagram import definition_json, definition_mermaid, definition_text

    found = definitions.find(name)
    if fmt == "json":
        emit_json(definition_json(found))
    else:
        click.echo(definition_mermaid(found) if fmt == "mermaid" else definition_text(found))


@definition.command("validate")
@click.argument("file", type=click.Path(dir_okay=False))
def definition_validate(file: str) -> None:
    """Exit 0 if FILE is a valid definition, 2 with every problem and its line if not."""
    from pathlib import Path

    from workflow.definition import load_file

    found = load_file(Path(file))
    click.echo(f"{file}: valid ({found.name} v{found.version}: {len(found.stages)} stages, {len(found.transitions)} transitions)")


# -- collaborations ---------------------------------------------------------------------------------


@cli.command()
@click.argument("key")
@click.option("--title", required=True)
@click.option("--objective")
@click.option("--public-benefit")
@click.option("--definition", "definition_name", default="police-collaboration", show_default=True)
@click.option("--origin", type=click.Choice(ORIGINS), default="programme", show_default=True,
              help="operational: started outside the formal change process, registered so that it is sighted.")
@click.option("--manager", metavar="USER", help="The programme manager (default: the acting user).")
@click.option("--on", type=DATE, help="The date it was registered (default today).")
@pass_settings
def new(settings: Settings, key: str, title: str, objective: str | None, public_benefit: str | None,
        definition_name: str, origin: str, manager: str | None, on: date | None) -> None:
    """Register a collaboration; it starts at the definition's first stage."""
    made = settings.app().new(key, title, objective=objective, public_benefit=public_benefit,
                              definition=definition_name, origin=origin, manager=manager, on=on)
    click.echo(f"registered {made['key']} at {made['stage']} ({made['definition']} v{made['version']})")


@cli.command()
@click.argument("key")
@click.option("--title")
@click.option("--objective")
@click.option("--public-benefit")
@click.option("--rationale", help="s.23HA: the existing agreements considered and why this serves efficiency or effectiveness.")
@pass_settings
def update(settings: Settings, key: str, **fields: str | None) -> None:
    """Change a collaboration's title, objective, public-benefit statement or rationale."""
    result = settings.app().update(key, **fields, **observed(settings, key))
    click.echo(f"{key}: updated {', '.join(result['changed'])}" if result["changed"] else f"{key}: nothing changed")


@cli.group()
def partner() -> None:
    """Partners of a collaboration (forces and other bodies)."""


@partner.command("add")
@click.argument("key")
@click.argument("org")
@click.option("--kind", type=click.Choice(PARTNER_KINDS))
@click.option("--risk-appetite", type=click.Choice(RISK_APPETITES))
@click.option("--cost-share", metavar="PERCENT")
@pass_settings
def partner_add(settings: Settings, key: str, org: str, kind: str | None, risk_appetite: str | None, cost_share: str | None) -> None:
    """Record a partner, or change the facts of one already recorded."""
    p = settings.app().add_partner(key, org, kind=kind, risk_appetite=risk_appetite, cost_share=cost_share, **observed(settings, key))
    click.echo(f"{key}: {p['name']} ({p['kind']}), risk appetite {p['risk_appetite'] or '-'}, cost share {p['cost_share'] if p['cost_share'] is not None else '-'}%")


@cli.command("list")
@click.option("--stage")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def list_(settings: Settings, stage: str | None, as_json: bool) -> None:
    """Every collaboration, with its stage."""
    rows = settings.app().list(stage)
    emit_rows(rows, ("key", "stage", "since", "origin", "manager", "title"), as_json)


@cli.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def show(settings: Settings, key: str, as_json: bool) -> None:
    """One collaboration: purpose, partners, artefacts, approvals and benefits."""
    shown = settings.app().show(key)
    if as_json:
        emit_json(shown)
    else:
        click.echo(collaboration_text(shown))


def collaboration_text(c: dict[str, Any]) -> str:
    lines = [
        f"{c['key']}: {c['title']}",
        f"  stage       {c['stage']} since {c['since']} ({c['definition']} v{c['definition_version']})"
        + (f", held from {c['held_from']}" if c["held_from"] else ""),
        f"  origin      {c['origin']}; programme manager {c['manager']}",
        f"  objective   {c['objective'] or '-'}",
        f"  public benefit  {c['public_benefit'] or '-'}",
        f"  rationale   {c['rationale'] or '-'}",
    ]
    if c["pir_due"]:
        lines.append(f"  closed      {c['closed_on']}; PIR due {c['pir_due']}")
    lines.append("  partners")
    for p in c["partners"] or [{"name": "(none)", "kind": "", "risk_appetite": None, "cost_share": None}]:
        share = f"{p['cost_share']:g}%" if p["cost_share"] is not None else "-"
        lines.append(f"    {p['name']:<32} {p['kind']:<16} appetite {p['risk_appetite'] or '-':<9} share {share}")
    lines.append("  artefacts")
    lines += [f"    {a['kind']:<32} {a['ref']} ({a['on']})" for a in c["artefacts"]] or ["    (none)"]
    lines.append("  approvals")
    lines += [f"    {a['gate']:<10} {a['partner']} {a['role']} ({a['on']})" for a in c["approvals"]] or ["    (none)"]
    lines.append("  benefits")
    lines += [
        f"    {b['id']:<5} {b['category']:<14} {b['status']:<9} {b['title']}" + (" [dis-benefit]" if b.get("dis_benefit") else "")
        for b in c["benefits"]
    ] or ["    (none)"]
    counts = c["realisation"]["benefits"]
    lines.append("  realisation " + ", ".join(f"{n} {status}" for status, n in counts.items() if n) if any(counts.values()) else "  realisation -")
    if any(c["realisation"]["dis_benefits"].values()):
        lines.append("  dis-benefits " + ", ".join(f"{n} {s}" for s, n in c["realisation"]["dis_benefits"].items() if n))
    if c["realisation"]["savings"]:
        lines.append("  savings     " + "; ".join(f"{p} {v:,.2f}" for p, v in c["realisation"]["savings"].items()))
    return "\n".join(lines)


@cli.command()
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def check(settings: Settings, key: str, as_json: bool) -> None:
    """What stands between this collaboration and each next stage."""
    result = settings.app().check(key)
    if as_json:
        emit_json(result)
        return
    click.echo(f"{key} is at {result['stage']}")
    for move in result["transitions"]:
        click.echo(f"  -> {move['to']}: {'ready' if move['ready'] else 'not ready'}")
        for reason in move["unmet"]:
            click.echo(f"     - {reason}")


def _moved(result: dict[str, Any]) -> None:
    click.echo(f"{result['key']}: {result['from']} -> {result['to']} (effective {result['on']})")


@cli.command()
@click.argument("key")
@click.option("--to", "to", metavar="STAGE", help="Needed only where more than one stage follows.")
@click.option("--on", type=DATE, help="Effective date (default today).")
@click.option("--reason")
@pass_settings
def advance(settings: Settings, key: str, to: str | None, on: date | None, reason: str | None) -> None:
    """Pass the next gate; refused (exit 1) with every unmet requirement if it is not met."""
    _moved(settings.app().advance(key, to=to, on=on, reason=reason, **observed(settings, key)))


@cli.command()
@click.argument("key")
@click.option("--reason", required=True)
@click.option("--on", type=DATE)
@pass_settings
def hold(settings: Settings, key: str, reason: str, on: date | None) -> None:
    """Pause a collaboration (resume returns it to the same stage)."""
    _moved(settings.app().hold(key, reason=reason, on=on, **observed(settings, key)))


@cli.command()
@click.argument("key")
@click.option("--reason")
@click.option("--on", type=DATE)
@pass_settings
def resume(settings: Settings, key: str, reason: str | None, on: date | None) -> None:
    """Return a paused collaboration to the stage it was held from."""
    _moved(settings.app().resume(key, reason=reason, on=on, **observed(settings, key)))


@cli.command()
@click.argument("key")
@click.option("--reason", required=True)
@click.option("--on", type=DATE)
@pass_settings
def withdraw(settings: Settings, key: str, reason: str, on: date | None) -> None:
    """Abandon a collaboration (a chief officer or PCC of a partner)."""
    _moved(settings.app().withdraw(key, reason=reason, on=on, **observed(settings, key)))


@cli.group()
def artefact() -> None:
    """Documents a gate needs (PID, agreement, reports)."""


@artefact.command("add")
@click.argument("key")
@click.argument("kind")
@click.option("--ref", required=True, help="Where the document is (a reference, path or URL).")
@click.option("--on", type=DATE)
@pass_settings
def artefact_add(settings: Settings, key: str, kind: str, ref: str, on: date | None) -> None:
    added = settings.app().add_artefact(key, kind, ref, on=on, **observed(settings, key))
    click.echo(f"{key}: artefact {added['kind']} recorded ({added['ref']}, {added['on']})")


@cli.command()
@click.argument("key")
@click.option("--gate", required=True)
@click.option("--on", type=DATE)
@pass_settings
def approve(settings: Settings, key: str, gate: str, on: date | None) -> None:
    """Approve a gate as the acting user's role for their force."""
    done = settings.app().approve(key, gate, on=on, **observed(settings, key))
    verb = "had already approved" if done["already"] else "approved"
    click.echo(f"{key}: {done['partner']} {done['role']} {verb} the {done['gate']} gate ({done['on']})")


# -- benefits ---------------------------------------------------------------------------------------


@cli.group()
def benefit() -> None:
    """The benefits register: profiles, plans, measurements, handover."""


@benefit.command("add")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--title", required=True)
@click.option("--category", required=True, type=click.Choice(CATEGORIES))
@click.option("--measure")
@click.option("--baseline", type=float)
@click.option("--target", type=float)
@click.option("--by", type=DATE, help="Target date.")
@click.option("--owner", metavar="USER")
@click.option("--board", metavar="BOARD")
@click.option("--unit", default="")
@click.option("--dis-benefit", is_flag=True, help="A negative consequence, tracked the same way and shown apart.")
@click.option("--on", type=DATE, help="When it was identified (default today); its realisation starts here.")
@pass_settings
def benefit_add(settings: Settings, key: str, benefit_id: str, title: str, category: str, measure: str | None,
                baseline: float | None, target: float | None, by: date | None, owner: str | None, board: str | None,
                unit: str, dis_benefit: bool, on: date | None) -> None:
    """Identify a benefit; the delivery gate needs its profile complete."""
    added = settings.app().add_benefit(
        key, benefit_id, title=title, category=category, measure=measure, baseline=baseline, target=target, by=by,
        owner=owner, board=board, unit=unit, dis_benefit=dis_benefit, on=on, **observed(settings, key))
    click.echo(f"{key}: benefit {added['id']} ({added['category']}) {added['title']}")


@benefit.command("update")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--title")
@click.option("--measure")
@click.option("--unit")
@click.option("--baseline", type=float)
@click.option("--target", type=float)
@click.option("--by", type=DATE, help="Target date.")
@click.option("--owner", metavar="USER")
@click.option("--board", metavar="BOARD")
@pass_settings
def benefit_update(settings: Settings, key: str, benefit_id: str, **fields: Any) -> None:
    """Complete or correct a benefit's profile."""
    result = settings.app().update_benefit(key, benefit_id, **fields, **observed(settings, key))
    changed = ", ".join(result["changed"]) or "nothing"
    click.echo(f"{key}: benefit {benefit_id}: updated {changed}")


@benefit.command("plan")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--point", "points", multiple=True, required=True, metavar="DATE=VALUE",
              help="An expected value on a date; repeat for each point. Replaces the plan.")
@pass_settings
def benefit_plan(settings: Settings, key: str, benefit_id: str, points: tuple[str, ...]) -> None:
    """Set a benefit's realisation plan (linear between points)."""
    parsed = []
    for point in points:
        day, _, value = point.partition("=")
        try:
            parsed.append((date.fromisoformat(day), float(value)))
        except ValueError:
            raise click.BadParameter(f"{point!r} is not DATE=VALUE (e.g. 2027-03-31=4.5)", param_hint="--point") from None
    result = settings.app().plan(key, benefit_id, parsed, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} plan set ({result['points']} points)")


@benefit.command("measure")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.argument("value")
@click.option("--on", type=DATE, help="The date the value was true (default today; never in the future).")
@click.option("--note")
@pass_settings
def benefit_measure(settings: Settings, key: str, benefit_id: str, value: str, on: date | None, note: str | None) -> None:
    """Record a measurement (the benefit's owner or its board's secretary)."""
    done = settings.app().measure(key, benefit_id, value, on=on, note=note, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} measured {done['value']:g} on {done['on']}")


@benefit.command("handover")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--business-area", required=True)
@click.option("--to", "to", required=True, metavar="USER", help="The receiving owner, who must accept.")
@click.option("--board", metavar="BOARD", help="The board that reviews it after closure.")
@pass_settings
def benefit_handover(settings: Settings, key: str, benefit_id: str, business_area: str, to: str, board: str | None) -> None:
    """Propose handing a benefit over to a business area."""
    settings.app().handover(key, benefit_id, business_area=business_area, to=to, board=board, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} proposed to {business_area} ({to}); awaiting acceptance")


@benefit.command("accept")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@pass_settings
def benefit_accept(settings: Settings, key: str, benefit_id: str) -> None:
    """Accept a benefit handed over to you."""
    settings.app().accept(key, benefit_id, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} accepted")


@benefit.command("decline")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--reason", required=True)
@pass_settings
def benefit_decline(settings: Settings, key: str, benefit_id: str, reason: str) -> None:
    """Decline a benefit handed over to you, saying why."""
    settings.app().decline(key, benefit_id, reason=reason, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} declined")


@benefit.command("retire")
@click.argument("key")
@click.argument("benefit_id", metavar="ID")
@click.option("--reason", required=True)
@pass_settings
def benefit_retire(settings: Settings, key: str, benefit_id: str, reason: str) -> None:
    """Stop tracking a benefit (a chief officer of a partner); its history stays."""
    done = settings.app().retire(key, benefit_id, reason=reason, **observed(settings, key))
    click.echo(f"{key}: benefit {benefit_id} retired on {done['retired_on']}")


@benefit.command("list")
@click.argument("key")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def benefit_list(settings: Settings, key: str, as_json: bool) -> None:
    """The benefits register with realisation as at today; dis-benefits apart."""
    rows = settings.app().benefits(key)
    if as_json:
        emit_json(rows)
        return
    for title, chosen in (("benefits", [r for r in rows if not r["dis_benefit"]]),
                          ("dis-benefits", [r for r in rows if r["dis_benefit"]])):
        if not chosen and title == "dis-benefits":
            continue
        click.echo(f"{key} {title}:")
        emit_table([_realisation_row(r) for r in chosen],
                   ("id", "category", "status", "latest", "target", "progress", "planned", "owner", "handover", "title"))


def _realisation_row(row: dict[str, Any]) -> dict[str, Any]:
    unit = f" {row['unit']}" if row["unit"] else ""
    handover = row["handover"]
    return {
        **row,
        "latest": f"{row['latest']:g}{unit} ({row['latest_on']})" if row["latest"] is not None else "-",
        "target": f"{row['target']:g}{unit}" if row["target"] is not None else "-",
        "progress": f"{row['progress']:.0%}" if row["progress"] is not None else "-",
        "planned": f"{row['planned']:g}" if row["planned"] is not None else "-",
        "handover": f"{handover['status']} ({handover['to']})" if handover else "-",
    }


@cli.group()
def lesson() -> None:
    """Lessons learned, shared across collaborations."""


@lesson.command("add")
@click.argument("key")
@click.argument("text")
@click.option("--theme")
@pass_settings
def lesson_add(settings: Settings, key: str, text: str, theme: str | None) -> None:
    settings.app().add_lesson(key, text, theme=theme, **observed(settings, key))
    click.echo(f"{key}: lesson recorded")


@cli.command()
@click.option("--search", metavar="TEXT", help="Match text, theme, collaboration key or title (any case).")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def lessons(settings: Settings, search: str | None, as_json: bool) -> None:
    """Lessons learned across every collaboration."""
    rows = settings.app().lessons(search)
    emit_rows(rows, ("collaboration", "recorded_on", "theme", "by", "text"), as_json)


# -- history ----------------------------------------------------------------------------------------

HISTORY_FIELDS = ("seq", "recorded_at", "effective_on", "collaboration", "actor", "action", "from_stage", "to_stage",
                  "reason", "payload", "hash", "prev_hash")


@cli.command()
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="Across every collaboration (and user and board changes).")
@click.option("--since", type=DATE, help="Events effective on or after this date.")
@click.option("--actor", metavar="NAME")
@click.option("--action", metavar="NAME", help="e.g. advance, approved, benefit-added")
@click.option("--json", "as_json", is_flag=True)
@click.option("--csv", "as_csv", is_flag=True)
@pass_settings
def history(settings: Settings, key: str | None, every: bool, since: date | None, actor: str | None,
            action: str | None, as_json: bool, as_csv: bool) -> None:
    """The history of a collaboration (or --all), oldest first."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    if bool(key) == every:
        raise click.UsageError("give a collaboration KEY or --all")
    rows = settings.app().history(key, since=since, actor=actor, action=action)
    if as_json:
        emit_json(rows)
    elif as_csv:
        emit_csv(rows, HISTORY_FIELDS)
    else:
        for r in rows:
            move = f" {r['from_stage'] or ''}->{r['to_stage']}" if r["to_stage"] else ""
            why = f" ({r['reason']})" if r["reason"] else ""
            click.echo(f"{r['seq']:>6}  {r['effective_on']}  {r['actor']:<16} {r['action']}{move}{why}")


@cli.group()
def audit() -> None:
    """Check, anchor and export the tamper-evident history."""


@contextmanager
def reading(settings: Settings) -> Iterator[Session]:
    """One consistent read as the acting user (reads name a registered user once any exists)."""
    app = settings.app()
    with app.uow.read() as session:
        if session.get_bind().dialect.name == "postgresql":  # one snapshot for the head and the events
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        app._acting(session, None)
        yield session


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
    from workflow.audit import verify

    with reading(settings) as session:
        result = verify(session, expect)
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
    from workflow.audit import head

    with reading(settings) as session:
        top = head(session)
    if as_json:
        emit_json(top)
    else:
        click.echo(f"collab history head: event {top['seq']}, hash {top['hash']}, recorded {top['recorded_at']}")
        click.echo(f"check later with: collab audit verify --expect {top['seq']}:{top['hash']}")


@audit.command("export")
@click.argument("key")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write here instead of stdout.")
@pass_settings
def audit_export(settings: Settings, key: str, out: str | None) -> None:
    """One collaboration's events as JSON, verifiable on their own (docs/audit-format.md)."""
    from workflow.audit import export

    with reading(settings) as session:
        bundle = export(session, key)
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

    from workflow.keys import new_key

    passphrase = os.environ.get("COLLAB_KEY_PASSPHRASE") or click.prompt(
        "Passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True)
    made = new_key(settings.app(), passphrase, Path(out) if out else None)
    click.echo(f"key {made['fingerprint']} registered for {made['user']}; private key in {made['file']}")


# -- reports ------------------------------------------------------------------------------------------


@cli.command()
@click.argument("key", required=False)
@click.option("--all", "every", is_flag=True, help="The portfolio: every collaboration.")
@click.option("--format", "fmt", type=click.Choice(["html", "json", "csv"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Where to write it ('-' for stdout). Default: stdout for json and csv; "
                   "KEY-report.html or portfolio-report.html here for html.")
@pass_settings
def report(settings: Settings, key: str | None, every: bool, fmt: str, out: str | None) -> None:
    """A report to open, print or attach: one collaboration (KEY) or the portfolio (--all).

    Exit 3, after writing the report, if the history it verified does not match its chain.
    """
    if bool(key) == every:
        raise click.UsageError("give a collaboration KEY or --all")
    from workflow.report_formats import render
    from workflow.reports import collaboration_report, portfolio_report

    facts = collaboration_report(settings.app(), key) if key else portfolio_report(settings.app())
    text = render(facts, fmt)
    if out is None and fmt == "html":
        out = "portfolio-report.html" if every else f"{key}-report.html"
    write_text(text, out)
    verified = facts["verification"]
    if not verified["ok"]:
        click.echo(f"history does NOT verify: {verified['problem']}", err=True)
        sys.exit(3)


# -- reviews and reminders ----------------------------------------------------------------------------


@cli.command()
@click.option("--at", type=DATE, help="As of this date (default today).")
@click.option("--within", type=click.IntRange(min=0), default=35, show_default=True, metavar="DAYS",
              help="How far ahead upcoming reviews are listed; due and overdue ones always are.")
@click.option("--board", metavar="BOARD", help="Only this board's reviews (leaves out PIRs).")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def reviews(settings: Settings, at: date | None, within: int, board: str | None, as_json: bool) -> None:
    """Benefit reviews and PIRs still owed: upcoming, due (reminders out) and overdue (meeting passed)."""
    from workflow.reminders import Reminders

    rows = Reminders(settings.app()).reviews(at=at, within=within, board=board)
    emit_rows(rows, ("due_on", "status", "board", "collaboration", "benefit", "owner", "title"), as_json)


@cli.command()
@click.option("--at", "at_text", metavar="DATETIME", help="Send what is due at this moment (default now; Europe/London unless a zone is given).")
@click.option("--dry-run", is_flag=True, help="List what would be sent; send and record nothing.")
@click.option("--json", "as_json", is_flag=True)
@pass_settings
def remind(settings: Settings, at_text: str | None, dry_run: bool, as_json: bool) -> None:
    """Send every reminder and escalation due, each exactly once (exit 5 if some could not be delivered)."""
    from workflow.clock import parse_moment
    from workflow.reminders import Reminders

    at = parse_moment(at_text, "--at") if at_text else None
    report = Reminders.from_env(settings.app(), settings.db).remind(at, dry_run=dry_run)
    if as_json:
        emit_json(report)
    else:
        verb = "would send" if dry_run else "sent"
        for sent in report["sent"]:
            click.echo(f"{verb} {sent['kind']} to {sent['to']}: {sent['subject']}")
        click.echo(f"{len(report['sent'])} {verb}, {report['already_sent']} already sent"
                   + (f", {report['in_progress']} being sent by another worker" if report["in_progress"] else ""))
    for skipped in report["unreachable"]:
        click.echo(f"not sent: {skipped['kind']} for {skipped['user']}: {skipped['reason']}", err=True)
    for failed in report["failed"]:
        click.echo(f"could not send {failed['kind']} to {failed['to']}: {failed['error']} (the next run retries)", err=True)
    if report["failed"]:
        sys.exit(5)


@cli.command()
@click.option("--every", type=click.FloatRange(min=0.1), default=60, show_default=True, metavar="SECONDS")
@pass_settings
def worker(settings: Settings, every: float) -> None:
    """Run `remind` now and every SECONDS until SIGTERM or Ctrl-C (exit 0 once the current run finishes)."""
    from workflow.reminders import Reminders
    from workflow.worker import run

    reminders = Reminders.from_env(settings.app(), settings.db)
    reminders.authorise()
    run(reminders, every, click.echo)


def main() -> None:
    try:
        cli(prog_name="collab")
    finally:
        # Leave the heavy imports' objects out of the collections Python runs while it shuts down:
        # they die with the process either way, and traversing them cost about 100 ms per command.
        gc.freeze()


if __name__ == "__main__":
    main()
