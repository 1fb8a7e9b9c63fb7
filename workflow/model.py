"""SQLAlchemy 2.x tables: the database is the source of truth for every collaboration."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, false, func, Date, DateTime, Float, ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[str] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(320))
    partner: Mapped[str | None] = mapped_column(String(200))
    created_on: Mapped[date] = mapped_column(Date)
    deactivated_on: Mapped[date | None] = mapped_column(Date)  # set once: a deactivated user can no longer act
    login: Mapped[str | None] = mapped_column(String(63), index=True, unique=True)  # PostgreSQL login acting as them
    # Every role the person holds, `role` (the primary) among them; read only where a check needs them.
    held: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", order_by="UserRole.role")

    @property
    def roles(self) -> tuple[str, ...]:
        """The primary role first, then the others alphabetically."""
        return (self.role, *sorted(r.role for r in self.held if r.role != self.role))


class UserRole(Base):
    """One role a user holds: a chief officer may also own benefits."""

    __tablename__ = "user_roles"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(40), primary_key=True)


class Board(Base):
    __tablename__ = "boards"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    partner: Mapped[str] = mapped_column(String(200))
    meets: Mapped[str] = mapped_column(String(500))
    anchor: Mapped[date] = mapped_column(Date)
    secretary_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    meets_at: Mapped[str | None] = mapped_column(String(5))  # HH:MM, London; None: the rule's time (10:00 unless BYHOUR)
    location: Mapped[str | None] = mapped_column(Text)
    retired_on: Mapped[date | None] = mapped_column(Date)  # a retired board meets no more and takes no benefits
    retired_reason: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(String(40))  # one of the definitions' board types, if given
    secretary: Mapped[User] = relationship(lazy="joined")


class MeetingChange(Base):
    """One meeting of a board's schedule (`meeting`, the occurrence's own date) moved or cancelled; `sequence`
    counts the changes, for the iCalendar update that carries each."""

    __tablename__ = "meeting_changes"
    __table_args__ = (UniqueConstraint("board_id", "meeting"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    meeting: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # moved | cancelled
    moved_to: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(Integer)
    changed_on: Mapped[date] = mapped_column(Date)


class DefinitionVersion(Base):
    """The exact text of every definition version a collaboration was started on."""

    __tablename__ = "definition_versions"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)


class Collaboration(Base):
    __tablename__ = "collaborations"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    objective: Mapped[str | None] = mapped_column(Text)
    public_benefit: Mapped[str | None] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(20))
    manager_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    definition_name: Mapped[str] = mapped_column(String(120))
    definition_version: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(60), index=True)
    held_from: Mapped[str | None] = mapped_column(String(60))
    stage_since: Mapped[date] = mapped_column(Date)
    created_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    pir_due: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)

    manager: Mapped[User] = relationship(lazy="joined")
    partners: Mapped[list[Partner]] = relationship(order_by="Partner.id", back_populates="collaboration")
    benefits: Mapped[list[Benefit]] = relationship(order_by="Benefit.id", back_populates="collaboration")

    # Optimistic locking: every UPDATE says WHERE version = <as read>; the service bumps it once per event.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}


class Partner(Base):
    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("collaboration_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    risk_appetite: Mapped[str | None] = mapped_column(String(20))
    cost_share: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    collaboration: Mapped[Collaboration] = relationship(back_populates="partners")


# Names people type are unique whatever their case (migration 0007; the engine checks first and names the clash).
Index("uq_users_name_nocase", func.lower(User.name), unique=True)
Index("uq_collaborations_key_nocase", func.lower(Collaboration.key), unique=True)
Index("uq_partners_name_nocase", Partner.collaboration_id, func.lower(Partner.name), unique=True)


class Artefact(Base):
    __tablename__ = "artefacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    ref: Mapped[str] = mapped_column(Text)
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sha256: Mapped[str | None] = mapped_column(String(64))  # of the document named, when known (migration 0011)


class Approval(Base):
    __tablename__ = "approvals"
    __table_args__ = (UniqueConstraint("collaboration_id", "gate", "partner", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"))
    gate: Mapped[str] = mapped_column(String(60))
    partner: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_on: Mapped[date] = mapped_column(Date)
    digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of `facts`, the facts approved
    facts: Mapped[str | None] = mapped_column(Text)  # canonical JSON of what the gate checked then
    signed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Benefit(Base):
    __tablename__ = "benefits"
    __table_args__ = (UniqueConstraint("collaboration_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(20))
    dis_benefit: Mapped[bool] = mapped_column(Boolean, default=False)
    measure: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(40), default="")
    baseline: Mapped[float | None] = mapped_column(Float)
    target: Mapped[float | None] = mapped_column(Float)
    target_date: Mapped[date | None] = mapped_column(Date)
    start_on: Mapped[date] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"), index=True)
    retired_on: Mapped[date | None] = mapped_column(Date)
    retired_reason: Mapped[str | None] = mapped_column(Text)
    retired_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    collaboration: Mapped[Collaboration] = relationship(back_populates="benefits")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id], lazy="joined")
    board: Mapped[Board | None] = relationship(lazy="joined")


class BenefitReview(Base):
    """A board's outcome of its review of one benefit at one meeting, with any evidence (a dated note and its source)."""

    __tablename__ = "benefit_reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"))
    meeting: Mapped[date] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(20))  # noted | concern | action
    note: Mapped[str] = mapped_column(Text)
    evidence_source: Mapped[str | None] = mapped_column(Text)
    evidence_on: Mapped[date | None] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_on: Mapped[date] = mapped_column(Date)


