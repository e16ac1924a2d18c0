"""Routes: the jobs a user started (a bulk enrollment), to follow them."""

from __future__ import annotations

from aiohttp import web

from models.jobs.operations import access_job, jobs_query
from models.jobs.schemas import JobQuery, JobRead
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
    return ok(await paginated(request, session(request), stmt, lambda j: render(JobRead, j)))


@routes.read(JOB, tag=TAG, response=JobRead)
async def get_job(request: web.Request) -> web.Response:
    """A job I started (admins: any): its status, counts and per-row errors."""
    job = await access_job(
        session(request), actor=actor(request), job_id=path_id(request, "job_id")
    )
    return ok(render(JobRead, job))
