"""ids never reused: SQLite tables rebuilt with AUTOINCREMENT; the usage ledger's question
reference cleared when the question is deleted

Without AUTOINCREMENT SQLite gives the next row the highest id in use plus one, so deleting
the newest row hands its id to the next insert, and whatever was keyed by the old id (a
usage row, a room's history) is taken for the new row's. PostgreSQL's sequences never go
back. Each table keeps its rows, indexes and constraints; its sequence starts past the
highest id it holds and past every id the tenant's own records show it handed out (the
usage ledger's questions, the activity log's objects), so deleted rows stay retired.

Revision ID: tenant_0012
Revises: tenant_0011
Create Date: 2026-12-06 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.sqlite import foreign_keys_are_off


revision: str = 'tenant_0012'
down_revision: str | None = 'tenant_0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every table with an integer id at this revision (forum_groups is keyed by its two links).
TABLES = (
    'activity_logs',
    'ai_chat_messages',
    'ai_chat_sessions',
    'ai_chat_usage',
    'audit_logs',
    'cart_items',
    'carts',
    'categories',
    'course_announcements',
    'courses',
    'enrollments',
    'forum_posts',
    'forums',
    'group_members',
    'groups',
    'lesson_completions',
    'lesson_resources',
    'lessons',
    'message_reads',
    'messages',
    'modules',
    'order_lines',
    'orders',
    'payment_events',
    'payment_gateways',
    'payment_outbox',
    'ratings',
    'schedule_participants',
    'schedules',
)
# The activity log's object types, and the table whose ids they name.
LOGGED_OBJECTS = {
    'ai_message': 'ai_chat_messages',
    'ai_session': 'ai_chat_sessions',
    'course': 'courses',
    'forum': 'forums',
    'forum_post': 'forum_posts',
    'group': 'groups',
    'lesson': 'lessons',
    'message': 'messages',
    'order': 'orders',
    'schedule': 'schedules',
}
USAGE_FK = 'fk_ai_chat_usage_message_id_ai_chat_messages'


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        _usage_follows_its_question()
        return
    if not foreign_keys_are_off(bind):
        # Rebuilding a table drops the old one: with foreign keys on, that would delete
        # the rows of every table referencing it.
        raise RuntimeError('tenant_0012 rebuilds tables: run it with foreign keys off')
    handed_out = _ids_handed_out(bind)
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ) as batch_op:
            if table == 'ai_chat_usage':
                batch_op.alter_column('message_id', existing_type=sa.Integer(), nullable=True)
                batch_op.create_foreign_key(
                    op.f(USAGE_FK), 'ai_chat_messages', ['message_id'], ['id'], ondelete='SET NULL'
                )
    _clear_deleted_questions()
    for table, highest in handed_out.items():
        _sequence_at_least(bind, table, highest)


def _usage_follows_its_question() -> None:
    op.alter_column('ai_chat_usage', 'message_id', existing_type=sa.Integer(), nullable=True)
    _clear_deleted_questions()
    op.create_foreign_key(
        op.f(USAGE_FK), 'ai_chat_usage', 'ai_chat_messages', ['message_id'], ['id'],
        ondelete='SET NULL',
    )


def _clear_deleted_questions() -> None:
    # The ledger keeps counting a deleted question; only the reference to it goes.
    op.execute(
        'UPDATE ai_chat_usage SET message_id = NULL WHERE message_id IS NOT NULL '
        'AND message_id NOT IN (SELECT id FROM ai_chat_messages)'
    )


def _ids_handed_out(bind: sa.Connection) -> dict[str, int]:
    """Per table, the highest id a row still names, deleted rows included where known."""
    highest = {
        table: bind.exec_driver_sql(f'SELECT coalesce(max(id), 0) FROM "{table}"').scalar() or 0
        for table in TABLES
    }
    traces = [('ai_chat_messages', 'SELECT max(message_id) FROM ai_chat_usage')]
    logged = bind.execute(
        sa.text(
            'SELECT object_type, max(object_id) FROM activity_logs '
            'WHERE object_type IN :types GROUP BY object_type'
        ).bindparams(sa.bindparam('types', expanding=True)),
        {'types': list(LOGGED_OBJECTS)},
    )
    for object_type, object_id in logged:
        highest[LOGGED_OBJECTS[object_type]] = max(
            highest[LOGGED_OBJECTS[object_type]], object_id or 0
        )
    for table, query in traces:
        highest[table] = max(highest[table], bind.exec_driver_sql(query).scalar() or 0)
    return highest


def _sequence_at_least(bind: sa.Connection, table: str, seq: int) -> None:
    """The next id of `table` is above `seq` (SQLite's sqlite_sequence may be written)."""
    if seq <= 0:
        return
    params = {'name': table, 'seq': seq}
    bind.execute(
        sa.text('UPDATE sqlite_sequence SET seq = :seq WHERE name = :name AND seq < :seq'),
        params,
    )
    bind.execute(
        sa.text(
            'INSERT INTO sqlite_sequence (name, seq) SELECT :name, :seq '
            'WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = :name)'
        ),
        params,
    )


def downgrade() -> None:
    # AUTOINCREMENT stays on SQLite: the older code runs on it unchanged, and taking it off
    # would let ids be reused again. The ledger's cleared references become ids no question
    # will ever have (negative), so the column can be required again.
    bind = op.get_bind()
    op.execute('UPDATE ai_chat_usage SET message_id = -id WHERE message_id IS NULL')
    if bind.dialect.name == 'sqlite':
        with op.batch_alter_table(
            'ai_chat_usage', recreate='always', table_kwargs={'sqlite_autoincrement': True}
        ) as batch_op:
            batch_op.drop_constraint(op.f(USAGE_FK), type_='foreignkey')
            batch_op.alter_column('message_id', existing_type=sa.Integer(), nullable=False)
        return
    op.drop_constraint(op.f(USAGE_FK), 'ai_chat_usage', type_='foreignkey')
    op.alter_column('ai_chat_usage', 'message_id', existing_type=sa.Integer(), nullable=False)