class BenefitBoard(Base):
    """A further board reviewing a benefit, besides its own (benefits.board_id): it owes reviews from `since`."""

    __tablename__ = "benefit_boards"
    __table_args__ = (UniqueConstraint("benefit_id", "board_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id"), index=True)
    since: Mapped[date] = mapped_column(Date)


class PlanPoint(Base):
    __tablename__ = "plan_points"
    __table_args__ = (UniqueConstraint("benefit_id", "on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"))
    on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)


class Measurement(Base):
    __tablename__ = "measurements"
    __table_args__ = (Index("ix_measurements_benefit_on", "benefit_id", "on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"))
    on: Mapped[date] = mapped_column(Date)
    value: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # A voided figure stays, marked: who voided it, when and why (its `measurement-voided` event says the same).
    voided_on: Mapped[date | None] = mapped_column(Date)
    voided_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Handover(Base):
    """A proposal to hand a benefit to a business area; the newest row per benefit is current."""

    __tablename__ = "handovers"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"), index=True)
    business_area: Mapped[str] = mapped_column(String(200))
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    board_id: Mapped[int | None] = mapped_column(ForeignKey("boards.id"))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_on: Mapped[date] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)

    to_user: Mapped[User] = relationship(lazy="joined")
    board: Mapped[Board | None] = relationship(lazy="joined")


class Objective(Base):
    """One of a collaboration's objectives: the root of its benefits logic map."""

    __tablename__ = "objectives"
    __table_args__ = (UniqueConstraint("collaboration_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    added_on: Mapped[date] = mapped_column(Date)


class BenefitLink(Base):
    """An edge of the logic map from a benefit: to an objective it serves (`objective`), a benefit it contributes
    to (`contributes-to`), or, for a dis-benefit, the benefit that causes it (`caused-by`)."""

    __tablename__ = "benefit_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    benefit_id: Mapped[int] = mapped_column(ForeignKey("benefits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("objectives.id"))
    target_id: Mapped[int | None] = mapped_column(ForeignKey("benefits.id"), index=True)


class Cost(Base):
    """One partner's one-off and recurring cost of a category in a financial year (pounds, to the penny)."""

    __tablename__ = "costs"
    __table_args__ = (UniqueConstraint("collaboration_id", "partner", "year", "category"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"))
    partner: Mapped[str] = mapped_column(String(200))
    year: Mapped[str] = mapped_column(String(7))
    category: Mapped[str] = mapped_column(String(20))
    one_off: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    recurring: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class Lesson(Base):
    __tablename__ = "lessons"
    id: Mapped[int] = mapped_column(primary_key=True)
    collaboration_id: Mapped[int] = mapped_column(ForeignKey("collaborations.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    theme: Mapped[str | None] = mapped_column(String(200))
    recorded_on: Mapped[date] = mapped_column(Date)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Event(Base):
    """One entry of the append-only, hash-chained history (triggers refuse UPDATE and DELETE).

    `format` says how the hash was computed (docs/audit-format.md): 1 for events written before
    revision 0003, 2 since. `collab_prev` links a collaboration's events into a chain of their own.
    """

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_collaboration_seq", "collaboration", "seq"),)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    format: Mapped[int] = mapped_column(Integer, server_default="1")
    collaboration: Mapped[str | None] = mapped_column(String(60))
    collab_prev: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[str] = mapped_column(String(40))
    effective_on: Mapped[str] = mapped_column(String(10))
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    from_stage: Mapped[str | None] = mapped_column(String(60))
    to_stage: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The newest event's seq and hash: the row every writer locks, and what verify checks the tail against."""

    __tablename__ = "chain_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class UserKey(Base):
    """A public Ed25519 key a user registered (`collab key new`); its `key-registered` event is in the history."""

    __tablename__ = "user_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(String(120), index=True)
    public_key: Mapped[str] = mapped_column(String(64), unique=True)  # the 32 raw bytes, base64
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the raw bytes, hex
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """The delivery log: one row per reminder occurrence, claimed before it is sent and marked once it is.

    `key` is the occurrence's idempotency key (kind, collaboration, benefit or meeting, date,
    recipient); its unique constraint is what makes each occurrence go out once.
    See workflow/delivery.py for the claim protocol.
    """

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    collaboration: Mapped[str | None] = mapped_column(String(60), index=True)
    recipient: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    state: Mapped[str] = mapped_column(String(20))  # "claimed" until the channel accepted it, then "sent"
    token: Mapped[str | None] = mapped_column(String(40))  # the current claim; NULL = free to claim again
    claimer: Mapped[str | None] = mapped_column(String(300))  # host:pid of the process holding the claim
    attempts: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)


class Account(Base):
    """A registered user's local web login: an argon2 password hash (never the password). Not domain state:
    the history records that a password was set, never what it is."""

    __tablename__ = "accounts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A server-side login session; the browser holds the random id, the table only its SHA-256."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A personal API token (Authorization: Bearer); the table holds only its SHA-256."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
