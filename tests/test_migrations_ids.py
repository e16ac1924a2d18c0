"""Ids are never handed out twice: every integer-id table is declared and created with
AUTOINCREMENT on SQLite, and a tenant made before that is converted, rows and all."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, Table, delete, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from migrations.runner import alembic_config, create_tenant_storage, drop_tenant_storage
from models.base import NAMING, CoreBase, TenantBase
from models.tenancy import Databases, make_engine
from tests.conftest import TENANT_A

BEFORE = "tenant_0011"
# The revision that converts the tables; later ones change tables of their own.
CONVERTED = "tenant_0012"


def _without_autoincrement(metadata: MetaData, schema: dict[str, str]) -> list[str]:
    """The integer-id tables whose CREATE statement in `schema` lacks AUTOINCREMENT."""
    return [t.name for t in _integer_id_tables(metadata) if "AUTOINCREMENT" not in schema[t.name]]


def _integer_id_tables(metadata: MetaData) -> list[Table]:
    """Tables whose key is an integer the database hands out (one keyed by another table's
    id, a course's settings say, takes that id and hands none out)."""
    return [
        table
        for table in metadata.sorted_tables
        if len(table.primary_key.columns) == 1
        and table.primary_key.columns[0].type.python_type is int
        and not table.primary_key.columns[0].foreign_keys
    ]


def _unschemed() -> MetaData:
    metadata = MetaData(naming_convention=NAMING)
    for table in TenantBase.metadata.sorted_tables:
        table.to_metadata(metadata, schema=None)  # type: ignore[arg-type]
    return metadata


TABLES = _unschemed().tables


@pytest.mark.parametrize("metadata", [TenantBase.metadata, CoreBase.metadata])
def test_every_integer_id_table_is_declared_with_sqlite_autoincrement(metadata):
    tables = _integer_id_tables(metadata)

    forgotten = [t.name for t in tables if not t.dialect_options["sqlite"]["autoincrement"]]

    assert tables
    assert forgotten == []


def _create_statements(connection: Connection) -> dict[str, str]:
    rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    return dict(rows.all())


async def _schema_of(url: Any) -> dict[str, str]:
    engine = make_engine(url, pooled=False)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_create_statements)
    finally:
        await engine.dispose()


async def test_every_integer_id_table_of_a_new_sqlite_tenant_has_autoincrement(sqlite_url):
    databases = Databases.connect(sqlite_url)
    try:
        schema = await _schema_of(databases.tenant_url(TENANT_A))
    finally:
        await databases.dispose()

    without = _without_autoincrement(TenantBase.metadata, schema)

    assert without == []


async def test_every_integer_id_table_of_the_sqlite_registry_has_autoincrement(sqlite_url):
    schema = await _schema_of(sqlite_url)

    without = _without_autoincrement(CoreBase.metadata, schema)

    assert without == []


# A tenant made before ids were retired, with rows, some of them deleted.


@dataclass
class Legacy:
    engine: AsyncEngine
    schema: str | None
    # Per table, every row as the tenant held it before the upgrade.
    rows: dict[str, list[tuple[Any, ...]]]

    async def run(self, work: Callable[[Connection], Any]) -> Any:
        async with self.engine.begin() as connection:
            return await connection.run_sync(self._in_schema, work)

    def _in_schema(self, connection: Connection, work: Callable[[Connection], Any]) -> Any:
        if self.schema is not None:
            connection.exec_driver_sql(f'SET search_path TO "{self.schema}"')
        return work(connection)

    async def upgrade(self, revision: str = "head") -> None:
        def upgrade(connection: Connection) -> None:
            config = alembic_config("tenant", connection=connection, tenant_schema=self.schema)
            command.upgrade(config, revision)

        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade)


def _add(connection: Connection, table: str, **values: Any) -> int:
    return int(connection.execute(insert(TABLES[table]).values(**values)).inserted_primary_key[0])


def _logged(connection: Connection, activity: str, object_type: str, object_id: int) -> None:
    _add(
        connection,
        "activity_logs",
        event_id=uuid.uuid4().hex,
        activity_type=activity,
        object_type=object_type,
        object_id=object_id,
    )


