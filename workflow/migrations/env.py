"""Alembic environment: collab passes its own connection; no alembic.ini is needed."""

from alembic import context

from workflow.model import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
