"""Local accounts for a web front end: one password per registered user (argon2id), server-side login
sessions and personal API tokens.

An account is not domain state: the tables hold only an argon2 hash of each password and the SHA-256 of
each session id and token (both 256-bit random values, so a plain digest is enough), and `audit verify`
does not replay them. Setting a password and issuing or revoking a token are still recorded in the history
(`password-set`, `token-issued`, `token-revoked`, with no secret in them), so an auditor sees who gave whom
a way in. Logging in and out is not recorded: a session is the front end's business.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from workflow.context import Actor, Context
from workflow.errors import BadInput, Refused, reason
from workflow.lookups import find_user
from workflow.model import Account, ApiToken, User, UserKey, WebSession
from workflow import validate

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PASSWORD_SET, TOKEN_ISSUED, TOKEN_REVOKED = "password-set", "token-issued", "token-revoked"
MIN_PASSWORD = 12
SESSION_HOURS = 12  # an absolute lifetime: a GET never extends it, so no read writes


@functools.cache
def _hasher() -> PasswordHasher:
    """argon2's hasher, imported on first use: only password commands pay for it."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy() -> str:
    """Verified when the name is unknown or has no password, so that a wrong name costs as long as a wrong password."""
    return _hasher().hash(secrets.token_hex(16))


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored one is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def login_refused() -> Refused:
    return Refused(reason("login-failed", "unknown user name or wrong password"))


class AccountCases:
    ctx: Context

    def set_password(self, name: str, password: str) -> dict[str, Any]:
        """Set `name`'s password: an admin for anyone, anyone for themselves. Records `password-set`."""
        if len(password) < MIN_PASSWORD:
            raise BadInput(reason("password-too-short", f"a password needs at least {MIN_PASSWORD} characters",
                                  length=MIN_PASSWORD))
        validate.text(password, "the password")
        hashed = _hasher().hash(password)
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, None if self.ctx.actor_name == name else "register users")
            user = find_user(session, name)
            account = session.get(Account, user.id)
            if account is None:
                session.add(Account(user_id=user.id, password_hash=hashed, changed_at=self.ctx.clock.now()))
            else:
                account.password_hash, account.changed_at = hashed, self.ctx.clock.now()
            session.execute(delete(WebSession).where(WebSession.user_id == user.id))  # a new password ends every session
            self.ctx.record(session, actor, PASSWORD_SET, user=name)
        return {"user": name}

    def login(self, name: str, password: str) -> str:
        """A new session id for `name` if the password is theirs (and they may act); Refused otherwise."""
        dummy = _dummy()  # made before the look-up, so that even a process's first login costs alike for any name
        with self.ctx.uow.write(history=False) as session:
            user = session.scalar(select(User).where(User.name == name))
            account = session.get(Account, user.id) if user is not None else None
            if not _matches(account.password_hash if account else dummy, password) or user is None or account is None:
                raise login_refused()
            Context(self.ctx.uow, name, self.ctx.clock).acting(session, None)  # refuses a deactivated user
            sid = secrets.token_urlsafe(32)
            now = _utc(self.ctx.clock.now())
            session.add(WebSession(id_hash=digest(sid), user_id=user.id, created_at=now,
                                   expires_at=now + timedelta(hours=SESSION_HOURS)))
            if _hasher().check_needs_rehash(account.password_hash):
                account.password_hash = _hasher().hash(password)
            return sid

    def logout(self, sid: str) -> None:
        with self.ctx.uow.write(history=False) as session:
            session.execute(delete(WebSession).where(WebSession.id_hash == digest(sid)))

    def session_user(self, sid: str) -> Actor | None:
        """Who holds session `sid`, or None once it expired, was ended, or its user was deactivated."""
        with self.ctx.uow.read() as session:
            found = session.execute(select(WebSession.expires_at, User).join(User, User.id == WebSession.user_id)
                                    .where(WebSession.id_hash == digest(sid))).first()
            if found is None or _utc(found[0]) <= _utc(self.ctx.clock.now()) or found[1].deactivated_on is not None:
                return None
            return Actor.of(found[1])

    def reauthenticate(self, password: str) -> None:
        """Refuse unless `password` is the acting user's own: asked again before a signature is made."""
        dummy = _dummy()
        with self.ctx.uow.read() as session:
            actor = self.ctx.acting(session, None)
            account = session.get(Account, actor.id)
            if not _matches(account.password_hash if account else dummy, password) or account is None:
                raise Refused(reason("reauthentication-failed", f"that is not {actor.name}'s password; nothing was signed",
                                     actor=actor.name))

    def has_signing_key(self) -> bool:
        """Whether the acting user registered a key, so that their approvals and acceptances must be signed."""
        with self.ctx.reading() as session:
            actor = self.ctx.acting(session, None)
            return session.scalar(select(UserKey.id).where(UserKey.user_name == actor.name).limit(1)) is not None

    def issue_token(self, label: str) -> dict[str, Any]:
        """A personal API token for the acting user; the token itself is shown once, here, and stored hashed."""
        validate.text(label, "the token's label", max_length=120)
        token = "collab_" + secrets.token_urlsafe(32)
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, None)
            row = ApiToken(user_id=actor.id, label=label, token_hash=digest(token),
                           created_at=self.ctx.clock.now())
            session.add(row)
            session.flush()
            self.ctx.record(session, actor, TOKEN_ISSUED, user=actor.name, token=row.id, label=label)
            return {"id": row.id, "label": label, "token": token}

    def revoke_token(self, token_id: int) -> dict[str, Any]:
        """Revoke one of the acting user's tokens (an admin: anyone's)."""
        with self.ctx.uow.write() as session:
            actor = self.ctx.acting(session, None)
            found = session.execute(select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
                                    .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))).first()
            if found is None or (found[1] != actor.name and "admin" not in actor.roles):
                raise BadInput(reason("unknown-token", f"{actor.name} has no active token {token_id}", token=token_id))
            found[0].revoked_at = self.ctx.clock.now()
            self.ctx.record(session, actor, TOKEN_REVOKED, user=found[1], token=token_id, label=found[0].label)
            return {"id": token_id, "user": found[1]}

    def tokens(self) -> list[dict[str, Any]]:
        """The acting user's active tokens (never the tokens themselves)."""
        with self.ctx.reading() as session:
            actor = self.ctx.acting(session, None)
            rows = session.scalars(select(ApiToken).join(User, User.id == ApiToken.user_id)
                                   .where(User.name == actor.name, ApiToken.revoked_at.is_(None)).order_by(ApiToken.id))
            return [{"id": t.id, "label": t.label, "created_at": _utc(t.created_at).isoformat()} for t in rows]

    def token_user(self, token: str) -> Actor | None:
        """Who holds an active token, or None."""
        with self.ctx.uow.read() as session:
            user = session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id)
                                  .where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None)))
            if user is None or user.deactivated_on is not None:
                return None
            return Actor.of(user)


def _matches(hashed: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
