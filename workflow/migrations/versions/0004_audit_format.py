"""Audit format 2: events carry their format and a per-collaboration link; users register signing keys.

Existing events become format 1 and keep their hashes; new ones are written in format 2
(docs/audit-format.md). Columns are added with plain ALTER TABLE, never by recreating the
table, so the triggers that refuse UPDATE and DELETE on events stay in place.

Revision ID: 0004
Revises: 0003
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('events', sa.Column('format', sa.Integer(), server_default='1', nullable=False))
    op.add_column('events', sa.Column('collab_prev', sa.String(length=64), nullable=True))
    op.drop_index('ix_events_collaboration', table_name='events')
    op.create_index('ix_events_collaboration_seq', 'events', ['collaboration', 'seq'], unique=False)
    op.create_table('user_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_name', sa.String(length=120), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('fingerprint'),
    sa.UniqueConstraint('public_key')
    )
    op.create_index('ix_user_keys_user_name', 'user_keys', ['user_name'], unique=False)


def downgrade() -> None:
    """Only while no event was written in format 2: format 1 cannot express their hashes."""
    if op.get_bind().execute(sa.text("SELECT count(*) FROM events WHERE format <> 1")).scalar():
        raise RuntimeError("events in audit format 2 exist; revision 0002 cannot hold them")
    op.drop_index('ix_user_keys_user_name', table_name='user_keys')
    op.drop_table('user_keys')
    op.drop_index('ix_events_collaboration_seq', table_name='events')
    op.create_index('ix_events_collaboration', 'events', ['collaboration'], unique=False)
    op.drop_column('events', 'collab_prev')
    op.drop_column('events', 'format')
