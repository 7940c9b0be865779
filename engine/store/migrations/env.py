"""Alembic runs migrations on the connection Tramita hands it (see Database.upgrade)."""

from alembic import context

from engine.store.models import Base
import engine.store.accounts  # noqa: F401  (the web's tables, so autogenerate sees them)
import engine.store.settings  # noqa: F401
import engine.store.drafts  # noqa: F401  (the studio's drafts)
import engine.store.calendar_drafts  # noqa: F401  (calendar drafts and their recounts)

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