def _fill(connection: Connection) -> None:
    """What the service wrote before: each creation logged, as the operations log it."""
    for n in range(1, 6):
        course = dict(code=f"C{n}", slug=f"c{n}", level="Beginner", status="Published")
        course_id = _add(connection, "courses", title=f"Course {n}", instructor_id="i-1", **course)
        _add(connection, "modules", course_id=course_id, title=f"Module {n}")
        _logged(connection, "course_created", "course", course_id)
    for n in range(1, 4):
        chat = _add(
            connection,
            "ai_chat_sessions",
            user_id="s-1",
            topic=f"T{n}",
            difficulty_level="beginner",
        )
        question = _add(
            connection,
            "ai_chat_messages",
            session_id=chat,
            sender_type="user",
            message="q",
            status="complete",
        )
        _add(connection, "ai_chat_usage", user_id="s-1", message_id=question, tokens=10 * n)
        _logged(connection, "ai_session_started", "ai_session", chat)
    for n in range(1, 3):
        group = _add(connection, "groups", name=f"G{n}", slug=f"g{n}", created_by="i-1")
        _logged(connection, "group_created", "group", group)
    _add(connection, "payment_gateways", name="Stripe", provider="stripe", is_default=True)
    _add(connection, "payment_gateways", name="Dummy", provider="dummy", is_default=False)
    # The newest rows go: their ids are the ones SQLite used to hand out again.
    connection.execute(delete(TABLES["courses"]).where(TABLES["courses"].c.code.in_(["C4", "C5"])))
    connection.execute(
        delete(TABLES["ai_chat_sessions"]).where(TABLES["ai_chat_sessions"].c.topic == "T3")
    )
    connection.execute(delete(TABLES["groups"]))


