"""Approvals bound to what they approve: the facts the gate checked when the approval was given.

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Approvals given before this revision bind nothing (NULL): they never show as a variation.
    op.add_column('approvals', sa.Column('digest', sa.String(length=64), nullable=True))
    op.add_column('approvals', sa.Column('facts', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('approvals') as batch:
        batch.drop_column('facts')
        batch.drop_column('digest')
