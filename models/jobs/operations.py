"""Opening a job, and telling its creator how it goes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.identity import Principal
from models.jobs.schemas import JobQuery
from models.jobs.tables import Job
from models.listing import Listing
from models.notifications.rooms import publish_to_user

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
FINISHED = frozenset({DONE, FAILED})
# Per-row errors kept on a job; `failed` counts them all.
ERRORS_KEPT = 1000
PROGRESS = "job_progress"


async def access_job(session: AsyncSession, *, actor: Principal, job_id: int) -> Job:
    """The job, to its creator and admins (404 for anyone else, as for no job)."""
    job = await session.get(Job, job_id)
    if job is None or not (actor.is_admin or job.created_by == actor.user_id):
        raise NotFound()
    return job


def add_errors(job: Job, errors: list[dict[str, Any]]) -> None:
    """Count the errors as failed rows and keep the first ERRORS_KEPT of them."""
    job.failed += len(errors)
    room = ERRORS_KEPT - len(job.errors)
    if room > 0 and errors:
        job.errors = [*job.errors, *errors[:room]]  # a new list: the JSON column sees a change


def publish_progress(session: AsyncSession, job: Job) -> None:
    """Once the session commits, a `job_progress` frame reaches the job's creator."""
    publish_to_user(
        session,
        job.created_by,
        PROGRESS,
        {
            "job_id": job.id,
            "status": job.status,
            "done": job.done,
            "failed": job.failed,
            "total": job.total,
        },
    )


JOBS = Listing(
    filters={"kind": Job.kind, "status": Job.status},
    default=(Job.created_at.desc(),),
    tiebreak=Job.id.desc(),
)


def jobs_query(actor: Principal, query: JobQuery) -> Select[Any]:
    """My jobs, newest first; admins see everyone's."""
    stmt = select(Job)
    if not actor.is_admin:
        stmt = stmt.where(Job.created_by == actor.user_id)
    return JOBS.apply(stmt, query)
