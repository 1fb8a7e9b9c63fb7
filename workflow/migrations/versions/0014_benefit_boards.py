"""Several boards per benefit: the further boards reviewing a benefit besides its own, each from a day; and
each board's type (a name from the definitions' `boards: types`, e.g. resource-control), none for existing boards.

A benefit's own board stays in benefits.board_id (the profile its gate approves, whose secretary may record
figures); existing benefits have no further boards, so no rows move.

Revision ID: 0014
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('boards') as batch_op:
        batch_op.add_column(sa.Column('type', sa.String(length=40), nullable=True))
    op.create_table('benefit_boards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benefit_id', sa.Integer(), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('since', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefits.id'], ),
    sa.ForeignKeyConstraint(['board_id'], ['boards.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('benefit_id', 'board_id')
    )
    op.create_index('ix_benefit_boards_benefit_id', 'benefit_boards', ['benefit_id'])
    op.create_index('ix_benefit_boards_board_id', 'benefit_boards', ['board_id'])


def downgrade() -> None:
    op.drop_index('ix_benefit_boards_board_id', 'benefit_boards')
    op.drop_index('ix_benefit_boards_benefit_id', 'benefit_boards')
    op.drop_table('benefit_boards')
    with op.batch_alter_table('boards') as batch_op:
        batch_op.drop_column('type')
