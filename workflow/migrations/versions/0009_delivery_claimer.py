"""The delivery log names the process holding a claim (host:pid), so that a dead one's claim is taken over at once.

Revision ID: 0009
Revises: 0008
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('deliveries', sa.Column('claimer', sa.String(300), nullable=True))


def downgrade() -> None:
    op.drop_column('deliveries', 'claimer')
