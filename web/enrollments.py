"""Routes: enrollments and ratings."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses import bulk, enrollments, ratings
from models.courses import operations as courses
from models.courses.schemas import (
    BulkEnrollBody,
    EnrollBody,
    EnrollmentQuery,
    EnrollmentRead,
    EnrollmentReplace,
    EnrollmentUpdate,
    RatingBody,
    RatingQuery,
    RatingRead,
    RatingUpdate,
)
from models.courses.tables import Enrollment, Rating
from models.jobs.schemas import JobRead
from models.people.names import named, with_people
from models.validation import check_changes
from web.handlers import actor, no_content, ok, path_id, read_update, render, session
from web.jobs import job_body
from web.jsonio import read_body, read_query
from web.keys import SETTINGS
from web.pagination import page_body, page_request, paginated
from web.routing import RouteTable
from web.uploads import receive_form_file

routes = RouteTable()
TAG = "enrollments"
ENROLLMENTS = "/api/lms/courses/enrollments/"
ENROLLMENT = ENROLLMENTS + r"{enrollment_id:[0-9]+}/"
RATINGS = "/api/lms/courses/ratings/"
RATING = RATINGS + r"{rating_id:[0-9]+}/"
# Enrollments and ratings show their user's id as `user`: the name object is `user_person`.
PERSON = "user_person"


async def enrollment_body(session: AsyncSession, enrollment: Enrollment) -> dict[str, Any]:
    await named(session, [enrollment])
    return enrollment_fields(enrollment)


def enrollment_fields(enrollment: Enrollment) -> dict[str, Any]:
    """An enrollment whose person is loaded, as EnrollmentRead renders it."""
    fields = with_people(enrollment, user_id=PERSON)
    fields["completed_lesson_ids"] = enrollment.completed_lesson_ids
    return render(EnrollmentRead, fields)


async def _rating_body(session: AsyncSession, rating: Rating) -> dict[str, Any]:
    await named(session, [rating])
    return render(RatingRead, with_people(rating, user_id=PERSON))


@routes.route(
    "POST",
    ENROLLMENTS + r"course/{course_id:[0-9]+}/",
    tag=TAG,
    body=EnrollBody,
    response=EnrollmentRead,
    status=201,
    also=(200,),
    errors=(402,),
)
async def enroll(request: web.Request) -> web.Response:
    """Enroll in a course: 201 when new, 200 with the existing enrollment, 402 for a paid course."""
    data = await read_body(request, EnrollBody)
    user_id = enrollments.check_enroller(actor(request), data.user_id)
    course = await courses.access_course(
        session(request), actor=actor(request), course_id=path_id(request, "course_id")
    )
    existing = await enrollments.check_enrollment(
        session(request), actor=actor(request), course=course, user_id=user_id
    )
    enrollment, created = await enrollments.do_enroll(
        session(request), actor=actor(request), course=course, user_id=user_id, existing=existing
    )
    return ok(await enrollment_body(session(request), enrollment), status=201 if created else 200)


@routes.route(
    "POST",
    ENROLLMENTS + "bulk/",
    tag=TAG,
    body=BulkEnrollBody,
    response=JobRead,
    status=202,
    errors=(413,),
    audit="bulk_enrollment_started",
)
async def bulk_enroll(request: web.Request) -> web.Response:
    """Enroll many users in a course as a job (its instructor and admins): JSON `course`
    and `user_ids`, or a multipart form with `course` and a CSV `file` (header `user_id`,
    optionally `name`, `email`). 202 with the job; GET it under /api/lms/jobs/jobs/."""
    bulk.check_bulk_enroller(actor(request))  # before the body is read
    if request.content_type == "multipart/form-data":
        settings = request.app[SETTINGS]
        upload = await receive_form_file(
            request,
            max_bytes=settings.bulk_enrollment_max_bytes,
            temp_dir=settings.upload_temp_dir,
        )
        try:
            course_id = bulk.check_course_field(upload.fields.get("course"))
            course = await bulk.access_bulk_course(
                session(request), actor=actor(request), course_id=course_id
            )
            # Reading and checking thousands of rows is work for a thread, not the loop.
            valid, errors = await asyncio.to_thread(
                lambda: bulk.check_bulk_rows(bulk.read_csv_entries(upload.path))
            )
        finally:
            await upload.discard()
    else:
        data = await read_body(request, BulkEnrollBody)
        course = await bulk.access_bulk_course(
            session(request), actor=actor(request), course_id=data.course
        )
        entries = bulk.json_entries(data.user_ids)
        valid, errors = await asyncio.to_thread(bulk.check_bulk_rows, entries)
    job = await bulk.do_start_bulk_enrollment(
        session(request), actor=actor(request), course=course, valid=valid, errors=errors
    )
    return ok(await job_body(session(request), job), status=202)


@routes.read(ENROLLMENTS, tag=TAG, query=EnrollmentQuery, response=EnrollmentRead, paginated=True)
async def list_enrollments(request: web.Request) -> web.Response:
    """My enrollments; admins see all (filter by `course`), instructors those of their courses."""
    query = read_query(request, EnrollmentQuery)
    result = await enrollments.enrollment_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    return ok(page_body(request, result, [enrollment_fields(e) for e in result.rows]))


@routes.read(ENROLLMENT, tag=TAG, response=EnrollmentRead)
async def get_enrollment(request: web.Request) -> web.Response:
    """Retrieve an enrollment."""
    enrollment = await enrollments.access_enrollment(
        session(request), actor=actor(request), enrollment_id=path_id(request, "enrollment_id")
    )
    return ok(await enrollment_body(session(request), enrollment))


async def _update_enrollment(request: web.Request) -> web.Response:
    data = await read_update(request, EnrollmentReplace, EnrollmentUpdate)
    enrollment = await enrollments.access_enrollment(
        session(request),
        actor=actor(request),
        enrollment_id=path_id(request, "enrollment_id"),
        for_change=True,
    )
    enrollments.check_enrollment_change(actor(request), enrollment, data.is_active)
    enrollment = await enrollments.do_set_enrollment_active(
        session(request), enrollment=enrollment, is_active=data.is_active
    )
    return ok(await enrollment_body(session(request), enrollment))


routes.update_routes(
    ENROLLMENT,
    tag=TAG,
    partial=EnrollmentUpdate,
    whole=EnrollmentReplace,
    response=EnrollmentRead,
    summary="Activate or deactivate an enrollment",
)(_update_enrollment)


@routes.route("DELETE", ENROLLMENT, tag=TAG, status=204)
async def leave_course(request: web.Request) -> web.Response:
    """Leave a course: the enrollment is deactivated, its progress kept."""
    enrollment = await enrollments.access_enrollment(
        session(request),
        actor=actor(request),
        enrollment_id=path_id(request, "enrollment_id"),
        for_change=True,
    )
    await enrollments.do_set_enrollment_active(
        session(request), enrollment=enrollment, is_active=False
    )
    return no_content()


@routes.route(
    "POST",
    RATINGS + r"course/{course_id:[0-9]+}/",
    tag=TAG,
    body=RatingBody,
    response=RatingRead,
    status=201,
    also=(200,),
)
async def rate_course(request: web.Request) -> web.Response:
    """Rate a course I am enrolled in: 201 the first time, 200 when it updates my rating."""
    data = await read_body(request, RatingBody)
    course = await courses.access_course(
        session(request), actor=actor(request), course_id=path_id(request, "course_id")
    )
    await ratings.check_rater(session(request), actor=actor(request), course=course)
    rating, created = await ratings.do_rate_course(
        session(request), actor=actor(request), course=course, data=data
    )
    return ok(await _rating_body(session(request), rating), status=201 if created else 200)


@routes.read(RATINGS, tag=TAG, query=RatingQuery, response=RatingRead, paginated=True)
async def list_ratings(request: web.Request) -> web.Response:
    """List ratings of the courses I can see (filter by `course`)."""
    query = read_query(request, RatingQuery)
    stmt = ratings.ratings_query(actor(request), query)
    return ok(
        await paginated(
            request,
            session(request),
            stmt,
            lambda r: render(RatingRead, with_people(r, user_id=PERSON)),
        )
    )


@routes.read(RATING, tag=TAG, response=RatingRead)
async def get_rating(request: web.Request) -> web.Response:
    """Retrieve a rating."""
    rating = await ratings.access_rating(
        session(request), actor=actor(request), rating_id=path_id(request, "rating_id")
    )
    return ok(await _rating_body(session(request), rating))


async def _update_rating(request: web.Request) -> web.Response:
    data = await read_update(request, RatingBody, RatingUpdate)
    rating = await ratings.access_rating(
        session(request),
        actor=actor(request),
        rating_id=path_id(request, "rating_id"),
        for_change=True,
    )
    rating = await ratings.do_update_rating(
        session(request), rating=rating, changes=check_changes(data)
    )
    return ok(await _rating_body(session(request), rating))


routes.update_routes(
    RATING,
    tag=TAG,
    partial=RatingUpdate,
    whole=RatingBody,
    response=RatingRead,
    summary="Change my rating",
)(_update_rating)


@routes.route("DELETE", RATING, tag=TAG, status=204)
async def delete_rating(request: web.Request) -> web.Response:
    """Delete my rating (admins any)."""
    rating = await ratings.access_rating(
        session(request),
        actor=actor(request),
        rating_id=path_id(request, "rating_id"),
        for_change=True,
    )
    await ratings.do_delete_rating(session(request), rating=rating)
    return no_content()
