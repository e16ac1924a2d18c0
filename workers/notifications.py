"""The inbox's task: store a notification for each of its recipients, then tell them live."""

from __future__ import annotations

import functools
from typing import Any

from models.notifications.operations import (
    BATCH,
    Note,
    do_store_notifications,
    publish_notifications,
    recipients_of,
)
from workers.context import WorkerContext


async def deliver(
    ctx: WorkerContext, tenant: str, note: dict[str, Any], audience: dict[str, Any]
) -> None:
    """`notify_users`'s task. Each batch of `BATCH` users is one transaction (one INSERT);
    its rows reach their users' sockets once it commits, so the first users do not
    wait for the last. Run again, it creates nothing twice and sends nothing twice."""
    parsed = Note.from_json(note)
    users = await ctx.in_tenant(
        tenant, functools.partial(recipients_of, note=parsed, audience=audience)
    )
    for start in range(0, len(users), BATCH):
        store = functools.partial(
            do_store_notifications, note=parsed, user_ids=users[start : start + BATCH]
        )
        created = await ctx.in_tenant(tenant, store)
        if created and ctx.events is not None:
            await publish_notifications(ctx.events, tenant, created)
