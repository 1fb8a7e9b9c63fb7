"""Signing keys: `collab key new` registers an Ed25519 key pair for the acting user (one unit of work)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflow import signing
from workflow.audit import KEY_REGISTERED
from workflow.errors import BadInput, Refused, reason
from workflow.model import UserKey

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from sqlalchemy.orm import Session

    from workflow.context import Actor, Context


def default_key_file(user: str) -> Path:
    return Path.home() / ".collab" / f"{user}.key"


class KeyCases:
    ctx: Context

    def new_key(self, passphrase: str, out: Path | None = None) -> dict[str, Any]:
        """Make a key pair for the acting user, write the private key (encrypted, mode 0600) to `out` or
        ~/.collab/USER.key, register the public key and record `key-registered`; all of it or nothing."""
        return new_key(self.ctx, passphrase, out)


def new_key(ctx: Context, passphrase: str, out: Path | None = None) -> dict[str, Any]:
    if ctx.actor_name is None:
        raise BadInput(reason("actor-missing", "name the user whose key this is"))
    written: Path | None = None
    try:
        with ctx.uow.write() as session:
            actor = ctx.acting(session, None)
            path = out or default_key_file(actor.name)
            if out is None:
                path.parent.mkdir(mode=0o700, exist_ok=True)
            key = signing.new_private_key()
            written = signing.write_private_key(key, path, passphrase)
            public = signing.public_key_text(key)
            fingerprint = signing.fingerprint(public)
            session.add(UserKey(user_name=actor.name, public_key=public, fingerprint=fingerprint, created_at=ctx.clock.now()))
            ctx.record(session, actor, KEY_REGISTERED, user=actor.name, fingerprint=fingerprint, public_key=public)
    except BaseException:
        if written is not None:
            written.unlink(missing_ok=True)  # a key file whose public half was not registered is of no use
        raise
    return {"user": actor.name, "fingerprint": fingerprint, "public_key": public, "file": str(path)}


def signed_decision(session: Session, actor: Actor, key: Ed25519PrivateKey | None,
                    said: dict[str, Any]) -> dict[str, Any] | None:
    """The signature of a decision (`said`, a signing.statement) by `actor`, or None for someone with no key.

    Once a person has registered a key, their decisions must be signed with one of their keys: a decision
    without it, or with a key they did not register, is refused.
    """
    from sqlalchemy import select

    registered = set(session.scalars(select(UserKey.public_key).where(UserKey.user_name == actor.name)))
    if key is None:
        if registered:
            raise Refused(reason("signature-required", f"{actor.name} has registered a signing key: their approvals "
                                 "and acceptances must be signed with it", actor=actor.name))
        return None
    if signing.public_key_text(key) not in registered:
        raise Refused(reason("key-not-registered", f"that key is not one {actor.name} registered", actor=actor.name))
    return signing.sign_statement(key, said)
