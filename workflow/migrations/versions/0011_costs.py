"""Artefacts may carry the SHA-256 of the document they name, so a report proves which version was approved.

(The costs table itself came with 0010; the cost model's figures are written by `cost-set` events.)

Revision ID: 0011
Revises: 0010
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('artefacts') as batch:
        batch.add_column(sa.Column('sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('artefacts') as batch:
        batch.drop_column('sha256')
