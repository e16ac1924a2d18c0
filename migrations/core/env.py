"""Alembic environment of the core tree: the tenant registry, in the default schema."""

from alembic import context

from migrations.rendering import render_item
from models.base import CoreBase
from models.tables import tenancy  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=CoreBase.metadata,
    render_item=render_item,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
