"""A user may be mapped to a PostgreSQL login; an approval records whether it was signed.

`users.login` is the database login (role) a person connects as on a shared PostgreSQL
database: connected as it, only that person can act. `approvals.signed` lets a gate whose
definition requires signed approvals tell them apart without reading the history. Approvals
recorded before this revision are marked from their events (a signature in the payload).

Revision ID: 0006
Revises: 0005
"""

import json

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('login', sa.String(63), nullable=True))
    op.create_index('ix_users_login', 'users', ['login'], unique=True)
    op.add_column('approvals', sa.Column('signed', sa.Boolean(), nullable=False, server_default=sa.false()))
    # Approvals signed before this revision: their `approved` event carries a signature. The newest event
    # of each (collaboration, gate, partner, role) is the one the row reflects.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT e.collaboration, e.payload FROM events e WHERE e.action = 'approved' ORDER BY e.seq")).all()
    signed: dict[tuple[str, str, str, str], bool] = {}
    for key, payload in rows:
        facts = json.loads(payload)
        signed[(key, facts["gate"], facts["partner"], facts["role"])] = "signature" in facts
    for (key, gate, partner, role), is_signed in signed.items():
        if is_signed:
            connection.execute(sa.text(
                "UPDATE approvals SET signed = :yes WHERE gate = :gate AND partner = :partner AND role = :role "
                "AND collaboration_id = (SELECT id FROM collaborations WHERE key = :key)"),
                {"yes": True, "gate": gate, "partner": partner, "role": role, "key": key})


def downgrade() -> None:
    op.drop_column('approvals', 'signed')
    op.drop_index('ix_users_login', 'users')
    op.drop_column('users', 'login')
