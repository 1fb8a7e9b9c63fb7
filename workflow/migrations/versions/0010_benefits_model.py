"""The benefits model: objectives, the logic map's links between benefits and objectives, and costs per partner,
financial year and category.

Revision ID: 0010
Revises: 0009
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collaboration_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('added_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['collaboration_id'], ['collaborations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collaboration_id', 'code')
    )
    op.create_table('benefit_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('benefit_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('objective_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['benefit_id'], ['benefits.id'], ),
    sa.ForeignKeyConstraint(['objective_id'], ['objectives.id'], ),
    sa.ForeignKeyConstraint(['target_id'], ['benefits.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_benefit_links_benefit_id', 'benefit_links', ['benefit_id'])
    op.create_index('ix_benefit_links_target_id', 'benefit_links', ['target_id'])
    op.create_table('costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collaboration_id', sa.Integer(), nullable=False),
    sa.Column('partner', sa.String(length=200), nullable=False),
    sa.Column('year', sa.String(length=7), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('one_off', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('recurring', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['collaboration_id'], ['collaborations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('collaboration_id', 'partner', 'year', 'category')
    )


def downgrade() -> None:
    op.drop_table('costs')
    op.drop_index('ix_benefit_links_target_id', 'benefit_links')
    op.drop_index('ix_benefit_links_benefit_id', 'benefit_links')
    op.drop_table('benefit_links')
    op.drop_table('objectives')
