"""lesson file names: the uploader's file name, sent back when the file is downloaded

Revision ID: tenant_0016
Revises: tenant_0015
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'tenant_0016'
down_revision: str | None = 'tenant_0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table(
        'lessons', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.add_column(sa.Column('file_name', sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(
        'lessons', schema=None, table_kwargs={'sqlite_autoincrement': True}
    ) as batch_op:
        batch_op.drop_column('file_name')
