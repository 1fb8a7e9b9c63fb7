"""The pages a person reads (every one a GET with no side effect): my work, the portfolio, a collaboration
with what stands before its next gate, its live report, a board's agenda, the history and the audit."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request

from web.auth import engine, login_required
from web.forms import ACTIONS
from workflow.errors import BadInput, Reason, reason
from workflow.reminders import Reminders
from workflow.report_formats import render
from workflow.reports import collaboration_report
from workflow.vocabulary import ORIGINS

blueprint = Blueprint("pages", __name__)

# Where a person fixes an unmet requirement, by the engine's reason code: (action, the parameter that prefills it).
FIXES = {
    "objective-missing": ("update", None), "public-benefit-missing": ("update", None),
    "rationale-missing": ("update", None), "too-few-partners": ("partner", None),
    "risk-appetite-missing": ("partner", "partner"), "cost-share-missing": ("partner", "partner"),
    "too-few-benefits": ("benefit-add", None), "artefact-missing": ("artefact", "kind"),
    "handover-not-proposed": ("handover", "benefit"), "too-few-lessons": ("lesson", None),
    "benefit-profile-incomplete": ("benefit-update", "benefit"), "too-few-non-financial-benefits": ("benefit-add", None),
    "approval-missing": ("approve", "gate"), "approval-stale": ("approve", "gate"),
    "benefit-not-linked": ("link", "benefit"),
}
# What each kind of work owed (workflow.todo) asks the person to do.
TODO_ACTIONS = {"approval": ("approve", "gate"), "variation": ("approve", "gate"), "handover": ("accept", "benefit"),
                "figure": ("measure", "benefit")}


def fix_of(r: Reason | dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The action form that fixes reason `r`, with what it can prefill."""
    code, params = (r.code, r.params) if isinstance(r, Reason) else (r["code"], r["params"])
    if code not in FIXES:
        return None
    name, param = FIXES[code]
    prefill = {"org" if param == "partner" else param: str(params[param])} if param and param in params else {}
    return name, prefill


@blueprint.app_context_processor
def helpers() -> dict[str, Any]:
    return {"fix_of": fix_of, "actions": ACTIONS}


def day_arg(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput(reason("bad-date", f"{raw!r} is not a date (e.g. 2026-11-25)", field=name)) from None


def arg(name: str) -> str | None:
    return request.args.get(name, "").strip() or None


@blueprint.get("/")
@login_required
def home() -> str:
    return render_template("home.html", todo=engine().todo(), todo_actions=TODO_ACTIONS)


@blueprint.get("/portfolio")
@login_required
def portfolio() -> str:
    app = engine()
    stage, force, origin = arg("stage"), arg("force"), arg("origin")
    partners = app.partners_by_collaboration()
    rows = [r for r in app.list(stage) if (origin is None or r["origin"] == origin)
            and (force is None or force in partners.get(r["key"], []))]
    forces = sorted({name for names in partners.values() for name in names})
    stages = list(dict.fromkeys(name for d in app.definitions() for name in
                                app.definition(f"{d['name']}@{d['version']}").stage_names))
    return render_template("portfolio.html", rows=rows, partners=partners, stages=stages, forces=forces,
                           origins=ORIGINS, chosen={"stage": stage, "force": force, "origin": origin})


@blueprint.get("/c/<key>")
@login_required
def collaboration(key: str) -> str:
    app = engine()
    return render_template("collaboration.html", c=app.show(key), check=app.check(key), benefits=app.benefits(key))


@blueprint.get("/c/<key>/report")
@login_required
def report(key: str) -> Response:
    """The collaboration's report (workflow/templates), made now from the database: the same page as `collab report`."""
    return Response(render(collaboration_report(engine().ctx, key), "html"), mimetype="text/html",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})


@blueprint.get("/history")
@login_required
def history() -> str:
    app = engine()
    key, actor, action, since = arg("key"), arg("actor"), arg("action"), day_arg("since")
    events = app.history(key, since=since, actor=actor, action=action)
    return render_template("history.html", events=events, chosen={"key": key, "actor": actor, "action": action,
                                                                  "since": since.isoformat() if since else None},
                           keys=[r["key"] for r in app.list()])


@blueprint.get("/audit")
@login_required
def audit() -> str:
    app = engine()
    return render_template("audit.html", verified=app.verify(), head=app.head(), keys=[r["key"] for r in app.list()])


@blueprint.get("/audit/export/<key>")
@login_required
def export(key: str) -> Response:
    bundle = json.dumps(engine().export(key), indent=2, ensure_ascii=False) + "\n"
    return Response(bundle, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{key}-audit.json"'})


@blueprint.get("/agenda")
@login_required
def agenda() -> str:
    """A board's meeting: the reviews owed at it, each benefit with its latest figure and realisation status."""
    app = engine()
    boards = [b["name"] for b in app.boards()]
    board, at = arg("board"), day_arg("at")
    meetings: dict[str, list[dict[str, Any]]] = {}
    if board:
        registers: dict[str, dict[str, dict[str, Any]]] = {}
        for r in Reminders(app.ctx).reviews(at=at, within=int(request.args.get("within", "35") or 35), board=board):
            if r["collaboration"] not in registers:
                registers[r["collaboration"]] = {b["id"]: b for b in app.benefits(r["collaboration"])}
            meetings.setdefault(r["due_on"], []).append({**r, "register": registers[r["collaboration"]].get(r["benefit"])})
    return render_template("agenda.html", boards=boards, board=board, at=at, meetings=meetings)
