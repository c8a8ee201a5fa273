"""Alembic's entry: migrations run on the connection portal/migrate.py hands over (no alembic.ini, no URL here)."""

from alembic import context

from tongji.portal.db import Base

# render_as_batch: SQLite cannot alter a column in place, so a change there copies the table (Alembic's batch mode)
context.configure(connection=context.config.attributes["connection"], target_metadata=Base.metadata,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
