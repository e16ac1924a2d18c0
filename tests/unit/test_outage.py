"""Which errors mean the database went away (a 503 everywhere), and which a read may retry."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from models.outage import connection_lost, database_unavailable
from tests.unit.test_error_rendering import app_raising


@pytest.mark.parametrize(
    "exc",
    [
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.InterfaceError("cannot call PreparedStatement.fetch(): connection is closed"),
        asyncpg.InternalClientError(
            "cannot switch to state 12; another operation (2) is in progress"
        ),
        ConnectionRefusedError(111, "Connection refused"),
    ],
    ids=type,
)
def test_a_dropped_or_refused_connection_is_lost_and_unavailable(exc):
    assert connection_lost(exc)
    assert database_unavailable(exc)


def test_a_locked_sqlite_database_is_unavailable_but_not_retried():
    locked = OperationalError("SELECT 1", {}, Exception("database is locked"))

    assert database_unavailable(locked)
    assert not connection_lost(locked)


def test_a_misused_connection_is_neither():
    busy = asyncpg.InterfaceError("cannot perform operation: another operation is in progress")

    assert not connection_lost(busy)
    assert not database_unavailable(busy)


@pytest.mark.parametrize(
    "exc",
    [
        OperationalError("UPDATE courses", {}, Exception("database is locked")),
        DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ],
    ids=type,
)
async def test_the_database_gone_or_locked_is_a_503_saying_when_to_retry(aiohttp_client, exc):
    client = await aiohttp_client(app_raising(exc))

    response = await client.get("/boom/")

    assert response.status == 503
    assert await response.json() == {
        "detail": "The database is unavailable; try again shortly.",
        "status": 503,
    }
    assert response.headers["Retry-After"] == "1"
