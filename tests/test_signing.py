"""Signing keys: the Ed25519 primitives, `collab key new`, and `audit verify` checking every signature."""

from __future__ import annotations

import stat
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from builders import connection, open_as, people, scoped
from conftest import collab
from tampering import tamper
from workflow import audit
from workflow.clock import LONDON
from workflow.errors import BadInput

from workflow.model import Event, UserKey
from workflow.signing import (
    check_signature, fingerprint, load_private_key, new_private_key, public_key_text, sign_statement, statement,
    write_private_key,
)

PASSPHRASE = {"COLLAB_KEY_PASSPHRASE": "correct horse battery staple"}
FACTS = {"purpose": "Share services", "partners": [{"name": "Dorset Police", "cost_share": "40"}]}


def approval(signer: str = "cc.dc", facts: Any = FACTS) -> dict[str, Any]:
    return statement("approve", "SA", signer, date(2026, 11, 25), facts, gate="pid")


# -- primitives -----------------------------------------------------------------------------------------

def test_a_private_key_is_written_encrypted_for_its_owner_only_and_never_overwritten(tmp_path: Path) -> None:
    key, path = new_private_key(), tmp_path / "me.key"
    write_private_key(key, path, "pass")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert public_key_text(load_private_key(path, "pass")) == public_key_text(key)
    with pytest.raises(BadInput, match="already exists"):
        write_private_key(new_private_key(), path, "pass")
    assert public_key_text(load_private_key(path, "pass")) == public_key_text(key)
    with pytest.raises(BadInput, match="wrong passphrase"):
        load_private_key(path, "wrong")
    with pytest.raises(BadInput, match="needs a passphrase"):
        write_private_key(key, tmp_path / "open.key", "")


def test_a_signature_covers_exactly_its_statement() -> None:
    key, other = new_private_key(), new_private_key()
    signed = sign_statement(key, approval())
    assert signed["alg"] == "Ed25519" and signed["key"] == public_key_text(key)
    assert check_signature(signed, public_key_text(key))
    assert not check_signature(signed, public_key_text(other))
    assert not check_signature({**signed, "signed": approval(facts={**FACTS, "purpose": "Merge forces"})}, signed["key"])
    assert not check_signature({**signed, "signed": {**signed["signed"], "on": "2026-11-26"}}, signed["key"])
    assert not check_signature({**signed, "sig": "not base64!"}, signed["key"])


def test_a_statement_names_a_gate_or_a_benefit_and_digests_the_facts() -> None:
    gate = approval()
    assert set(gate) == {"action", "collaboration", "gate", "facts", "on", "signer"}
    assert gate["facts"] != approval(facts={**FACTS, "purpose": "Merge forces"})["facts"]
    accepted = statement("accept", "SA", "owner", date(2026, 11, 25), {"benefit": "B1"}, benefit="B1")
    assert accepted["benefit"] == "B1" and "gate" not in accepted
    with pytest.raises(ValueError):
        statement("approve", "SA", "cc.dc", date(2026, 11, 25), FACTS)


def test_the_fingerprint_is_sha256_of_the_raw_public_key() -> None:
    import base64
    import hashlib

    public = public_key_text(new_private_key())
    assert fingerprint(public) == hashlib.sha256(base64.b64decode(public)).hexdigest()


# -- collab key new -------------------------------------------------------------------------------------

@pytest.fixture
def signers_db(db: str) -> str:
    people(db)
    scoped(db)
    return db


def key_rows(db: str) -> list[tuple[str, str, str]]:
    with open_as(db, "audit").ctx.uow.read() as session:
        return [tuple(row) for row in session.execute(select(UserKey.user_name, UserKey.public_key, UserKey.fingerprint))]


