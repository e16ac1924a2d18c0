"""ids never reused: the registry's SQLite tables rebuilt with AUTOINCREMENT

Without it SQLite hands a deleted tenant's (or domain's) id to the next one. PostgreSQL's
sequences never go back: nothing to do there. The rows, indexes and constraints are kept.

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

from alembic import op

from migrations.sqlite import foreign_keys_are_off


revision: str = 'core_0002'
down_revision: str | None = 'core_0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('tenants', 'tenant_domains')


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    if not foreign_keys_are_off(bind):
        # Dropping the old tenants table with foreign keys on would delete every domain.
        raise RuntimeError('core_0002 rebuilds tables: run it with foreign keys off')
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ):
            pass


def downgrade() -> None:
    # AUTOINCREMENT stays: the older code runs on it unchanged.
    pass
