"""Upgrades the core registry and tenant schemas, and provisions new tenants."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from models.tenancy import (
    Databases,
    Tenant,
    check_slug,
    list_tenants,
    make_engine,
    register_tenant,
)

TREES = Path(__file__).parent


def alembic_config(tree: str, **attributes: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(TREES / tree))
    config.attributes.update(attributes)
    return config


def _upgrade(connection: Connection, tree: str, schema: str | None) -> None:
    command.upgrade(alembic_config(tree, connection=connection, tenant_schema=schema), "head")


async def upgrade_core(url: str | URL) -> None:
    engine = make_engine(url, pooled=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, "core", None)
    finally:
        await engine.dispose()


async def upgrade_tenant(databases: Databases, slug: str) -> None:
    """Create the tenant's schema (or file) if needed and bring it to the newest version."""
    check_slug(slug)
    # NullPool: the search_path the tenant env sets dies with this connection.
    engine = make_engine(databases.tenant_url(slug), pooled=False)
    try:
        async with engine.begin() as connection:
            schema = None
            if not databases.is_sqlite:
                schema = slug
                await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{slug}"'))
            await connection.run_sync(_upgrade, "tenant", schema)
    finally:
        await engine.dispose()


async def drop_tenant_storage(databases: Databases, slug: str) -> None:
    check_slug(slug)
    if databases.is_sqlite:
        path = databases.tenant_url(slug).database or ""
        for suffix in ("", "-wal", "-shm"):
            await asyncio.to_thread(Path(path + suffix).unlink, missing_ok=True)
        return
    async with databases.core_engine.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA IF EXISTS "{slug}" CASCADE'))


def _create_file_exclusive(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # An empty file is a valid, empty SQLite database.
    with path.open("xb"):
        pass


async def create_tenant_storage(databases: Databases, slug: str) -> bool:
    """Create the tenant's empty schema (or file); False when it already existed.

    Atomic on both backends, so of two concurrent provisionings only one owns the storage.
    """
    check_slug(slug)
    if databases.is_sqlite:
        path = Path(databases.tenant_url(slug).database or "")
        try:
            await asyncio.to_thread(_create_file_exclusive, path)
        except FileExistsError:
            return False
        return True
    try:
        async with databases.core_engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{slug}"'))
    except DBAPIError:
        async with databases.core_engine.connect() as connection:
            found = await connection.scalar(
                text("SELECT 1 FROM pg_namespace WHERE nspname = :slug"), {"slug": slug}
            )
        if found is None:
            raise
        return False
    return True


async def provision_tenant(
    url: str, *, slug: str, name: str | None = None, domains: list[str] | None = None
) -> Tenant:
    """Migrate the new tenant's tables first, then register it: never a half-made tenant."""
    await upgrade_core(url)
    databases = Databases.connect(url)
    try:
        async with databases.core_sessions()() as session:
            # Validate (slug, domains, uniqueness) before creating anything.
            await register_tenant(session, slug=slug, name=name, domains=domains)
            await session.rollback()
        # A schema or file that was there before (another app's, or a concurrent
        # provisioning's) is never ours to drop, whatever goes wrong below.
        created = await create_tenant_storage(databases, slug)
        try:
            await upgrade_tenant(databases, slug)
            async with databases.core_sessions().begin() as session:
                tenant = await register_tenant(session, slug=slug, name=name, domains=domains)
        except BaseException:
            if created:
                await drop_tenant_storage(databases, slug)
            raise
        return tenant
    finally:
        await databases.dispose()


async def migrate_all(url: str) -> list[str]:
    """Upgrade the core tree, then every registered tenant; returns the tenants upgraded."""
    await upgrade_core(url)
    databases = Databases.connect(url)
    try:
        async with databases.core_sessions()() as session:
            slugs = [tenant.slug for tenant, _ in await list_tenants(session)]
        for slug in slugs:
            await upgrade_tenant(databases, slug)
        return slugs
    finally:
        await databases.dispose()
