"""Corrections as events: a measurement can be voided (who, when, why; the figure stays), and keys, user
names and partner names are unique whatever their case.

The case-insensitive unique indexes back the engine's own check against two concurrent writers. A database
that already holds names differing only in case (`errp` beside `ERRP`) keeps them and goes without that
index: the engine still refuses any new such name, and the older one can be withdrawn or corrected.

Revision ID: 0008
Revises: 0007
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# index name, table, the columns that must be unique, lower-cased where they are names
CASE_INSENSITIVE = (
    ('uq_collaborations_key_nocase', 'collaborations', ('lower(key)',)),
    ('uq_users_name_nocase', 'users', ('lower(name)',)),
    ('uq_partners_name_nocase', 'partners', ('collaboration_id', 'lower(name)')),
)


def upgrade() -> None:
    with op.batch_alter_table('measurements') as batch:
        batch.add_column(sa.Column('voided_on', sa.Date(), nullable=True))
        batch.add_column(sa.Column('voided_reason', sa.Text(), nullable=True))
        batch.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_measurements_voided_by_id_users', 'users', ['voided_by_id'], ['id'])
    connection = op.get_bind()
    for name, table, columns in CASE_INSENSITIVE:
        listed = ', '.join(columns)
        clashes = connection.execute(sa.text(
            f'SELECT 1 FROM {table} GROUP BY {listed} HAVING count(*) > 1 LIMIT 1')).first()
        if clashes is None:
            op.create_index(name, table, [sa.text(c) for c in columns], unique=True)


def downgrade() -> None:
    for name, table, _ in CASE_INSENSITIVE:
        op.execute(f'DROP INDEX IF EXISTS {name}')
    with op.batch_alter_table('measurements') as batch:
        batch.drop_column('voided_by_id')
        batch.drop_column('voided_reason')
        batch.drop_column('voided_on')
