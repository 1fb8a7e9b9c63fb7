"""Action forms: GET shows the form (with what it needs to be filled in), POST calls the use case.

A refusal re-shows the form with what was typed and every reason the engine gave, in its words. The form
carries the collaboration's version as the page was shown, so a change made by someone else meanwhile is
refused (409) rather than silently overtaken, as the CLI detects it between reading and writing.
Signed decisions (approve, accept) by a person with a registered key ask again for the password and for the
key file and its passphrase; the key is used for that one request and never kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from web.auth import acting, engine, status_of
from web.forms import ACTIONS, Action, parse
from workflow.errors import BadInput, CollabError, reason
from workflow.service import Collab
from workflow.signing import private_key_from_pem

blueprint = Blueprint("actions", __name__)


def choices(app: Collab, key: str | None) -> dict[str, list[str]]:
    """The lists a form's select fields name: benefits, users, boards, gates, next stages, artefact kinds."""
    found: dict[str, list[str]] = {"users": [u["name"] for u in app.users()], "boards": [b["name"] for b in app.boards()]}
    if key is None:
        return found
    shown, check = app.show(key), app.check(key)
    definition = app.definition(f"{shown['definition']}@{shown['definition_version']}")
    moves = [m["to"] for m in check["transitions"] if m["trigger"] == "advance"]
    found.update(benefits=[b["id"] for b in shown["benefits"]], next_stages=moves,
                 gates=list(dict.fromkeys([*moves, *(v["gate"] for v in check["variations"])])),
                 artefact_kinds=list(definition.artefact_kinds))
    return found


def _values(action: Action, form: Any) -> dict[str, Any]:
    return {f.name: parse(f, form.get(f.name)) for f in action.fields}


def run(app: Collab, action: Action, key: str | None, form: Any, version: int | None, files: Any = None) -> dict[str, Any]:
    """Parse `form` for `action` and call its use case as `app`'s person (the JSON API calls this too)."""
    values = _values(action, form)
    extra: dict[str, Any] = {}
    if action.on_collaboration and version is not None:
        extra["expected_version"] = version
    if action.signs and app.has_signing_key():
        extra["signing_key"] = _unlocked_key(app, form, files)
    return action.call(app, key, values, **extra)


def _unlocked_key(app: Collab, form: Any, files: Any) -> Any:
    """Fresh re-authentication, then the uploaded key unlocked with its passphrase."""
    app.reauthenticate(form.get("password", ""))
    upload = files.get("key_file") if files is not None else None
    if upload is None or not upload.filename:
        raise BadInput(reason("key-file-missing", "choose your private key file to sign with"))
    return private_key_from_pem(upload.read(), form.get("passphrase", ""), upload.filename)


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _page(app: Collab, action: Action, key: str | None, values: Any, reasons: list[Any], version: int | None) -> str:
    facts = app.approval_facts(key) if action.name == "approve" and key else None
    return render_template("action.html", action=action, key=key, values=values, reasons=reasons, version=version,
                           lists=choices(app, key), signs=action.signs and app.has_signing_key(), facts=facts)


@blueprint.route("/new", methods=["GET", "POST"])
@acting
def new() -> Any:
    return _act(ACTIONS["new"], None)


@blueprint.route("/c/<key>/do/<name>", methods=["GET", "POST"])
@acting
def act(key: str, name: str) -> Any:
    action = ACTIONS.get(name)
    if action is None or not action.on_collaboration:
        abort(404)
    return _act(action, key)


def _act(action: Action, key: str | None) -> Any:
    app = engine()
    if request.method == "GET":
        return _page(app, action, key, request.args, [], app.version_of(key) if key else None)
    version = _version(request.form.get("version"))
    try:
        done = run(app, action, key, request.form, version, request.files)
    except CollabError as error:
        # Shown again at the version as it is now: the refusal has told what changed meanwhile, if anything did.
        return _page(app, action, key, request.form, error.reasons, app.version_of(key) if key else None), \
            status_of(error)
    flash(action.done(done))
    target = key or done["key"]
    return redirect(url_for("pages.collaboration", key=target))