def _all_rows(connection: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row, in the tables and columns this revision has (later ones add their own)."""
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    rows = {}
    for name, table in TABLES.items():
        if name not in tables:
            continue
        present = {column["name"] for column in inspector.get_columns(name)}
        columns = [column for column in table.c if column.name in present]
        query = select(*columns).order_by(*table.primary_key)
        rows[name] = [tuple(row) for row in connection.execute(query)]
    return rows


@pytest.fixture
async def legacy(database_url: str, backend: str) -> AsyncIterator[Legacy]:
    databases = Databases.connect(database_url)
    slug = f"legacy_{uuid.uuid4().hex[:8]}"
    await create_tenant_storage(databases, slug)
    engine = make_engine(databases.tenant_url(slug), pooled=False)
    try:
        tenant = Legacy(engine, None if backend == "sqlite" else slug, {})
        await tenant.upgrade(BEFORE)
        await tenant.run(_fill)
        tenant.rows = await tenant.run(_all_rows)
        yield tenant
    finally:
        await engine.dispose()
        await drop_tenant_storage(databases, slug)
        await databases.dispose()


def _ids(rows: list[tuple[Any, ...]]) -> list[int]:
    return [row[0] for row in rows]


async def test_upgrading_a_tenant_keeps_every_row(legacy):
    await legacy.upgrade()

    rows = await legacy.run(_all_rows)

    usage = TABLES["ai_chat_usage"].c.keys().index("message_id")
    cleared = [
        (*r[:usage], None, *r[usage + 1 :]) if r[usage] == 3 else r
        for r in legacy.rows["ai_chat_usage"]
    ]
    before = {name: rows[name] for name in legacy.rows}  # later revisions add tables
    assert before == {**legacy.rows, "ai_chat_usage": cleared}
    assert _ids(rows["courses"]) == [1, 2, 3]


async def test_upgrading_a_tenant_keeps_the_usage_of_a_deleted_question_without_its_reference(
    legacy,
):
    await legacy.upgrade()

    rows = await legacy.run(_all_rows)

    usage = TABLES["ai_chat_usage"]
    ledger = [dict(zip(usage.c.keys(), row, strict=True)) for row in rows["ai_chat_usage"]]
    assert [(u["message_id"], u["tokens"]) for u in ledger] == [(1, 10), (2, 20), (None, 30)]


async def test_after_upgrading_new_ids_continue_past_every_id_handed_out(legacy):
    await legacy.upgrade()

    def create(connection: Connection) -> dict[str, int]:
        course = _add(
            connection,
            "courses",
            title="New",
            code="NEW",
            slug="new",
            level="Beginner",
            status="Published",
            instructor_id="i-1",
        )
        chat = _add(
            connection, "ai_chat_sessions", user_id="s-2", topic="New", difficulty_level="beginner"
        )
        question = _add(
            connection,
            "ai_chat_messages",
            session_id=chat,
            sender_type="user",
            message="q",
            status="complete",
        )
        _add(connection, "ai_chat_usage", user_id="s-2", message_id=question)
        group = _add(connection, "groups", name="New", slug="new", created_by="i-1")
        return {"course": course, "session": chat, "question": question, "group": group}

    created = await legacy.run(create)

    # Past the deleted courses 4 and 5, session and question 3, groups 1 and 2.
    assert created == {"course": 6, "session": 4, "question": 4, "group": 3}


async def test_an_upgraded_tenant_matches_the_tables(legacy):
    await legacy.upgrade()

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection)
        found = compare_metadata(context, _unschemed())
        return [d for d in found if "alembic_version" not in repr(d)]

    assert await legacy.run(diff) == []


async def test_an_upgraded_tenant_still_enforces_its_foreign_keys(legacy):
    await legacy.upgrade()

    def delete_course_1(connection: Connection) -> list[int]:
        connection.execute(delete(TABLES["courses"]).where(TABLES["courses"].c.id == 1))
        modules = TABLES["modules"]
        return list(connection.scalars(select(modules.c.course_id).order_by(modules.c.id)))

    assert await legacy.run(delete_course_1) == [2, 3]
    with pytest.raises(IntegrityError):
        await legacy.run(lambda c: _add(c, "modules", course_id=99, title="Orphan"))


async def test_an_upgraded_tenant_still_has_one_default_gateway_at_most(legacy):
    await legacy.upgrade()

    with pytest.raises(IntegrityError):
        await legacy.run(
            lambda c: _add(c, "payment_gateways", name="Again", provider="dummy", is_default=True)
        )
    await legacy.run(
        lambda c: _add(c, "payment_gateways", name="More", provider="dummy", is_default=False)
    )


def _clauses(create_table: str) -> set[str]:
    """A CREATE TABLE's clauses, in any order, less the id's (AUTOINCREMENT moves it inline)."""
    body = create_table[create_table.index("(") + 1 : create_table.rindex(")")]
    clauses = {re.sub(r"\s+", " ", line.strip().rstrip(",")) for line in body.splitlines()}
    return {c for c in clauses if c and not c.startswith(("id INTEGER", "CONSTRAINT pk_"))}


def _schema(connection: Connection) -> dict[tuple[str, str], Any]:
    rows = connection.exec_driver_sql(
        "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
    )
    return {
        (kind, name): _clauses(sql) if kind == "table" else sql for kind, name, sql in rows.all()
    }


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_upgrading_an_sqlite_tenant_keeps_its_indexes_and_constraints(legacy):
    before = await legacy.run(_schema)

    await legacy.upgrade(CONVERTED)

    after = await legacy.run(_schema)
    usage = ("table", "ai_chat_usage")
    assert {**after, usage: set()} == {**before, usage: set()}
    assert after[usage] - before[usage] == {
        "message_id INTEGER",
        "CONSTRAINT fk_ai_chat_usage_message_id_ai_chat_messages FOREIGN KEY(message_id) "
        "REFERENCES ai_chat_messages (id) ON DELETE SET NULL",
    }


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_upgrading_an_sqlite_tenant_gives_every_integer_id_table_autoincrement(legacy):
    await legacy.upgrade()

    schema = await legacy.run(_create_statements)

    without = _without_autoincrement(TenantBase.metadata, schema)
    assert without == []


# The registry, made before ids were retired.


async def test_upgrading_an_sqlite_registry_keeps_its_tenants_and_their_domains(tmp_path):
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'core.db'}", pooled=False)

    async def upgrade(revision: str) -> None:
        def run(connection: Connection) -> None:
            command.upgrade(alembic_config("core", connection=connection), revision)

        async with engine.begin() as connection:
            await connection.run_sync(run)

    def fill(connection: Connection) -> None:
        tenants, domains = (
            CoreBase.metadata.tables["tenants"],
            CoreBase.metadata.tables["tenant_domains"],
        )
        for n in (1, 2):
            connection.execute(insert(tenants).values(slug=f"t{n}", name=f"T{n}"))
            connection.execute(insert(domains).values(tenant_id=n, domain=f"t{n}.test"))

    def registry(connection: Connection) -> tuple[list[Any], list[Any], dict[str, str]]:
        tenants = connection.exec_driver_sql("SELECT id, slug FROM tenants ORDER BY id")
        domains = connection.exec_driver_sql(
            "SELECT tenant_id, domain FROM tenant_domains ORDER BY id"
        )
        return list(tenants), list(domains), _create_statements(connection)

    try:
        await upgrade("core_0001")
        async with engine.begin() as connection:
            await connection.run_sync(fill)
        await upgrade("head")
        async with engine.connect() as connection:
            tenants, domains, schema = await connection.run_sync(registry)
    finally:
        await engine.dispose()

    assert tenants == [(1, "t1"), (2, "t2")]
    assert domains == [(1, "t1.test"), (2, "t2.test")]
    assert "AUTOINCREMENT" in schema["tenants"]
    assert "AUTOINCREMENT" in schema["tenant_domains"]
