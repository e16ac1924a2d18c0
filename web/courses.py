"""Routes: categories and courses (with thumbnail uploads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses import notifications
from models.courses import operations as courses
from models.courses.catalogue import catalogue_page
from models.courses.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    CategoryCreate,
    CategoryQuery,
    CategoryRead,
    CategoryUpdate,
    CourseCreate,
    CourseQuery,
    CourseRead,
    CourseSummary,
    CourseUpdate,
)
from models.courses.tables import Announcement, Course
from models.fields import cents_to_money
from models.people.names import PersonFields, named, person, person_at, with_people
from models.validation import check_changes
from web.handlers import (
    actor,
    no_content,
    ok,
    path_id,
    read_update,
    reads,
    render,
    session,
    unit_of_work,
)
from web.jsonio import read_body, read_query
from web.keys import SETTINGS
from web.media import media_url, remove_media_later, remove_media_on_rollback
from web.pagination import page_body, page_request, paginated
from web.routing import SEARCH, RouteTable
from web.uploads import receive_image

routes = RouteTable()
TAG = "courses"
CATEGORIES = "/api/lms/courses/categories/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
CATEGORY = CATEGORIES + r"{category_id:[0-9]+}/"
COURSES = "/api/lms/courses/courses/"
COURSE = COURSES + r"{course_id:[0-9]+}/"


def catalogue_row(row: Sequence[Any]) -> dict[str, Any]:
    """A catalogue row as CourseSummary renders it, built directly (the hottest list).

    `tests/api/test_catalogue_rows.py` holds it to the detail's rendering of the same fields.
    """
    # Unpacked by position (models/courses/catalogue.py ROW_COLUMNS): the fastest access.
    (_id, title, slug, code, level, status, price, discount, currency, thumbnail, created) = row[
        :11
    ]
    return {
        "id": _id,
        "title": title,
        "slug": slug,
        "code": code,
        "level": level,
        "status": status,
        "current_price": cents_to_money(price if discount is None else discount),
        "currency": currency,
        "thumbnail": media_url(thumbnail),
        "created_at": created,  # orjson writes UTC as ...Z (web/jsonio.py)
    }


async def _announcement_body(session: AsyncSession, announcement: Announcement) -> dict[str, Any]:
    await named(session, [announcement])
    return render(AnnouncementRead, with_people(announcement))


async def course_detail(session: AsyncSession, course: Course) -> dict[str, Any]:
    await named(session, [course])  # loaded with the course
    return render(CourseRead, _course_fields(course, person_at(course, "instructor_id")))


def new_course_detail(course: Any, instructor: PersonFields) -> dict[str, Any]:
    """A course just made, from its row (or its values) and its instructor's name object."""
    return render(CourseRead, _course_fields(course, instructor))


def _course_fields(course: Any, instructor: PersonFields | None) -> dict[str, Any]:
    discount = course.discount_price_cents
    return {
        **{
            name: getattr(course, name) for name in CourseRead.model_fields if hasattr(course, name)
        },
        "current_price": cents_to_money(course.price_cents if discount is None else discount),
        "price": cents_to_money(course.price_cents),
        "discount_price": (
            cents_to_money(course.discount_price_cents)
            if course.discount_price_cents is not None
            else None
        ),
        "thumbnail": media_url(course.thumbnail),
        "instructor": instructor,
    }


@routes.read(
    CATEGORIES,
    tag=TAG,
    query=CategoryQuery,
    response=CategoryRead,
    paginated=True,
    expensive=SEARCH,
)
async def list_categories(request: web.Request) -> web.Response:
    """List categories."""
    query = read_query(request, CategoryQuery)
    stmt = courses.categories_query(query)
    return ok(await paginated(request, session(request), stmt, lambda c: render(CategoryRead, c)))


@routes.route("POST", CATEGORIES, tag=TAG, body=CategoryCreate, response=CategoryRead, status=201)
async def create_category(request: web.Request) -> web.Response:
    """Create a category (instructors and admins)."""
    courses.check_author(actor(request))  # as DRF: permission before the body is read
    data = await read_body(request, CategoryCreate)
    category = await courses.do_create_category(session(request), data=data)
    return ok(render(CategoryRead, category), status=201)


@routes.read(CATEGORY, tag=TAG, response=CategoryRead)
async def get_category(request: web.Request) -> web.Response:
    """Retrieve a category."""
    category = await courses.access_category(
        session(request), category_id=path_id(request, "category_id")
    )
    return ok(render(CategoryRead, category))


async def _update_category(request: web.Request) -> web.Response:
    courses.check_category_admin(actor(request))  # before the body is read, as DRF does
    category = await courses.access_category(
        session(request), category_id=path_id(request, "category_id")
    )
    data = await read_update(request, CategoryCreate, CategoryUpdate)
    category = await courses.do_update_category(
        session(request), category=category, changes=check_changes(data)
    )
    return ok(render(CategoryRead, category))


routes.update_routes(
    CATEGORY,
    tag=TAG,
    partial=CategoryUpdate,
    whole=CategoryCreate,
    response=CategoryRead,
    summary="Change a category (admins)",
)(_update_category)


@routes.route("DELETE", CATEGORY, tag=TAG, status=204, errors=(409,))
async def delete_category(request: web.Request) -> web.Response:
    """Delete a category (admins); one that courses use is a 409."""
    courses.check_category_admin(actor(request))
    category = await courses.access_category_for_delete(
        session(request), category_id=path_id(request, "category_id")
    )
    await courses.do_delete_category(session(request), category=category)
    return no_content()


