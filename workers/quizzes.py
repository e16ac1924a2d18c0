"""The quiz deadline sweep: submit every attempt still in progress past its deadline, with
the answers it saved, each in its own transaction.

Periodic: every web process asks for it per tenant (`web/app.py: quiz_sweep_ctx`). A
submit is one conditional UPDATE (`models/quizzes/attempts.py: do_submit_attempt`), so
this task, a second sweep and the learner's own submit grade an attempt exactly once.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.quizzes.attempts import SWEEP_BATCH, do_submit_overdue, overdue_attempt_ids
from workers.context import WorkerContext

log = logging.getLogger(__name__)


async def submit_overdue(ctx: WorkerContext, tenant: str, now: datetime | None = None) -> int:
    """Submit the tenant's overdue attempts; returns how many this run submitted."""
    moment = now or utcnow()
    submitted = 0
    while True:

        async def overdue(session: AsyncSession) -> list[int]:
            return await overdue_attempt_ids(session, now=moment)

        ids = await ctx.in_tenant(tenant, overdue)
        progress = 0
        for attempt_id in ids:
            submit = functools.partial(do_submit_overdue, attempt_id=attempt_id, now=moment)
            try:
                progress += await ctx.in_tenant(tenant, submit)
            except Exception:
                # One attempt that cannot be graded must not hold up the others.
                log.exception("quiz sweep of %s: attempt %s not submitted", tenant, attempt_id)
        submitted += progress
        if len(ids) < SWEEP_BATCH or not progress:
            break
    if submitted:
        log.info("quiz sweep of %s submitted %d overdue attempts", tenant, submitted)
    return submitted
