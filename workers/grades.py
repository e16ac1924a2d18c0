"""The completion check's task: certificates for those who now meet their course's rule."""

from __future__ import annotations

import functools
from typing import Any

from models.grades.certificates import do_check_completion
from workers.context import WorkerContext


async def check_completion(
    ctx: WorkerContext, tenant: str, course_id: int, who: dict[str, Any]
) -> None:
    """Issue what is due, in one transaction: a redelivered task (or two at once) issues
    nothing twice (one certificate per learner and course, the INSERT yielding)."""
    check = functools.partial(do_check_completion, tenant=tenant, course_id=course_id, who=who)
    await ctx.in_tenant(tenant, check)
