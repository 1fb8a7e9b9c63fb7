"""A person may hold more than one role: `user_roles` lists every role of a user, the primary (`users.role`) among
them, which it starts from.

Revision ID: 0013
Revises: 0012
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'role')
    )
    op.execute("INSERT INTO user_roles (user_id, role) SELECT id, role FROM users")


def downgrade() -> None:
    op.drop_table('user_roles')
