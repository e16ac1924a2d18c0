"""Routes: modules, lessons (with file uploads, downloads and completion) and resources.

A lesson's file is downloaded, by whoever may read the lesson's content, from
`lessons/{id}/file/` with a token, or without one from a short-lived signed link that
`lessons/{id}/file-link/` makes (for a browser's `<a href>`, which sends no token). Both
send it as an attachment under the name it was uploaded with.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from models.courses import enrollments, structure
from models.courses.schemas import (
    EnrollmentRead,
    FileLinkRead,
    LessonCreate,
    LessonQuery,
    LessonRead,
    LessonUpdate,
    ModuleCreate,
    ModuleQuery,
    ModuleRead,
    ModuleUpdate,
    ResourceCreate,
    ResourceQuery,
    ResourceRead,
    ResourceUpdate,
)
from models.courses.tables import Course, Lesson
from models.errors import PermissionDenied
from models.validation import check_changes
from web.enrollments import enrollment_body
from web.handlers import (
    actor,
    no_content,
    ok,
    open_unit,
    path_id,
    read_update,
    render,
    session,
    unit_of_work,
)
from web.jsonio import read_body, read_query
from web.keys import SETTINGS, TENANTS
from web.media import download_response, remove_media_later, remove_media_on_rollback
from web.pagination import page_body, page_request, paginated
from web.routing import RouteTable
from web.uploads import receive_file

routes = RouteTable()
TAG = "courses"
MODULES = "/api/lms/courses/modules/"
MODULE = MODULES + r"{module_id:[0-9]+}/"
LESSONS = "/api/lms/courses/lessons/"
LESSON = LESSONS + r"{lesson_id:[0-9]+}/"
RESOURCES = "/api/lms/courses/resources/"
RESOURCE = RESOURCES + r"{resource_id:[0-9]+}/"
# Signed links need no token: the prefix is public (web/middlewares.py), the signature is
# the credential, and the tenant is part of what it signs.
FILE_LINKS = "/api/lms/files/"
SIGNED_FILE = (
    FILE_LINKS
    + r"{tenant:[a-z][a-z0-9_]{1,40}}/lessons/{lesson_id:[0-9]+}/"
    + r"{file_key:[0-9a-f]{32}(\.[A-Za-z0-9]{1,10})?}"
)
_EXPIRES = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def lesson_file_url(lesson_id: int) -> str:
    return f"{LESSONS}{lesson_id}/file/"


def lesson_body(
    lesson: Lesson, *, with_content: bool, completed_at: datetime | None = None
) -> dict[str, Any]:
    """A lesson as its caller sees it: its content if they may read it, and whether (and
    when) they completed it."""
    fields = {
        name: getattr(lesson, name)
        for name in (
            "id",
            "module_id",
            "course_id",
            "title",
            "description",
            "lesson_type",
            "duration_minutes",
            "order",
            "created_at",
        )
    }
    fields["content"] = lesson.content if with_content else None
    has_file = with_content and lesson.file is not None
    fields["file"] = lesson_file_url(lesson.id) if has_file else None
    fields["file_name"] = structure.download_name(lesson) if has_file else None
    fields["completed"] = completed_at is not None
    fields["completed_at"] = completed_at
    return render(LessonRead, fields)


async def _lesson_response(request: web.Request, lesson: Lesson, course: Course) -> dict[str, Any]:
    state = await structure.lesson_state(
        session(request), actor=actor(request), lesson=lesson, course=course
    )
    return lesson_body(lesson, with_content=state.readable, completed_at=state.completed_at)


# Modules


@routes.read(MODULES, tag=TAG, query=ModuleQuery, response=ModuleRead, paginated=True)
async def list_modules(request: web.Request) -> web.Response:
    """List modules of the courses I can see, in order."""
    query = read_query(request, ModuleQuery)
    stmt = structure.modules_query(actor(request), query)
    return ok(await paginated(request, session(request), stmt, lambda m: render(ModuleRead, m)))


@routes.route("POST", MODULES, tag=TAG, body=ModuleCreate, response=ModuleRead, status=201)
async def create_module(request: web.Request) -> web.Response:
    """Add a module to a course (its instructor or an admin)."""
    data = await read_body(request, ModuleCreate)
    course = await structure.access_parent_course(
        session(request), actor=actor(request), course_id=data.course
    )
    module = await structure.do_create_module(session(request), course=course, data=data)
    return ok(render(ModuleRead, module), status=201)


@routes.read(MODULE, tag=TAG, response=ModuleRead)
async def get_module(request: web.Request) -> web.Response:
    """Retrieve a module."""
    module = await structure.access_module(
        session(request), actor=actor(request), module_id=path_id(request, "module_id")
    )
    return ok(render(ModuleRead, module))


async def _update_module(request: web.Request) -> web.Response:
    data = await read_update(request, ModuleCreate, ModuleUpdate)
    module = await structure.access_module(
        session(request),
        actor=actor(request),
        module_id=path_id(request, "module_id"),
        for_change=True,
    )
    module = await structure.do_update_module(
        session(request), module=module, changes=check_changes(data)
    )
    return ok(render(ModuleRead, module))


routes.update_routes(
    MODULE,
    tag=TAG,
    partial=ModuleUpdate,
    whole=ModuleCreate,
    response=ModuleRead,
    summary="Change a module",
)(_update_module)


@routes.route("DELETE", MODULE, tag=TAG, status=204)
async def delete_module(request: web.Request) -> web.Response:
    """Delete a module and its lessons."""
    module = await structure.access_module(
        session(request),
        actor=actor(request),
        module_id=path_id(request, "module_id"),
        for_change=True,
    )
    files = await structure.do_delete_module(session(request), module=module)
    remove_media_later(request, *files)
    return no_content()


# Lessons


@routes.read(LESSONS, tag=TAG, query=LessonQuery, response=LessonRead, paginated=True)
async def list_lessons(request: web.Request) -> web.Response:
    """List lessons; content only for enrollees, the instructor and admins."""
    query = read_query(request, LessonQuery)
    result = await structure.lesson_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    rows = [
        lesson_body(lesson, with_content=bool(readable), completed_at=completed_at)
        for lesson, completed_at, readable, _ in result.rows
    ]
    return ok(page_body(request, result, rows))


@routes.route("POST", LESSONS, tag=TAG, body=LessonCreate, response=LessonRead, status=201)
async def create_lesson(request: web.Request) -> web.Response:
    """Add a lesson to a module (the course's instructor or an admin)."""
    data = await read_body(request, LessonCreate)
    module = await structure.access_parent_module(
        session(request), actor=actor(request), module_id=data.module
    )
    lesson = await structure.do_create_lesson(
        session(request), actor=actor(request), module=module, data=data
    )
    return ok(lesson_body(lesson, with_content=True), status=201)


@routes.read(LESSON, tag=TAG, response=LessonRead)
async def get_lesson(request: web.Request) -> web.Response:
    """Retrieve a lesson."""
    lesson, course = await structure.access_lesson(
        session(request), actor=actor(request), lesson_id=path_id(request, "lesson_id")
    )
    return ok(await _lesson_response(request, lesson, course))


async def _update_lesson(request: web.Request) -> web.Response:
    data = await read_update(request, LessonCreate, LessonUpdate)
    lesson, course = await structure.access_lesson(
        session(request),
        actor=actor(request),
        lesson_id=path_id(request, "lesson_id"),
        for_change=True,
    )
    lesson = await structure.do_update_lesson(
        session(request), lesson=lesson, changes=check_changes(data)
    )
    return ok(await _lesson_response(request, lesson, course))


routes.update_routes(
    LESSON,
    tag=TAG,
    partial=LessonUpdate,
    whole=LessonCreate,
    response=LessonRead,
    summary="Change a lesson",
)(_update_lesson)


@routes.route("DELETE", LESSON, tag=TAG, status=204)
async def delete_lesson(request: web.Request) -> web.Response:
    """Delete a lesson; enrollments' progress is recomputed."""
    lesson, _ = await structure.access_lesson(
        session(request),
        actor=actor(request),
        lesson_id=path_id(request, "lesson_id"),
        for_change=True,
    )
    file = await structure.do_delete_lesson(session(request), lesson=lesson)
    remove_media_later(request, file)
    return no_content()


@routes.route("POST", LESSON + "upload-file/", tag=TAG, response=LessonRead, multipart=True)
async def upload_lesson_file(request: web.Request) -> web.Response:
    """Upload a lesson's file (at most 100 MB, streamed to disk)."""
    settings = request.app[SETTINGS]
    uow = unit_of_work(request)
    lesson, course = await structure.access_lesson(
        uow.session, actor=actor(request), lesson_id=path_id(request, "lesson_id"), for_change=True
    )
    stored = await receive_file(
        request,
        media_root=settings.media_root,
        folder=f"{uow.tenant}/lessons/{lesson.id}/files",
        max_bytes=settings.lesson_file_max_bytes,
    )
    remove_media_on_rollback(request, stored.relative_path)
    old = await structure.do_set_lesson_file(
        uow.session, lesson=lesson, path=stored.relative_path, name=stored.original_name
    )
    remove_media_later(request, old)
    return ok(await _lesson_response(request, lesson, course))


@routes.read(LESSON + "file/", tag=TAG, media_type="application/octet-stream", errors=(404,))
async def download_lesson_file(request: web.Request) -> web.StreamResponse:
    """Download a lesson's file (enrollees, the instructor, admins), under its upload name."""
    lesson = await structure.access_lesson_file(
        session(request), actor=actor(request), lesson_id=path_id(request, "lesson_id")
    )
    assert lesson.file is not None  # access_lesson_file guarantees it
    return await download_response(request, lesson.file, structure.download_name(lesson))


@routes.read(LESSON + "file-link/", tag=TAG, response=FileLinkRead, errors=(404,))
async def lesson_file_link(request: web.Request) -> web.Response:
    """A link to the lesson's file that works without a token, for a few minutes.

    For a browser's `<a href>`, which cannot send the token. Whoever holds the link can
    download the file until it expires (LMS_LESSON_FILE_LINK_SECONDS); replacing or
    deleting the file ends it sooner.
    """
    uow = unit_of_work(request)
    lesson = await structure.access_lesson_file(
        uow.session, actor=actor(request), lesson_id=path_id(request, "lesson_id")
    )
    link = structure.make_file_link(
        request.app[SETTINGS], tenant=uow.tenant, lesson=lesson, now=time.time()
    )
    url = (
        f"{FILE_LINKS}{uow.tenant}/lessons/{lesson.id}/{link.file_key}"
        f"?exp={link.expires}&sig={link.signature}"
    )
    return ok(render(FileLinkRead, {"url": url, "expires_at": link.expires_at}))


@routes.route(
    "GET",
    SIGNED_FILE,
    tag=TAG,
    public=True,
    media_type="application/octet-stream",
    errors=(403,),
)
async def download_linked_lesson_file(request: web.Request) -> web.StreamResponse:
    """Download a lesson's file through a signed link (`exp`, `sig`), without a token."""
    tenant, lesson_id = request.match_info["tenant"], path_id(request, "lesson_id")
    file_key = request.match_info["file_key"]
    expires, signature = request.query.get("exp", ""), request.query.get("sig", "")
    if not (_EXPIRES.fullmatch(expires) and _SIGNATURE.fullmatch(signature)):
        raise PermissionDenied(structure.INVALID_LINK)
    structure.check_file_link(
        request.app[SETTINGS],
        tenant=tenant,
        lesson_id=lesson_id,
        file_key=file_key,
        expires=int(expires),
        signature=signature,
        now=time.time(),
    )
    # Signed for this tenant: on a domain of another, it is not a link this service made.
    host_tenant = await request.app[TENANTS].tenant_for_host(request.host or "")
    if host_tenant not in (None, tenant) or not await request.app[TENANTS].exists(tenant):
        raise PermissionDenied(structure.INVALID_LINK)
    async with open_unit(request.app, tenant, read_only=True) as uow:
        lesson = await structure.access_linked_lesson_file(
            uow.session, lesson_id=lesson_id, file_key=file_key
        )
    assert lesson.file is not None  # access_linked_lesson_file guarantees it
    return await download_response(request, lesson.file, structure.download_name(lesson))


@routes.route("POST", LESSON + "complete/", tag=TAG, response=EnrollmentRead)
async def complete_lesson(request: web.Request) -> web.Response:
    """Mark a lesson complete; answers the enrollment with its new progress."""
    lesson, course, enrollment = await enrollments.access_lesson_enrollment(
        session(request), actor=actor(request), lesson_id=path_id(request, "lesson_id")
    )
    enrollment = await enrollments.do_complete_lesson(
        session(request), actor=actor(request), lesson=lesson, course=course, enrollment=enrollment
    )
    return ok(await enrollment_body(session(request), enrollment))


@routes.route("POST", LESSON + "view/", tag=TAG, response=EnrollmentRead, errors=(404,))
async def view_lesson(request: web.Request) -> web.Response:
    """Note the lesson as where I resume the course; answers my enrollment, its
    `last_lesson_id` now this lesson. 404 unless I am enrolled in the lesson's course."""
    lesson, enrollment = await enrollments.access_lesson_to_view(
        session(request), actor=actor(request), lesson_id=path_id(request, "lesson_id")
    )
    enrollment = await enrollments.do_view_lesson(
        session(request), lesson=lesson, enrollment=enrollment
    )
    return ok(await enrollment_body(session(request), enrollment))


# Resources


@routes.read(RESOURCES, tag=TAG, query=ResourceQuery, response=ResourceRead, paginated=True)
async def list_resources(request: web.Request) -> web.Response:
    """List the resources of lessons whose content I may read."""
    query = read_query(request, ResourceQuery)
    stmt = structure.resources_query(actor(request), query)
    return ok(await paginated(request, session(request), stmt, lambda r: render(ResourceRead, r)))


@routes.route("POST", RESOURCES, tag=TAG, body=ResourceCreate, response=ResourceRead, status=201)
async def create_resource(request: web.Request) -> web.Response:
    """Add a resource (a link) to a lesson."""
    data = await read_body(request, ResourceCreate)
    lesson, _ = await structure.access_parent_lesson(
        session(request), actor=actor(request), lesson_id=data.lesson
    )
    resource = await structure.do_create_resource(session(request), lesson=lesson, data=data)
    return ok(render(ResourceRead, resource), status=201)


@routes.read(RESOURCE, tag=TAG, response=ResourceRead)
async def get_resource(request: web.Request) -> web.Response:
    """Retrieve a lesson resource (404 unless I may read the lesson's content)."""
    resource = await structure.access_resource(
        session(request), actor=actor(request), resource_id=path_id(request, "resource_id")
    )
    return ok(render(ResourceRead, resource))


async def _update_resource(request: web.Request) -> web.Response:
    data = await read_update(request, ResourceCreate, ResourceUpdate)
    resource = await structure.access_resource(
        session(request),
        actor=actor(request),
        resource_id=path_id(request, "resource_id"),
        for_change=True,
    )
    resource = await structure.do_update_resource(
        session(request), resource=resource, changes=check_changes(data)
    )
    return ok(render(ResourceRead, resource))


routes.update_routes(
    RESOURCE,
    tag=TAG,
    partial=ResourceUpdate,
    whole=ResourceCreate,
    response=ResourceRead,
    summary="Change a resource",
)(_update_resource)


@routes.route("DELETE", RESOURCE, tag=TAG, status=204)
async def delete_resource(request: web.Request) -> web.Response:
    """Delete a lesson resource."""
    resource = await structure.access_resource(
        session(request),
        actor=actor(request),
        resource_id=path_id(request, "resource_id"),
        for_change=True,
    )
    await structure.do_delete_resource(session(request), resource=resource)
    return no_content()
