"""Tenants: the registry in the core schema, and sessions bound to one tenant's tables.

PostgreSQL keeps one schema per tenant and one engine for all of them; each tenant's sessions
translate the placeholder schema to the tenant's own (`schema_translate_map`), so no
`search_path` ever rides on a pooled connection. SQLite keeps one database file per tenant.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.engine import URL, ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool

from models.base import TENANT_SCHEMA, CoreBase, UTCDateTime, utcnow
from models.errors import ValidationFailed
from models.fair_pool import FirstComePool
from models.outage import connection_lost
from models.read_only import read_only_bind

# Always used with fullmatch: `$` alone would also accept a trailing newline.
SLUG_RE = re.compile(r"[a-z][a-z0-9_]{1,40}")
# Schema names PostgreSQL or this service already use; a tenant may never take one.
RESERVED_SLUGS = frozenset({"public", "information_schema", "tenant", "core"})
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


class Tenant(CoreBase):
    __tablename__ = "tenants"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(41), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TenantDomain(CoreBase):
    __tablename__ = "tenant_domains"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    domain: Mapped[str] = mapped_column(String(253), unique=True)


def check_slug(slug: str) -> str:
    """A slug reaches SQL (as a schema name) and file paths only after passing this."""
    if not SLUG_RE.fullmatch(slug) or slug in RESERVED_SLUGS or slug.startswith("pg_"):
        raise ValidationFailed.field(
            "slug",
            "Enter a slug of 2 to 41 lowercase letters, digits or underscores, "
            "starting with a letter (not a reserved name).",
        )
    return slug


def normalize_domain(domain: str) -> str:
    """Lowercase, without port; the Host header's port is ignored when matching."""
    host = domain.strip().lower()
    if host.startswith("["):  # IPv6 literal
        return host.split("]")[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    # The root's empty label: "acme.test." is acme.test, and must select (and be checked
    # against) the same tenant. Only one dot goes: "acme.test.." names nothing.
    return host.removesuffix(".")


def check_domain(domain: str) -> str:
    host = normalize_domain(domain)
    if not DOMAIN_RE.match(host):
        raise ValidationFailed.field("domain", f"Enter a valid domain name, not {domain!r}.")
    return host


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def make_engine(
    url: str | URL, *, pooled: bool = True, pool_size: int = 20, max_overflow: int = 0
) -> AsyncEngine:
    """An engine with the settings this service relies on, for either backend."""
    url = make_url(url)
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:":
            raise ValueError("SQLite needs a database file: one file per tenant sits beside it")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, poolclass=None if pooled else NullPool
        )
        _configure_sqlite(engine)
        return engine
    if not pooled:
        return create_async_engine(url, poolclass=NullPool)
    # Connections beyond the pool are opened and closed again under load (each a new
    # PostgreSQL backend): by default a request waits for a pooled one instead.
    engine = create_async_engine(
        url,
        poolclass=FirstComePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
    )
    _replace_closed_connections(engine)
    return engine


def _replace_closed_connections(engine: AsyncEngine) -> None:
    """A pooled connection the server ended while it sat idle is swapped for a new one.

    A PostgreSQL restart, failover or `pg_terminate_backend` closes the socket of every idle
    connection; asyncpg notices and marks the connection closed, so checking that flag at
    checkout costs no round trip. `pool_pre_ping` costs three per request (BEGIN, a ping,
    ROLLBACK: it runs before a read's autocommit applies), nearly doubling a short read.
    A connection that dies under a statement is the caller's to handle (models/outage.py).
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        driver = record.driver_connection
        if driver is not None and driver.is_closed():
            raise DisconnectionError("connection closed by the server while pooled")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # SQLAlchemy's own test misses a connection whose socket has not closed yet (the
        # server's farewell came first): invalidated all the same, never pooled again.
        if not context.is_disconnect and connection_lost(context.original_exception):
            context.is_disconnect = True


@dataclass
class Databases:
    """The core engine and, per tenant, a session factory bound to the tenant's tables."""

    url: URL
    core_engine: AsyncEngine
    _tenant_engines: dict[str, AsyncEngine]
    _tenant_sessions: dict[tuple[str, bool], async_sessionmaker[AsyncSession]]
    _tenant_binds: dict[str, AsyncEngine] = field(default_factory=dict)
    _single_statement_binds: dict[str, AsyncEngine] = field(default_factory=dict)

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 20, max_overflow: int = 0) -> Databases:
        parsed = make_url(url)
        engine = make_engine(parsed, pool_size=pool_size, max_overflow=max_overflow)
        return cls(parsed, engine, {}, {})

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    def core_sessions(self) -> async_sessionmaker[AsyncSession]:
        return async_sessionmaker(self.core_engine, expire_on_commit=False)

    def tenant_url(self, slug: str) -> URL:
        """Where a tenant's tables live: the shared database, or its own SQLite file."""
        check_slug(slug)
        if not self.is_sqlite:
            return self.url
        core_file = Path(self.url.database or "")
        folder = core_file.with_name(core_file.stem + "-tenants")
        return self.url.set(database=str(folder / f"{slug}.db"))

    def tenant_sessions(
        self, slug: str, *, read_only: bool = False
    ) -> async_sessionmaker[AsyncSession]:
        """Sessions on the tenant's tables; `read_only` for reads that need no transaction.

        A read-only session sends its queries alone, in autocommit: no BEGIN and no COMMIT,
        two round trips fewer, as Django's autocommit does for the same reads. A statement
        that writes is refused there (models/read_only.py).
        """
        factory = self._tenant_sessions.get((slug, read_only))
        if factory is None:
            bound = self._tenant_bind(slug)
            if read_only:
                # Derived from the tenant's bind: its event listeners (tests count queries
                # there) hear both kinds of session.
                bound = read_only_bind(bound)
            factory = async_sessionmaker(bound, expire_on_commit=False)
            self._tenant_sessions[(slug, read_only)] = factory
        return factory

    def tenant_reads(self, slug: str) -> AsyncEngine:
        """The engine of the tenant's autocommit sessions, for a hot read that needs no session
        (the course list): the same schema translation, pool and listeners."""
        bind: AsyncEngine = self.tenant_sessions(slug, read_only=True).kw["bind"]
        return bind

    def tenant_single_statements(self, slug: str) -> AsyncEngine:
        """The tenant's bind in autocommit, for a write that is one statement (atomic by
        itself, so it needs no BEGIN and no COMMIT: `models/effects.py: write_records_alone`)."""
        engine = self._single_statement_binds.get(slug)
        if engine is None:
            engine = self._tenant_bind(slug).execution_options(isolation_level="AUTOCOMMIT")
            self._single_statement_binds[slug] = engine
        return engine

    def _tenant_bind(self, slug: str) -> AsyncEngine:
        bind = self._tenant_binds.get(slug)
        if bind is None:
            if self.is_sqlite:
                engine = make_engine(self.tenant_url(slug))
                self._tenant_engines[slug] = engine
                bind = engine.execution_options(schema_translate_map={TENANT_SCHEMA: None})
            else:
                check_slug(slug)
                bind = self.core_engine.execution_options(
                    schema_translate_map={TENANT_SCHEMA: slug}
                )
            self._tenant_binds[slug] = bind
        return bind

    async def dispose(self) -> None:
        for engine in self._tenant_engines.values():
            await engine.dispose()
        await self.core_engine.dispose()
        self._tenant_engines.clear()
        self._tenant_sessions.clear()
        self._tenant_binds.clear()


