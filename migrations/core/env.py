"""Alembic environment of the core tree: the tenant registry, in the default schema."""

from alembic import context

from migrations.rendering import render_item
from migrations.sqlite import check_foreign_keys, foreign_keys_off
from models.base import CoreBase
from models.tables import tenancy  # noqa: F401  (registers the tables)

connection = context.config.attributes["connection"]
is_sqlite = connection.dialect.name == "sqlite"
if is_sqlite:
    foreign_keys_off(connection)
context.configure(
    connection=connection,
    target_metadata=CoreBase.metadata,
    render_item=render_item,
    render_as_batch=is_sqlite,
)
with context.begin_transaction():
    context.run_migrations()
    if is_sqlite:
        check_foreign_keys(connection)
