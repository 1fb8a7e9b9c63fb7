"""Who is asking: login and logout, the server-side session cookie, a person's account page (password and
personal API tokens), and the engine opened as that person.

The session cookie holds a random id only (HttpOnly, SameSite=Lax, Secure unless serving plain http for
local testing); the database holds its SHA-256 (workflow.accounts). A person is the registered user their
login names, with that user's role: the web app decides nothing about roles except that an auditor, who
reads and verifies, has no action to take.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from web import SESSION_COOKIE
from workflow.accounts import SESSION_HOURS
from workflow.context import Actor
from workflow.errors import BadInput, CollabError, Conflict, IntegrityFailure, Refused
from workflow.service import Collab

blueprint = Blueprint("auth", __name__)
READ_ONLY_ROLES = frozenset({"auditor"})
# Refusals that say who may act, not what is missing: answered 403.
FORBIDDEN = frozenset({"role-may-not", "may-not-measure", "not-the-receiver", "not-a-partner", "approval-not-asked",
                       "user-deactivated", "login-failed", "reauthentication-failed", "signature-required",
                       "key-not-registered"})


def engine(actor: str | None = None) -> Collab:
    """The use cases, as the logged-in person (or as `actor`), on the app's database and clock."""
    person = g.get("person")
    return Collab.open(current_app.config["COLLAB_DB"], actor or (person.name if person else None),
                       current_app.config["COLLAB_CLOCK"])


def status_of(error: CollabError) -> int:
    if isinstance(error, Refused):
        return 403 if {r.code for r in error.reasons} & FORBIDDEN else 422
    if isinstance(error, (Conflict, IntegrityFailure)):
        return 409
    if isinstance(error, BadInput) and any(r.code.startswith("unknown-") for r in error.reasons):
        return 404
    return 400


def load_person() -> None:
    """g.person: the Actor of the session cookie (pages) or of the bearer token (the API), else None."""
    g.person = None
    header = request.headers.get("Authorization", "")
    if request.blueprint == "api":
        if header.startswith("Bearer "):
            g.person = engine().token_user(header.removeprefix("Bearer ").strip())
        return
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        g.person = engine().session_user(sid)


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if g.person is None:
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return guarded


def acting(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page that changes something: logged in, and not in a read-only role (403, GET and POST alike)."""
    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        person: Actor = g.person
        if READ_ONLY_ROLES.issuperset(person.roles):
            abort(403, f"{person.name} is an {person.role}: an {person.role} reads and verifies the history, "
                       "and takes no action.")
        return view(*args, **kwargs)
    return login_required(guarded)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host): never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("pages.home")
    return target


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return render_template("login.html", next=request.args.get("next", ""), name="", reasons=[])
    name = request.form.get("name", "").strip()
    try:
        sid = engine(None).login(name, request.form.get("password", ""))
    except CollabError as error:
        return render_template("login.html", next=request.form.get("next", ""), name=name,
                               reasons=error.reasons), status_of(error)
    response = redirect(_safe_next(request.form.get("next")))
    response.set_cookie(SESSION_COOKIE, sid, max_age=SESSION_HOURS * 3600, secure=current_app.config["COLLAB_SECURE"],
                        httponly=True, samesite="Lax")
    return response


@blueprint.post("/logout")
def logout() -> Any:
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        engine(None).logout(sid)
    response = redirect(url_for("auth.login"))
    response.delete_cookie(SESSION_COOKIE, secure=current_app.config["COLLAB_SECURE"], httponly=True, samesite="Lax")
    return response


@blueprint.get("/account")
@login_required
def account() -> Any:
    return render_template("account.html", tokens=engine().tokens(), issued=None, reasons=[])


@blueprint.post("/account/password")
@login_required
def change_password() -> Any:
    app = engine()
    try:
        app.reauthenticate(request.form.get("current", ""))
        if request.form.get("new", "") != request.form.get("again", ""):
            raise BadInput("the two new passwords differ")
        app.set_password(g.person.name, request.form.get("new", ""))
    except CollabError as error:
        return render_template("account.html", tokens=app.tokens(), issued=None, reasons=error.reasons), status_of(error)
    flash("Password changed; every session was ended. Log in again.")
    return redirect(url_for("auth.login"))


@blueprint.post("/account/tokens")
@login_required
def issue_token() -> Any:
    app = engine()
    try:
        issued = app.issue_token(request.form.get("label", ""))
    except CollabError as error:
        return render_template("account.html", tokens=app.tokens(), issued=None, reasons=error.reasons), status_of(error)
    return render_template("account.html", tokens=app.tokens(), issued=issued, reasons=[]), 201


@blueprint.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Any:
    engine().revoke_token(token_id)
    flash(f"Token {token_id} revoked.")
    return redirect(url_for("auth.account"))
