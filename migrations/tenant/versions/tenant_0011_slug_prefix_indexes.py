"""slug prefix indexes: the free-slug lookup (`slug = 'x' OR slug LIKE 'x-%'`) reads an index

Revision ID: tenant_0011
Revises: tenant_0010
Create Date: 2026-11-27 21:45:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'tenant_0011'
down_revision: str | None = 'tenant_0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('categories', 'courses', 'forums', 'groups')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                f'ix_{table}_slug_prefix',
                ['slug'],
                unique=False,
                postgresql_ops={'slug': 'varchar_pattern_ops'},
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_slug_prefix')
