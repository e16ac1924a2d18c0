"""Alembic environment of the tenant tree, run once per tenant.

On PostgreSQL the runner names the tenant's schema: it is put on the `search_path` of this
one unpooled connection, so the versions are written without any schema and land in the
tenant's. On SQLite the connection is already the tenant's own database file.
"""

from alembic import context
from sqlalchemy import MetaData

import models.tables  # noqa: F401  (registers every table)
from migrations.rendering import render_item
from migrations.sqlite import check_foreign_keys, foreign_keys_off
from models.base import NAMING, TenantBase

config = context.config
connection = config.attributes["connection"]
schema: str | None = config.attributes.get("tenant_schema")
is_sqlite = connection.dialect.name == "sqlite"
if is_sqlite:
    foreign_keys_off(connection)

# Autogenerate compares against the tables as they are without the placeholder schema.
unschemed = MetaData(naming_convention=NAMING)
for table in TenantBase.metadata.sorted_tables:
    # None (not RETAIN_SCHEMA) drops the placeholder; the stubs only admit a name.
    table.to_metadata(unschemed, schema=None)  # type: ignore[arg-type]

if schema is not None:
    # The slug passed check_slug() before it got here; quoting keeps it an identifier.
    connection.exec_driver_sql(f'SET search_path TO "{schema}"')

context.configure(
    connection=connection,
    target_metadata=unschemed,
    version_table_schema=schema,
    render_item=render_item,
    render_as_batch=is_sqlite,
)
with context.begin_transaction():
    context.run_migrations()
    if is_sqlite:
        check_foreign_keys(connection)
