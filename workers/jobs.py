"""Job tasks: a bulk enrollment, batch after batch, each batch its own transaction."""

from __future__ import annotations

from models.courses.bulk import do_bulk_enroll_batch
from workers.context import WorkerContext


async def bulk_enroll(ctx: WorkerContext, tenant: str, job_id: int) -> None:
    """Enroll the job's rows until none is left; delivered again, it resumes after the last
    batch that committed (a finished job changes nothing)."""
    while await ctx.in_tenant(tenant, lambda session: do_bulk_enroll_batch(session, job_id=job_id)):
        pass
