"""Board changes: a board's meeting time, location and retirement; one meeting moved or cancelled; a board's
review outcome per benefit (with any evidence).

Revision ID: 0012
Revises: 0011
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('boards') as batch:
        batch.add_column(sa.Column('meets_at', sa.String(length=5), nullable=True))
        batch.add_column(sa.Column('location', sa.Text(), nullable=True))
        batch.add_column(sa.Column('retired_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('retired_reason', sa.Text(), nullable=True))
    op.create_table('meeting_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('meeting', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('moved_to', sa.Date(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('board_id', 'meeting')
    )
    op.create_table('benefit_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benefit_id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('meeting', sa.Date(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_source', sa.Text(), nullable=True),
    sa.Column('evidence_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefits.id'], ),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], ),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_benefit_reviews_benefit_id', 'benefit_reviews', ['benefit_id'])


def downgrade() -> None:
    op.drop_index('ix_benefit_reviews_benefit_id', table_name='benefit_reviews')
    op.drop_table('benefit_reviews')
    op.drop_table('meeting_changes')
    with op.batch_alter_table('boards') as batch:
        batch.drop_column('retired_reason')
        batch.drop_column('retired_on')
        batch.drop_column('location')
        batch.drop_column('meets_at')
