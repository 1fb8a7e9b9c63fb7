"""The web front end through Flask's test client: login and logout, CSRF, roles, refusals and the token API."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from builders import DC, DORSET, connection, open_as, people, ready_for_delivery, scoped
from conftest import COLLAB, collab
from workflow.clock import Clock, parse_moment
from workflow.errors import Refused

PASSWORD = "a long enough password"
NOW = "2020-01-06T09:00"


def with_passwords(db: str, *names: str) -> None:
    admin = open_as(db, "root")
    for name in names:
        admin.set_password(name, PASSWORD)


@pytest.fixture
def web(db: str):  # type: ignore[no-untyped-def]
    from web import create_app

    people(db)
    with_passwords(db, "pm", "cc.dc", "audit", "owner")
    app = create_app(db, clock=Clock(parse_moment(NOW)), secure_cookies=False, secret_key="test")
    return app


def csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    response = client.post("/login", data={"name": name, "password": password, "csrf_token": csrf(client, "/login")})
    assert response.status_code == 302, response.text


def test_login_and_logout(web, db: str) -> None:  # type: ignore[no-untyped-def]
    client = web.test_client()
    assert client.get("/portfolio").headers["Location"] == "/login?next=/portfolio"
    refused = client.post("/login", data={"name": "pm", "password": "wrong password!", "csrf_token": csrf(client, "/login")})
    assert refused.status_code == 403 and "unknown user name or wrong password" in refused.text
    unknown = client.post("/login", data={"name": "nobody", "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    assert unknown.status_code == 403 and "unknown user name or wrong password" in unknown.text
    login(client, "pm")
    cookie = client.get_cookie("collab_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    home = client.get("/")
    assert home.status_code == 200 and "pm (programme-manager)" in home.text
    sid = cookie.value
    out = client.post("/logout", data={"csrf_token": csrf(client, "/")})
    assert out.status_code == 302
    assert client.get("/").status_code == 302
    client.set_cookie("collab_session", sid)  # the old session id is dead on the server, not just forgotten
    assert client.get("/").status_code == 302


def test_session_cookie_is_secure_unless_told(db: str) -> None:
    from web import create_app

    people(db)
    with_passwords(db, "pm")
    client = create_app(db, secret_key="test").test_client()
    response = client.post("/login", data={"name": "pm", "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def test_a_post_without_a_csrf_token_is_refused_and_changes_nothing(web, db: str) -> None:  # type: ignore[no-untyped-def]
    client = web.test_client()
    assert client.post("/login", data={"name": "pm", "password": PASSWORD}).status_code == 400
    login(client, "pm")
    response = client.post("/new", data={"key": "SA", "title": "Strategic Alliance", "origin": "programme"})
    assert response.status_code == 400 and "CSRF" in response.text
    forged = client.post("/new", data={"key": "SA", "title": "x", "origin": "programme", "csrf_token": "forged"})
    assert forged.status_code == 400
    assert open_as(db, "pm").list() == []


def test_an_auditor_gets_403_on_every_action(web, db: str) -> None:  # type: ignore[no-untyped-def]
    from web.forms import ACTIONS

    scoped(db)
    client = web.test_client()
    login(client, "audit")
    token = csrf(client, "/")
    before = open_as(db, "audit").history()
    for name, action in ACTIONS.items():
        path = f"/c/SA/do/{name}" if action.on_collaboration else "/new"
        assert client.get(path).status_code == 403, name
        assert client.post(path, data={"csrf_token": token, "reason": "x", "benefit": "B1"}).status_code == 403, name
    assert "takes no action" in client.get("/c/SA/do/advance").text
    assert client.get("/c/SA").status_code == 200 and client.get("/audit").status_code == 200
    assert open_as(db, "audit").history() == before


def test_a_refused_move_shows_every_reason_and_a_way_to_fix_each(web, db: str) -> None:  # type: ignore[no-untyped-def]
    open_as(db, "pm").new("SA", "Strategic Alliance", on=parse_moment(NOW).date())
    client = web.test_client()
    login(client, "pm")
    form = client.get("/c/SA/do/advance")
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)  # type: ignore[union-attr]
    refused = client.post("/c/SA/do/advance", data={"csrf_token": csrf(client, "/c/SA/do/advance"), "version": version})
    assert refused.status_code == 422
    cli = collab(db, "advance", "SA", actor="pm", env={"COLLAB_NOW": NOW}, check=1)
    for line in cli.err.splitlines():
        said = line.split(" (collab ")[0].split(" (--")[0]
        assert said.replace("'", "&#39;") in refused.text, said
    assert 'href="/c/SA/do/update"' in refused.text and 'href="/c/SA/do/partner"' in refused.text
    assert open_as(db, "pm").show("SA")["stage"] == "scoping"


def test_a_stale_form_is_refused_as_changed_meanwhile(web, db: str) -> None:  # type: ignore[no-untyped-def]
    scoped(db)
    client = web.test_client()
    login(client, "pm")
    version = open_as(db, "pm").version_of("SA")
    open_as(db, "pm").update("SA", title="Renamed meanwhile")
    response = client.post("/c/SA/do/advance", data={"csrf_token": csrf(client, "/"), "version": str(version)})
    assert response.status_code == 409 and "changed by someone else meanwhile" in response.text
    assert open_as(db, "pm").show("SA")["stage"] == "scoping"


def test_an_approval_shows_the_facts_approved_and_is_given(web, db: str) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    ready_for_delivery(db)
    open_as(db, "pm").add_partner("SA", "Devon & Cornwall Police", cost_share="60")
    open_as(db, "pm").add_partner("SA", "Dorset Police", cost_share="40")
    client = web.test_client()
    login(client, "cc.dc")
    form = client.get("/c/SA/do/approve?gate=delivery")
    assert "What you approve" in form.text and "60" in form.text and "ref/pid" in form.text
    done = client.post("/c/SA/do/approve", data={"csrf_token": csrf(client, "/"), "gate": "delivery",
                                                  "on": date(2020, 1, 6).isoformat()})
    assert done.status_code == 302
    assert "approved the delivery gate" in client.get(done.headers["Location"]).text
    assert open_as(db, "audit").history("SA", action="approved")[-1]["actor"] == "cc.dc"


def test_token_api_answers_as_the_cli_json(web, db: str) -> None:  # type: ignore[no-untyped-def]
    import json

    scoped(db)
    client = web.test_client()
    assert client.get("/api/collaborations").status_code == 401
    assert client.get("/api/collaborations", headers={"Authorization": "Bearer collab_wrong"}).status_code == 401
    login(client, "pm")
    issued = client.post("/account/tokens", data={"csrf_token": csrf(client, "/account"), "label": "force system"})
    assert issued.status_code == 201
    token = re.search(r"(collab_[A-Za-z0-9_-]{40,})", issued.text).group(1)  # type: ignore[union-attr]
    bearer = {"Authorization": f"Bearer {token}"}
    for path, args in (("/api/collaborations", ["list", "--json"]), ("/api/collaborations/SA", ["show", "SA", "--json"]),
                       ("/api/collaborations/SA/benefits", ["benefit", "list", "SA", "--json"]),
                       ("/api/todo", ["todo", "--json"])):
        response = client.get(path, headers=bearer)
        assert response.status_code == 200, path
        assert response.get_json() == json.loads(collab(db, *args, actor="pm", env={"COLLAB_NOW": NOW}, check=0).out), path
    refused = client.post("/api/collaborations/SA/hold", headers=bearer, json={})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["reasons"][0]["text"] == "Reason is needed"
    held = client.post("/api/collaborations/SA/hold", headers=bearer, json={"reason": "budget review"})
    assert held.status_code == 200 and held.get_json()["to"] == "on-hold"
    assert client.post("/api/collaborations/SA/resume", headers=bearer, json={}).get_json()["to"] == "scoping"
    token_id = open_as(db, "pm").tokens()[0]["id"]
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf(client, "/account")})
    assert client.get("/api/collaborations", headers=bearer).status_code == 401
    actions = [e["action"] for e in open_as(db, "root").history(action=None) if e["action"].startswith("token")]
    assert actions == ["token-issued", "token-revoked"]
    assert token not in str(open_as(db, "root").history()) and open_as(db, "root").verify().ok


def test_an_auditor_token_reads_but_may_not_act(web, db: str) -> None:  # type: ignore[no-untyped-def]
    scoped(db)
    token = open_as(db, "audit").issue_token("audit tool")["token"]
    client = web.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/audit/verify", headers=bearer).get_json()["ok"] is True
    refused = client.post("/api/collaborations/SA/lesson", headers=bearer, json={"text": "x"})
    assert refused.status_code == 403 and refused.get_json()["error"]["reasons"][0]["code"] == "role-may-not"


def test_password_events_keep_no_secret_and_verify(db: str) -> None:
    people(db)
    short = collab(db, "user", "password", "pm", "--password-stdin", actor="root", check=2)  # stdin: no line
    assert "at least 12 characters" in short.err
    done = subprocess.run([COLLAB, "user", "password", "pm", "--password-stdin"], input=PASSWORD + "\n",
                          capture_output=True, text=True, env={"COLLAB_DB": db, "COLLAB_USER": "pm"}, timeout=60)
    assert done.returncode == 0, done.stderr
    with pytest.raises(Refused, match="needs the role admin"):
        open_as(db, "pm").set_password("root", PASSWORD)
    events = open_as(db, "root").history(action="password-set")
    assert [(e["actor"], e["payload"]) for e in events] == [("pm", {"user": "pm", **connection(db)})]
    assert PASSWORD not in str(open_as(db, "root").history())
    assert open_as(db, "root").verify().ok


def test_a_signed_approval_needs_the_password_again_and_the_key(web, db: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ready_for_delivery(db)
    with_passwords(db, "pcc.do")
    open_as(db, "pm").set_cost_shares("SA", {DC: "60", DORSET: "40"})  # a variation: pcc.do must approve again
    open_as(db, "pcc.do").new_key("key passphrase", tmp_path / "pcc.do.key")
    client = web.test_client()
    login(client, "pcc.do")
    form = client.get("/c/SA/do/approve?gate=delivery")
    assert 'type="file"' in form.text and "Your password" in form.text
    before = open_as(db, "audit").history("SA")

    def approve(password: str, passphrase: str, key: bytes | None) -> tuple[int, str]:
        data: dict[str, object] = {"csrf_token": csrf(client, "/"), "gate": "delivery", "password": password,
                                   "passphrase": passphrase}
        if key is not None:
            data["key_file"] = (io.BytesIO(key), "pcc.do.key")
        done = client.post("/c/SA/do/approve", data=data, content_type="multipart/form-data")
        return done.status_code, done.text

    pem = (tmp_path / "pcc.do.key").read_bytes()
    status, text = approve("not my password!", "key passphrase", pem)
    assert status == 403 and "that is not pcc.do&#39;s password; nothing was signed" in text
    status, text = approve(PASSWORD, "key passphrase", None)
    assert status == 400 and "choose your private key file" in text
    status, text = approve(PASSWORD, "wrong passphrase", pem)
    assert status == 400 and "wrong passphrase" in text
    assert open_as(db, "audit").history("SA") == before
    status, _ = approve(PASSWORD, "key passphrase", pem)
    assert status == 302
    assert "signature" in open_as(db, "audit").history("SA", action="approved")[-1]["payload"]
    assert open_as(db, "audit").verify().ok


def test_every_page_is_a_get_that_changes_nothing(web, db: str) -> None:  # type: ignore[no-untyped-def]
    ready_for_delivery(db)
    client = web.test_client()
    login(client, "pm")
    before = (open_as(db, "root").head(), open_as(db, "pm").show("SA"))
    for path in ("/", "/portfolio", "/portfolio?stage=pid&force=Dorset+Police&origin=programme", "/c/SA", "/c/SA/report",
                 "/history", "/history?key=SA&actor=pm&action=advance&since=2019-01-01", "/audit", "/audit/export/SA",
                 "/agenda", "/agenda?board=RCB&at=2020-01-06", "/account", "/new",
                 *(f"/c/SA/do/{name}" for name in ("update", "partner", "advance", "hold", "resume", "approve",
                                                     "artefact", "benefit-add", "benefit-update", "measure",
                                                     "handover", "accept", "decline", "lesson"))):
        assert client.get(path).status_code == 200, path
    assert (open_as(db, "root").head(), open_as(db, "pm").show("SA")) == before
    assert client.get("/c/NOPE").status_code == 404 and "unknown collaboration" in client.get("/c/NOPE").text
    assert client.get("/history?since=yesterday").status_code == 400


def test_a_session_ends_with_its_lifetime_or_when_the_user_is_deactivated(db: str) -> None:
    from web import create_app

    people(db)
    with_passwords(db, "pm", "owner")
    start = parse_moment(NOW)
    later = create_app(db, clock=Clock(start.replace(hour=21, minute=1)), secure_cookies=False, secret_key="test")
    client = create_app(db, clock=Clock(start), secure_cookies=False, secret_key="test").test_client()
    login(client, "pm")
    cookie = client.get_cookie("collab_session")
    assert cookie is not None
    stale = later.test_client()
    stale.set_cookie("collab_session", cookie.value)
    assert stale.get("/").status_code == 302  # 12 hours on
    login(client, "owner")
    open_as(db, "root").deactivate_user("owner")
    assert client.get("/").status_code == 302
    refused = client.post("/login", data={"name": "owner", "password": PASSWORD, "csrf_token": csrf(client, "/login")})
    assert refused.status_code == 403 and "can no longer act" in refused.text


def test_login_goes_back_only_to_a_page_of_this_site(web) -> None:  # type: ignore[no-untyped-def]
    client = web.test_client()
    for target, landed in (("/portfolio", "/portfolio"), ("//evil.example/x", "/"), ("https://evil.example/", "/")):
        client.post("/logout", data={"csrf_token": csrf(client, "/login")})
        response = client.post("/login", data={"name": "pm", "password": PASSWORD, "next": target,
                                               "csrf_token": csrf(client, "/login")})
        assert response.headers["Location"] == landed


def test_serve_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    result = collab(str(tmp_path / "none.db"), "serve", "--port", "1", check=2)
    assert "is not initialised" in result.err and "collab init" in result.err
