"""The Alembic trees and the table definitions agree: nothing is left for autogenerate."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from models.base import NAMING, CoreBase, TenantBase
from models.tenancy import Databases, make_engine


def _unschemed() -> MetaData:
    metadata = MetaData(naming_convention=NAMING)
    for table in TenantBase.metadata.sorted_tables:
        table.to_metadata(metadata, schema=None)
    return metadata


def _diff(connection, metadata, schema=None):
    if schema:
        connection.exec_driver_sql(f'SET search_path TO "{schema}"')
    context = MigrationContext.configure(connection)
    # Alembic's own bookkeeping table is not part of the models.
    return [d for d in compare_metadata(context, metadata) if "alembic_version" not in repr(d)]


async def test_tenant_migrations_match_the_tables(database_url, backend):
    databases = Databases.connect(database_url)
    engine = make_engine(databases.tenant_url("acme"), pooled=False)
    try:
        async with engine.connect() as connection:
            schema = None if backend == "sqlite" else "acme"
            diff = await connection.run_sync(_diff, _unschemed(), schema)
    finally:
        await engine.dispose()
        await databases.dispose()
    assert diff == []


async def test_core_migrations_match_the_registry_tables(database_url):
    engine = make_engine(database_url, pooled=False)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff, CoreBase.metadata)
    finally:
        await engine.dispose()
    assert diff == []


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_every_tenant_table_is_in_the_placeholder_schema(backend):
    assert {table.schema for table in TenantBase.metadata.sorted_tables} == {"tenant"}
