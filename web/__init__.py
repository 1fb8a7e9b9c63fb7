"""`collab serve`: the web front end over the engine's use cases (Flask, served by waitress).

A second thin front end beside cli.py: each request opens the engine (`workflow.service.Collab`) as the
logged-in person and calls the same use case the CLI command of that name calls; it never reads or writes
the database around them. Pages are rendered on the server and work without JavaScript. Every GET is free
of side effects; every change is a POST carrying a CSRF token (Flask-WTF).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

import jinja2
from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect  # type: ignore[import-untyped]

from workflow.clock import Clock
from workflow.errors import CollabError
from workflow.formatting import FILTERS

SESSION_COOKIE = "collab_session"


def create_app(db: str, *, clock: Clock | None = None, secure_cookies: bool = True,
               secret_key: str | None = None) -> Flask:
    """The web app on database `db` (a path or URL, as the CLI's --db).

    `secure_cookies=False` lets a browser keep the cookies over plain http (localhost testing only).
    `secret_key` signs the CSRF cookie; default COLLAB_SECRET_KEY, else a random key per process (a restart
    then asks open forms to be reloaded, nothing worse: logins are server-side and survive it).
    """
    from web import actions, api, auth, pages

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or os.environ.get("COLLAB_SECRET_KEY") or secrets.token_hex(32),
        SESSION_COOKIE_NAME="collab_csrf", SESSION_COOKIE_SECURE=secure_cookies, SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", MAX_CONTENT_LENGTH=64 * 1024, COLLAB_DB=db,
        COLLAB_CLOCK=clock or Clock.from_env(), COLLAB_SECURE=secure_cookies,
    )
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.undefined = jinja2.StrictUndefined
    app.before_request(auth.load_person)  # before the CSRF check, so that its refusal page knows who is asking
    csrf = CSRFProtect(app)
    for blueprint in (auth.blueprint, pages.blueprint, actions.blueprint):
        app.register_blueprint(blueprint)
    app.register_blueprint(api.blueprint, url_prefix="/api")
    csrf.exempt(api.blueprint)  # a bearer token is sent by a program on purpose, never by a browser on its own
    app.after_request(_headers)

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        return render_template("error.html", title="Form refused", reasons=[
            f"{error.description} Nothing was changed: go back, reload the form and send it again."]), 400

    @app.errorhandler(CollabError)
    def refused(error: CollabError) -> Any:
        if request.blueprint == "api":
            return api.error_body(error)
        return render_template("error.html", title="Refused", reasons=error.reasons), auth.status_of(error)

    @app.errorhandler(403)
    def forbidden(error: Any) -> tuple[str, int]:
        said = getattr(error, "description", "") or "You may not do this."
        return render_template("error.html", title="Not allowed", reasons=[said]), 403

    return app


def _headers(response: Any) -> Any:
    """No script, no framing, no sniffing; pages about people are not cached anywhere, the stylesheet is."""
    response.headers.setdefault("Content-Security-Policy",
                                "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "public, max-age=3600" if request.endpoint == "static" else "private, no-store"
    return response


def serve(db: str, host: str, port: int, *, secure_cookies: bool, say: Any = print) -> None:
    """Serve the app with waitress until interrupted."""
    from waitress import serve as waitress_serve  # type: ignore[import-untyped]

    from workflow.db import UnitOfWork, engine_for, shown

    UnitOfWork(engine_for(db)).check_schema()  # a database collab cannot use is refused (exit 2) before serving
    say(f"collab web on http://{host}:{port}/ (database {shown(db)}); Ctrl-C stops it")
    waitress_serve(create_app(db, secure_cookies=secure_cookies), host=host, port=port, threads=4)
