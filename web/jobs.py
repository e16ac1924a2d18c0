"""Routes: the jobs a user started (a bulk enrollment), to follow them."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.jobs.operations import access_job, jobs_query
from models.jobs.schemas import JobQuery, JobRead
from models.jobs.tables import Job
from models.people.names import named, with_people
from web.handlers import actor, ok, path_id, render, session
from web.jsonio import read_query
from web.pagination import paginated
from web.routing import RouteTable

routes = RouteTable()
TAG = "jobs"
JOBS = "/api/lms/jobs/jobs/"
JOB = JOBS + r"{job_id:[0-9]+}/"


@routes.read(JOBS, tag=TAG, query=JobQuery, response=JobRead, paginated=True)
async def list_jobs(request: web.Request) -> web.Response:
    """The jobs I started, newest first (admins: everyone's); filter by `kind`, `status`."""
    stmt = jobs_query(actor(request), read_query(request, JobQuery))
    return ok(await paginated(request, session(request), stmt, job_fields))


@routes.read(JOB, tag=TAG, response=JobRead)
async def get_job(request: web.Request) -> web.Response:
    """A job I started (admins: any): its status, counts and per-row errors."""
    job = await access_job(
        session(request), actor=actor(request), job_id=path_id(request, "job_id")
    )
    return ok(await job_body(session(request), job))


async def job_body(session: AsyncSession, job: Job) -> dict[str, Any]:
    await named(session, [job])  # loaded with the job; a new one's: the actor's
    return job_fields(job)


def job_fields(job: Job) -> dict[str, Any]:
    """A job whose person is loaded, as JobRead renders it."""
    return render(JobRead, with_people(job))