async def list_tenants(session: AsyncSession) -> list[tuple[Tenant, list[str]]]:
    tenants = (await session.scalars(select(Tenant).order_by(Tenant.slug))).all()
    rows = (await session.execute(select(TenantDomain.tenant_id, TenantDomain.domain))).all()
    domains: dict[int, list[str]] = {}
    for tenant_id, domain in rows:
        domains.setdefault(tenant_id, []).append(domain)
    return [(t, sorted(domains.get(t.id, []))) for t in tenants]


async def register_tenant(
    session: AsyncSession, *, slug: str, name: str | None = None, domains: list[str] | None = None
) -> Tenant:
    """Add a tenant row and its domains; the caller provisions its tables."""
    check_slug(slug)
    clean_domains = [check_domain(d) for d in domains or []]
    if await session.scalar(select(Tenant.id).where(Tenant.slug == slug)) is not None:
        raise ValidationFailed.field("slug", f"Tenant {slug!r} already exists.")
    taken = (
        await session.scalars(
            select(TenantDomain.domain).where(TenantDomain.domain.in_(clean_domains))
        )
    ).all()
    if taken:
        raise ValidationFailed.field("domain", f"Domain already in use: {', '.join(taken)}.")
    tenant = Tenant(slug=slug, name=name or slug)
    session.add(tenant)
    await session.flush()
    session.add_all(TenantDomain(tenant_id=tenant.id, domain=d) for d in clean_domains)
    await session.flush()
    return tenant


class TenantDirectory:
    """Which tenants exist and which domain names which: cached, reloaded on a miss.

    Reloading on a miss is what lets a tenant created by `lms tenant create` in another
    process be served at once, without a restart.
    """

    # Hosts that name no tenant (an IP, localhost) are common: look them up again at most
    # this often, so they cannot turn every request into a registry query.
    HOST_MISS_SECONDS = 1.0

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._slugs: frozenset[str] = frozenset()
        self._domains: dict[str, str] = {}
        self._host_misses: dict[str, float] = {}
        self._reloading: asyncio.Task[None] | None = None

    async def reload(self) -> None:
        """Read the registry again; callers arriving meanwhile share the one read."""
        task = self._reloading
        if task is None:
            task = self._reloading = asyncio.create_task(self._load())
            task.add_done_callback(self._reloaded)
        # Shielded: one caller giving up (a client gone) must not cancel the others' read.
        await asyncio.shield(task)

    def _reloaded(self, task: asyncio.Task[None]) -> None:
        if self._reloading is task:
            self._reloading = None

    async def _load(self) -> None:
        async with self._sessions() as session:
            slugs = (await session.scalars(select(Tenant.slug))).all()
            rows = (
                await session.execute(
                    select(TenantDomain.domain, Tenant.slug).join(
                        Tenant, Tenant.id == TenantDomain.tenant_id
                    )
                )
            ).all()
        self._slugs = frozenset(slugs)
        self._domains = {domain: slug for domain, slug in rows}

    def known_tenant_for_host(self, host: str) -> tuple[bool, str | None]:
        """(True, the tenant or None) when the answer needs no registry read, else (False, None)."""
        return self._known(normalize_domain(host))

    def _known(self, domain: str) -> tuple[bool, str | None]:
        if domain in self._domains:
            return True, self._domains[domain]
        missed_at = self._host_misses.get(domain)
        if missed_at is not None and time.monotonic() - missed_at < self.HOST_MISS_SECONDS:
            return True, None
        return False, None

    async def tenant_for_host(self, host: str) -> str | None:
        domain = normalize_domain(host)
        known, tenant = self._known(domain)
        if known:
            return tenant
        now = time.monotonic()
        await self.reload()
        if domain not in self._domains:
            if len(self._host_misses) > 10_000:
                self._host_misses.clear()
            self._host_misses[domain] = now
        return self._domains.get(domain)

    async def exists(self, slug: str) -> bool:
        if slug in self._slugs:
            return True
        await self.reload()
        return slug in self._slugs
