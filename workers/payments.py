"""Payment tasks: apply a stored Stripe event, and re-send outbox messages a crash left behind."""

from __future__ import annotations

from models.payments.webhooks import do_process_event, do_relay_outbox
from workers.context import WorkerContext


async def process_event(ctx: WorkerContext, tenant: str, event_row_id: int) -> None:
    """Fulfil (or fail) the order a stored event speaks of; a second run changes nothing."""
    await ctx.in_tenant(
        tenant,
        lambda session: do_process_event(session, tenant=tenant, event_row_id=event_row_id),
    )


async def relay_outbox(ctx: WorkerContext, tenant: str, older_than_seconds: float = 60.0) -> None:
    """Send again what is still pending this long after its last send (schedule it per tenant)."""
    await ctx.in_tenant(
        tenant,
        lambda session: do_relay_outbox(session, older_than_seconds=older_than_seconds),
    )
