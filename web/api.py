"""JSON over HTTP for force systems, with the shapes of the CLI's --json, authenticated by a personal token
(`Authorization: Bearer collab_...`, issued on the account page).

GETs read; a POST to /api/collaborations/KEY/ACTION (or /api/collaborations for `new`) takes a JSON object of
the action form's fields and calls the same use case, with `expected_version` if given. A refusal answers
{"error": {"exit_code", "reasons": [{"code", "params", "text"}]}} with 400, 403, 404, 409 or 422.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from web.actions import run
from web.auth import READ_ONLY_ROLES, engine, status_of
from web.forms import ACTIONS
from web.pages import arg, day_arg
from workflow.errors import BadInput, CollabError, Refused, reason
from workflow.reminders import Reminders

blueprint = Blueprint("api", __name__)


def error_body(error: CollabError) -> tuple[Response, int]:
    return jsonify({"error": {"exit_code": error.exit_code, "reasons": [r.as_dict() for r in error.reasons]}}), \
        status_of(error)


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.person is None:
            response = jsonify({"error": {"exit_code": 2, "reasons": [
                reason("token-missing", "send a personal token: Authorization: Bearer TOKEN").as_dict()]}})
            response.headers["WWW-Authenticate"] = 'Bearer realm="collab"'
            return response, 401
        return jsonify(view(*args, **kwargs))
    return guarded


@blueprint.get("/todo")
@token_required
def todo() -> Any:
    return engine().todo()


@blueprint.get("/collaborations")
@token_required
def collaborations() -> Any:
    return engine().list(arg("stage"))


@blueprint.get("/collaborations/<key>")
@token_required
def show(key: str) -> Any:
    return engine().show(key)


@blueprint.get("/collaborations/<key>/check")
@token_required
def check(key: str) -> Any:
    return engine().check(key)


@blueprint.get("/collaborations/<key>/benefits")
@token_required
def benefits(key: str) -> Any:
    return engine().benefits(key)


@blueprint.get("/history")
@token_required
def history() -> Any:
    return engine().history(arg("key"), since=day_arg("since"), actor=arg("actor"), action=arg("action"))


@blueprint.get("/lessons")
@token_required
def lessons() -> Any:
    return engine().lessons(arg("search"))


@blueprint.get("/reviews")
@token_required
def reviews() -> Any:
    return Reminders(engine().ctx).reviews(at=day_arg("at"), board=arg("board"))


@blueprint.get("/audit/verify")
@token_required
def verify() -> Any:
    return engine().verify().as_dict()


@blueprint.get("/audit/head")
@token_required
def head() -> Any:
    return engine().head()


@blueprint.get("/audit/export/<key>")
@token_required
def export(key: str) -> Any:
    return engine().export(key)


@blueprint.post("/collaborations")
@token_required
def new() -> Any:
    return _post("new", None)


@blueprint.post("/collaborations/<key>/<name>")
@token_required
def act(key: str, name: str) -> Any:
    return _post(name, key)


def _post(name: str, key: str | None) -> Any:
    if READ_ONLY_ROLES.issuperset(g.person.roles):
        raise Refused(reason("role-may-not", f"{g.person.name} is an {g.person.role}, who reads and takes no action",
                             actor=g.person.name, role=g.person.role))
    action = ACTIONS.get(name)
    if action is None or action.on_collaboration != (key is not None):
        raise BadInput(reason("unknown-action", f"unknown action '{name}' (actions: {', '.join(ACTIONS)})", action=name))
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput(reason("json-object-needed", "send the action's fields as a JSON object"))
    version = body.get("expected_version")
    return run(engine(), action, key, body, version if isinstance(version, int) else None)
