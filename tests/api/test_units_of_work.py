"""`unit_of_work(...)`, the one way into a transaction: it commits when its body succeeds
(then the after-commit hooks run), rolls back when the body raises or asks for it (then the
undo hooks run), and closes; a read-only unit reads in autocommit and refuses to write."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from models.courses.tables import Category
from models.read_only import WriteInReadOnlyUnit
from models.tenancy import Databases
from models.unit_of_work import UnitOfWork, unit_of_work
from web.keys import DATABASES


@pytest.fixture
def databases(api: Any) -> Databases:
    db: Databases = api.client.app[DATABASES]
    return db


def hooks(uow: UnitOfWork) -> list[str]:
    """What ran after the unit ended: `committed` (after-commit) or `undone` (undo hooks)."""
    ran: list[str] = []

    async def committed() -> None:
        ran.append("committed")

    async def undone() -> None:
        ran.append("undone")

    uow.after_commit(committed)
    uow.after_rollback(undone)
    return ran


def a_category(name: str) -> Category:
    return Category(name=name, slug=name.lower())


async def categories_named(databases: Databases, name: str) -> int:
    async with databases.tenant_sessions("acme")() as session:
        found = await session.scalar(
            select(func.count()).select_from(Category).where(Category.name == name)
        )
    return int(found or 0)


async def test_a_unit_whose_body_succeeds_commits_then_runs_its_after_commit_hooks(databases):
    async with unit_of_work(databases, "acme") as uow:
        ran = hooks(uow)
        uow.session.add(a_category("Kept"))
        await uow.session.flush()

    assert await categories_named(databases, "Kept") == 1
    assert ran == ["committed"]


async def test_a_unit_whose_body_raises_rolls_back_then_runs_its_undo_hooks(databases):
    with pytest.raises(LookupError):
        async with unit_of_work(databases, "acme") as uow:
            ran = hooks(uow)
            uow.session.add(a_category("Dropped"))
            await uow.session.flush()
            raise LookupError("refused")

    assert await categories_named(databases, "Dropped") == 0
    assert ran == ["undone"]


async def test_a_unit_asked_to_roll_back_stores_nothing_and_runs_its_undo_hooks(databases):
    async with unit_of_work(databases, "acme") as uow:
        ran = hooks(uow)
        uow.session.add(a_category("Refused"))
        await uow.session.flush()
        uow.rollback_only()

    assert await categories_named(databases, "Refused") == 0
    assert ran == ["undone"]


async def test_a_unit_is_closed_when_it_ends(databases):
    async with unit_of_work(databases, "acme") as uow:
        await uow.session.execute(select(1))

    assert not uow.started


async def test_a_read_only_unit_reads(databases):
    async with unit_of_work(databases, "acme", read_only=True) as uow:
        general = await uow.session.scalar(select(Category.slug).where(Category.slug == "general"))

    assert general == "general"


async def test_a_read_only_unit_refuses_an_update_and_nothing_changes(databases):
    with pytest.raises(WriteInReadOnlyUnit):
        async with unit_of_work(databases, "acme", read_only=True) as uow:
            await uow.session.execute(
                update(Category).where(Category.slug == "general").values(name="Changed")
            )

    assert await categories_named(databases, "Changed") == 0


async def test_a_read_only_unit_refuses_an_insert_written_as_text(databases):
    insert = text("INSERT INTO categories (name, slug, description) VALUES ('T', 't', '')")

    with pytest.raises(WriteInReadOnlyUnit):
        async with unit_of_work(databases, "acme", read_only=True) as uow:
            await uow.session.execute(insert)

    assert await categories_named(databases, "T") == 0


async def test_a_read_only_unit_refuses_a_flush_of_a_new_row(databases):
    with pytest.raises(WriteInReadOnlyUnit):
        async with unit_of_work(databases, "acme", read_only=True) as uow:
            uow.session.add(a_category("Flushed"))
            await uow.session.flush()

    assert await categories_named(databases, "Flushed") == 0
