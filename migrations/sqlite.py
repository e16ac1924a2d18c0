"""How both Alembic trees run on SQLite: foreign keys off while tables are rebuilt, every
reference checked before the migration commits (SQLite's own procedure for changing a table).

SQLite changes a table by rebuilding it (Alembic's batch mode: create a copy, move the rows,
drop the old table, rename the copy). With foreign keys enforced, dropping the old table
would first delete its rows, cascading into every table that references it.
"""

from __future__ import annotations

from sqlalchemy import Connection


def foreign_keys_off(connection: Connection) -> None:
    """Before any statement of the migration: SQLite ignores the pragma inside a transaction."""
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")


def foreign_keys_are_off(connection: Connection) -> bool:
    return not connection.exec_driver_sql("PRAGMA foreign_keys").scalar()


def check_foreign_keys(connection: Connection) -> None:
    """Refuse to commit a migration that left a reference to a row that does not exist."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, rowid, parent, _ = broken[0]
        raise RuntimeError(
            f"the migration left {len(broken)} broken reference(s), e.g. row {rowid} of "
            f"{table} to {parent}; nothing was changed"
        )