def test_key_new_registers_the_public_key_and_records_it(signers_db: str, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    out = collab(signers_db, "key", "new", actor="cc.dc", env={**PASSPHRASE, "HOME": str(home)}, check=0).out
    path = home / ".collab" / "cc.dc.key"
    [(user, public, print_)] = key_rows(signers_db)
    assert user == "cc.dc" and print_ in out and str(path) in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_text(load_private_key(path, PASSPHRASE["COLLAB_KEY_PASSPHRASE"])) == public
    event = open_as(signers_db, "audit").history(None, action="key-registered")[-1]
    assert (event["actor"], event["payload"]) == ("cc.dc", {"user": "cc.dc", "fingerprint": print_, "public_key": public,
                                                                **connection(signers_db)})
    collab(signers_db, "audit", "verify", actor="audit", check=0)


def test_key_new_changes_nothing_when_it_cannot_finish(signers_db: str, tmp_path: Path) -> None:
    taken = tmp_path / "taken.key"
    taken.write_text("someone's key")
    result = collab(signers_db, "key", "new", "--out", str(taken), actor="cc.dc", env=PASSPHRASE, check=2)
    assert "already exists" in result.err and taken.read_text() == "someone's key"
    fresh = tmp_path / "fresh.key"
    collab(signers_db, "key", "new", "--out", str(fresh), actor="nobody", env=PASSPHRASE, check=2)
    collab(signers_db, "key", "new", "--out", str(fresh), env=PASSPHRASE, check=2)
    assert not fresh.exists() and key_rows(signers_db) == []


def test_a_key_file_is_removed_when_its_registration_fails(signers_db: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    app, path = open_as(signers_db, "cc.dc"), tmp_path / "cc.key"

    def failing(*_args: Any, **_kwargs: Any) -> None:
        raise BadInput("the history refused it")

    monkeypatch.setattr(app.ctx, "record", failing)
    with pytest.raises(BadInput, match="refused"):
        app.new_key("pass", path)
    assert not path.exists() and key_rows(signers_db) == []


def test_key_new_asks_for_the_passphrase_twice(signers_db: str, tmp_path: Path) -> None:
    import os
    import subprocess

    from conftest import COLLAB

    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLAB_")} | {"COLLAB_DB": signers_db, "COLLAB_USER": "pm"}
    path = tmp_path / "pm.key"
    done = subprocess.run([COLLAB, "key", "new", "--out", str(path)], input="s3cret\ns3cret\n",
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert public_key_text(load_private_key(path, "s3cret")) == key_rows(signers_db)[0][1]


# -- audit verify checks signatures ---------------------------------------------------------------------

def register(db: str, user: str, path: Path) -> Any:
    collab(db, "key", "new", "--out", str(path), actor=user, env=PASSPHRASE, check=0)
    return load_private_key(path, PASSPHRASE["COLLAB_KEY_PASSPHRASE"])


def append_signed(db: str, actor: str, signature: dict[str, Any]) -> int:
    """An event carrying a signature (and changing no table), written through audit.append as a use case would."""
    with open_as(db, actor).ctx.uow.write() as session:
        event = audit.append(session, actor=actor, action="statement-signed", recorded_at=datetime.now(LONDON),
                             effective_on=date(2026, 11, 25), payload={"gate": "pid", "signature": signature})
        return event.seq


def test_verify_accepts_good_signatures_and_names_a_bad_one(signers_db: str, tmp_path: Path) -> None:
    key = register(signers_db, "cc.dc", tmp_path / "cc.key")
    append_signed(signers_db, "cc.dc", sign_statement(key, approval()))
    collab(signers_db, "audit", "verify", actor="audit", check=0)
    forged = {**sign_statement(key, approval()), "signed": approval(facts={"purpose": "Merge forces"})}
    seq = append_signed(signers_db, "cc.dc", forged)
    result = collab(signers_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert result["first_bad"] == seq
    assert result["problem"] == f"event {seq}: its signature does not verify with cc.dc's key"


@pytest.mark.parametrize("case, problem", [
    ("unregistered key", "it is signed with a key cc.dc had not registered"),
    ("another signer", "its signed statement names 'pcc.dc', not cc.dc"),
    ("another's key", "it is signed with a key cc.dc had not registered"),
    ("not an object", "its signature is not a signature object"),
])
def test_verify_refuses_signatures_that_are_not_the_actors(signers_db: str, tmp_path: Path, case: str, problem: str) -> None:
    mine, theirs = register(signers_db, "cc.dc", tmp_path / "cc.key"), register(signers_db, "pcc.dc", tmp_path / "pcc.key")
    signature: Any = {
        "unregistered key": sign_statement(new_private_key(), approval()),
        "another signer": sign_statement(mine, approval(signer="pcc.dc")),
        "another's key": sign_statement(theirs, approval()),
        "not an object": "signed, honestly",
    }[case]
    seq = append_signed(signers_db, "cc.dc", signature)
    result = collab(signers_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert (result["first_bad"], result["problem"]) == (seq, f"event {seq}: {problem}")


def test_verify_refuses_a_key_table_that_the_history_does_not_explain(signers_db: str, tmp_path: Path) -> None:
    register(signers_db, "cc.dc", tmp_path / "cc.key")
    public = key_rows(signers_db)[0][1]
    tamper(signers_db, f"UPDATE user_keys SET user_name = 'pcc.dc' WHERE public_key = '{public}'")
    result = collab(signers_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert "user_keys row of pcc.dc" in result["problem"]
    tamper(signers_db, "DELETE FROM user_keys")
    result = collab(signers_db, "audit", "verify", "--json", actor="audit", check=3).json()
    assert result["problem"] == f"user_keys has no row for the key {public} that cc.dc registered in the history"
    with open_as(signers_db, "audit").ctx.uow.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.action == "key-registered")) == 1


# -- decisions signed by people who registered a key ----------------------------------------------------

def test_an_approval_by_someone_with_a_key_must_be_signed_with_it(db: str, tmp_path: Path) -> None:
    from builders import ready_for_delivery

    people(db)
    ready_for_delivery(db)
    open_as(db, "pm").advance("SA")  # into delivery; bau's approvals come later, the delivery gate is passed
    open_as(db, "pm").add_partner("SA", "Dorset Police", risk_appetite="cautious")  # a variation: re-approve
    path = tmp_path / "cc.key"
    collab(db, "key", "new", "--out", str(path), actor="cc.dc", env=PASSPHRASE, check=0)
    before = collab(db, "history", "SA", "--json", actor="audit").json()
    refused = collab(db, "approve", "SA", "--gate", "delivery", actor="cc.dc", check=1)
    assert "cc.dc has registered a signing key: their approvals and acceptances must be signed with it" in refused.err
    other = tmp_path / "other.key"
    write_private_key(new_private_key(), other, "pass")
    collab(db, "approve", "SA", "--gate", "delivery", "--key", str(other), actor="cc.dc",
           env={"COLLAB_KEY_PASSPHRASE": "pass"}, check=1)
    assert collab(db, "history", "SA", "--json", actor="audit").json() == before
    done = collab(db, "approve", "SA", "--gate", "delivery", actor="cc.dc",
                  env={**PASSPHRASE, "COLLAB_KEY": str(path)}, check=0)
    assert done.out.rstrip().endswith(", signed)")
    [signed] = [e for e in collab(db, "history", "SA", "--json", actor="audit").json()
                if e["action"] == "approved" and "signature" in e["payload"]]
    statement = signed["payload"]["signature"]["signed"]
    assert (statement["action"], statement["collaboration"], statement["gate"], statement["signer"]) == (
        "approve", "SA", "delivery", "cc.dc")
    collab(db, "audit", "verify", actor="audit", check=0)


# -- a definition may require signed approvals ----------------------------------------------------------------

SIGNED_GATE = "approved: {roles: [chief-officer, pcc], partner_kind: police, signed: true}"


def signed_definition(tmp_path: Path) -> Path:
    """The default definition under another name, whose delivery gate needs signed approvals."""
    from workflow.definition import builtin_files

    text = Path(builtin_files()["police-collaboration"]).read_text()
    assert text.count("approved: {roles: [chief-officer, pcc], partner_kind: police}") >= 1
    text = text.replace("name: police-collaboration", "name: signed-collaboration", 1).replace(
        "approved: {roles: [chief-officer, pcc], partner_kind: police}", SIGNED_GATE, 1)
    path = tmp_path / "signed.yaml"
    path.write_text(text)
    return path


def test_a_gate_whose_definition_requires_signatures_takes_only_signed_approvals(db: str, tmp_path: Path) -> None:
    from builders import EVIDENCE, awaiting_delivery_approvals

    people(db)
    collab(db, "definition", "add", str(signed_definition(tmp_path)), actor="root", check=0)
    awaiting_delivery_approvals(db, definition="signed-collaboration")
    before = collab(db, "history", "SA", "--json", actor="audit").json()
    refused = collab(db, "approve", "SA", "--gate", "delivery", actor="cc.dc", check=1)
    assert refused.err.startswith("the delivery gate of SA needs signed approvals: cc.dc must register a signing key "
                                  "and sign with it (collab key new, then collab approve SA --gate delivery --key FILE)")
    assert collab(db, "history", "SA", "--json", actor="audit").json() == before
    for signer in ("cc.dc", "pcc.dc", "cc.do"):
        path = tmp_path / f"{signer}.key"
        register(db, signer, path)
        collab(db, "approve", "SA", "--gate", "delivery", "--key", str(path), "--on", EVIDENCE.isoformat(),
               actor=signer, env=PASSPHRASE, check=0)
    assert "Dorset Police PCC has not approved the delivery gate" in collab(
        db, "advance", "SA", actor="pm", check=1).out + collab(db, "check", "SA", actor="pm").out
    path = tmp_path / "pcc.do.key"
    register(db, "pcc.do", path)
    collab(db, "approve", "SA", "--gate", "delivery", "--key", str(path), actor="pcc.do", env=PASSPHRASE, check=0)
    collab(db, "advance", "SA", actor="pm", check=0)
    approvals = [e for e in open_as(db, "audit").history("SA", action="approved")]
    assert [(e["actor"], "signature" in e["payload"]) for e in approvals] == [
        ("cc.dc", True), ("pcc.dc", True), ("cc.do", True), ("pcc.do", True)]
    collab(db, "audit", "verify", actor="audit", check=0)


def test_an_unsigned_approval_does_not_open_a_gate_that_needs_signatures() -> None:
    from workflow.gates import GateFacts, PartnerFacts, approved

    partner = PartnerFacts("Dorset Police", "police", "cautious", None)
    given = frozenset({("delivery", "Dorset Police", "chief-officer")})
    facts = GateFacts(key="SA", partners=(partner,), approvals=given, unsigned=given)
    assert approved(facts, gate="delivery", roles=("chief-officer",)) == []
    [unsigned] = approved(facts, gate="delivery", roles=("chief-officer",), signed=True)
    assert (unsigned.code, unsigned.text) == ("approval-unsigned", (
        "Dorset Police chief officer approved the delivery gate without a signature, and this gate needs signed "
        "approvals: re-approve with a signing key"))
    assert approved(GateFacts(key="SA", partners=(partner,), approvals=given), gate="delivery",
                    roles=("chief-officer",), signed=True) == []