@routes.read(
    COURSES,
    tag=TAG,
    query=CourseQuery,
    response=CourseSummary,
    paginated=True,
    expensive=SEARCH,
)
async def list_courses(request: web.Request) -> web.Response:
    """List courses: published ones, an instructor's own, all for admins."""
    query = read_query(request, CourseQuery)
    result = await catalogue_page(
        reads(request), actor=actor(request), query=query, page=page_request(request)
    )
    return ok(page_body(request, result, [catalogue_row(row) for row in result.rows]))


@routes.route("POST", COURSES, tag=TAG, body=CourseCreate, response=CourseRead, status=201)
async def create_course(request: web.Request) -> web.Response:
    """Create a course (instructors and admins)."""
    courses.check_author(actor(request))  # as DRF: permission before the body is read
    data = await read_body(request, CourseCreate)
    new = await courses.check_new_course(
        session(request), reads(request), actor=actor(request), data=data
    )
    course = await courses.do_create_course(session(request), actor=actor(request), new=new)
    return ok(new_course_detail(course, new.instructor), status=201)


@routes.read(COURSE, tag=TAG, response=CourseRead)
async def get_course(request: web.Request) -> web.Response:
    """Retrieve a course."""
    course = await courses.access_course(
        session(request), actor=actor(request), course_id=path_id(request, "course_id")
    )
    return ok(await course_detail(session(request), course))


async def _update_course(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    course = await courses.access_course(
        session(request),
        actor=actor(request),
        course_id=path_id(request, "course_id"),
        for_change=True,
    )
    data = await read_update(request, CourseCreate, CourseUpdate)
    change = await courses.check_course_update(
        session(request), actor=actor(request), course=course, data=data
    )
    course = await courses.do_update_course(
        session(request), actor=actor(request), course=course, change=change
    )
    return ok(await course_detail(session(request), course))


routes.update_routes(
    COURSE,
    tag=TAG,
    partial=CourseUpdate,
    whole=CourseCreate,
    response=CourseRead,
    summary="Change a course (its instructor or an admin)",
)(_update_course)


@routes.route("DELETE", COURSE, tag=TAG, status=204)
async def delete_course(request: web.Request) -> web.Response:
    """Delete a course (its instructor or an admin)."""
    course = await courses.access_course(
        session(request),
        actor=actor(request),
        course_id=path_id(request, "course_id"),
        for_change=True,
    )
    files = await courses.do_delete_course(session(request), actor=actor(request), course=course)
    remove_media_later(request, *files)
    return no_content()


@routes.route("POST", COURSE + "upload-thumbnail/", tag=TAG, response=CourseRead, multipart=True)
async def upload_thumbnail(request: web.Request) -> web.Response:
    """Upload a course thumbnail: JPEG, PNG or WebP, at most 5 MB and 40 megapixels."""
    settings = request.app[SETTINGS]
    uow = unit_of_work(request)
    # Permission first: nothing is read from the body of a request that may not change the course.
    course = await courses.access_course(
        uow.session, actor=actor(request), course_id=path_id(request, "course_id"), for_change=True
    )
    stored = await receive_image(
        request,
        media_root=settings.media_root,
        folder=f"{uow.tenant}/courses/{course.id}/thumbnails",
        max_bytes=settings.thumbnail_max_bytes,
        max_pixels=settings.thumbnail_max_pixels,
    )
    remove_media_on_rollback(request, stored.relative_path)
    old = await courses.do_set_course_thumbnail(
        uow.session, course=course, path=stored.relative_path
    )
    remove_media_later(request, old)
    return ok(await course_detail(session(request), course))


@routes.route(
    "POST",
    COURSE + "announce/",
    tag=TAG,
    body=AnnouncementCreate,
    response=AnnouncementRead,
    status=201,
    audit="course_announcement_created",
)
async def announce(request: web.Request) -> web.Response:
    """Announce to a course's enrolled users, live on its notifications socket."""
    course_id = path_id(request, "course_id")
    # As DRF: 404 and 403 come before anything in the body is looked at.
    course = await courses.access_course(
        session(request), actor=actor(request), course_id=course_id, for_change=True
    )
    data = await read_body(request, AnnouncementCreate)
    announcement = await notifications.do_announce(
        session(request), actor=actor(request), course=course, data=data
    )
    return ok(await _announcement_body(session(request), announcement), status=201)


def announcement_row(row: Sequence[Any]) -> dict[str, Any]:
    """A page row (models/courses/notifications.py ANNOUNCEMENT_COLUMNS) as
    AnnouncementRead renders it, built directly."""
    (_id, course_id, title, message, created_by, created_at, name, picture) = row[:8]
    return {
        "id": _id,
        "course_id": course_id,
        "title": title,
        "message": message,
        "created_by": created_by,
        "created_by_person": person(created_by, name, picture),
        "created_at": created_at,  # orjson writes UTC as ...Z (web/jsonio.py)
    }


@routes.read(COURSE + "announcements/", tag=TAG, response=AnnouncementRead, paginated=True)
async def list_announcements(request: web.Request) -> web.Response:
    """A course's announcements, newest first (whoever sees the course)."""
    result = await notifications.announcement_page(
        reads(request),
        session(request),
        actor=actor(request),
        course_id=path_id(request, "course_id"),
        page=page_request(request),
    )
    return ok(page_body(request, result, [announcement_row(row) for row in result.rows]))
