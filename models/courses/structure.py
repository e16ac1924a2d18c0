"""Modules, lessons and lesson resources: a course's outline and its content.

The outline (modules, lesson titles, types, durations) is public with the course. A lesson's
content is for those who may read it (active enrollees, the course's instructor, admins):
its text, its file and its resources (links, which may themselves be signed URLs to paid
material). Everyone else gets `null` content and file in lessons, no resources in lists
and a 404 for a resource or a file, as for something that does not exist.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    delete,
    exists,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from models.courses import file_links
from models.courses.events import notify_course
from models.courses.operations import access_course, check_course_access, row_with_course
from models.courses.progress import refresh_course_progress
from models.courses.schemas import (
    LessonCreate,
    LessonQuery,
    ModuleCreate,
    ModuleQuery,
    ResourceCreate,
    ResourceQuery,
)
from models.courses.tables import (
    Course,
    Enrollment,
    Lesson,
    LessonCompletion,
    LessonResource,
    Module,
)
from models.courses.visibility import (
    COURSES,
    can_change_course,
    course_visible,
    visible_courses,
    visible_in,
)
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.grades.tables import GradeItem
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.notifications.operations import Enrollees, notify_users
from models.quizzes.tables import Quiz
from models.settings import Settings

FILE_NAME_MAX_LENGTH = 255


async def content_course_ids(
    session: AsyncSession, *, actor: Principal, course_ids: set[int]
) -> set[int]:
    """Of these courses, those whose lesson content the actor may read.

    The outline (titles, types, durations) is public with the course; the content is for
    active enrollees, the course's instructor and admins.
    """
    if actor.is_admin or not course_ids:
        return set(course_ids)
    own = select(Course.id).where(Course.id.in_(course_ids), Course.instructor_id == actor.user_id)
    enrolled = select(Enrollment.course_id).where(
        Enrollment.course_id.in_(course_ids),
        Enrollment.user_id == actor.user_id,
        Enrollment.is_active.is_(True),
    )
    return set((await session.scalars(own.union(enrolled))).all())


async def may_read_content(session: AsyncSession, *, actor: Principal, course: Course) -> bool:
    if actor.is_admin or course.instructor_id == actor.user_id:
        return True
    return course.id in await content_course_ids(session, actor=actor, course_ids={course.id})


def content_readable_filter(actor: Principal) -> ColumnElement[bool]:
    """`content_course_ids` as a condition on `Course`, for lists."""
    if actor.is_admin:
        return true()
    enrolled = exists().where(
        Enrollment.course_id == Course.id,
        Enrollment.user_id == actor.user_id,
        Enrollment.is_active.is_(True),
    )
    return or_(Course.instructor_id == actor.user_id, enrolled)


async def _course_or_field_error(
    session: AsyncSession, *, actor: Principal, course_id: int, field: str, pk: int
) -> Course:
    """A parent named in a body that does not exist (for this actor) is a 400 on that field;
    one the actor sees but may not change, a 403.

    `pk` is the id the client sent in `field` (a module's or lesson's, not the course's).
    """
    try:
        return await access_course(session, actor=actor, course_id=course_id, for_change=True)
    except NotFound:
        raise ValidationFailed.field(field, invalid_pk(pk)) from None


async def access_parent_course(
    session: AsyncSession, *, actor: Principal, course_id: int
) -> Course:
    """The course a new module names in `course`, if the actor may change it."""
    return await _course_or_field_error(
        session, actor=actor, course_id=course_id, field="course", pk=course_id
    )


# The row a new lesson (a module) or a new resource (a lesson) names as its parent.
ParentT = TypeVar("ParentT", Module, Lesson)


async def _parent_row(
    session: AsyncSession, *, actor: Principal, model: type[ParentT], pk: int, field: str
) -> tuple[ParentT, Course]:
    found = await row_with_course(session, model, pk)
    if found is None or not course_visible(actor, found[1]):
        raise ValidationFailed.field(field, invalid_pk(pk))
    row, course = found
    if not can_change_course(actor, course):
        raise PermissionDenied()
    return row, course


async def access_parent_module(
    session: AsyncSession, *, actor: Principal, module_id: int
) -> Module:
    """The module a new lesson names in `module`, if the actor may change its course."""
    module, _ = await _parent_row(session, actor=actor, model=Module, pk=module_id, field="module")
    return module


async def access_parent_lesson(
    session: AsyncSession, *, actor: Principal, lesson_id: int
) -> tuple[Lesson, Course]:
    """The lesson a new resource names in `lesson`, and its course, if the actor may change
    that course."""
    return await _parent_row(session, actor=actor, model=Lesson, pk=lesson_id, field="lesson")


# Modules


MODULES = Listing(
    filters={"course": Module.course_id}, default=(Module.course_id, Module.order, Module.id)
)


def modules_query(actor: Principal, query: ModuleQuery) -> Select[Any]:
    stmt = select(Module).join(Course, Course.id == Module.course_id)
    return MODULES.apply(stmt.where(visible_courses(actor)), query)


async def access_module(
    session: AsyncSession, *, actor: Principal, module_id: int, for_change: bool = False
) -> Module:
    module = await session.get(Module, module_id)
    if module is None:
        raise NotFound()
    await access_course(session, actor=actor, course_id=module.course_id, for_change=for_change)
    return module


async def do_create_module(session: AsyncSession, *, course: Course, data: ModuleCreate) -> Module:
    """Add a module to the course `access_parent_course` returned."""
    module = Module(
        course_id=course.id, title=data.title, description=data.description, order=data.order
    )
    session.add(module)
    await session.flush()
    return module


async def do_update_module(
    session: AsyncSession, *, module: Module, changes: dict[str, Any]
) -> Module:
    """Apply checked changes to a module `access_module(for_change=True)` returned."""
    for field, value in changes.items():
        setattr(module, field, value)
    await session.flush()
    return module


async def do_delete_module(session: AsyncSession, *, module: Module) -> list[str]:
    """Delete a module (its lessons go with it); returns their files, to remove after commit."""
    course_id = module.course_id
    files = await session.scalars(
        select(Lesson.file).where(Lesson.module_id == module.id, Lesson.file.is_not(None))
    )
    orphaned = [path for path in files.all() if path]
    await _remove_quiz_grade_items(session, select(Lesson.id).where(Lesson.module_id == module.id))
    await session.delete(module)
    await session.flush()
    await refresh_course_progress(session, course_id=course_id)
    return orphaned


# Lessons


LESSONS = Listing(
    filters={"module": Lesson.module_id, "course": Lesson.course_id},
    # The course outline's order: modules by their `order`, then lessons by theirs.
    default=(Lesson.course_id, Module.order, Module.id, Lesson.order, Lesson.id),
)


# Built once: an alias is a mapped class of its own, costly to make for each request.
_MY_ENROLLMENT = aliased(Enrollment, name="my_enrollment")
_MY_COMPLETION = aliased(LessonCompletion, name="my_completion")


async def lesson_page(
    session: AsyncSession, *, actor: Principal, query: LessonQuery, page: PageRequest
) -> PageResult:
    """Rows of (lesson, when the actor completed it or None, whether the actor may read its
    content, the total): the actor's enrollment and completion are LEFT JOINed in (at most
    one row of each per lesson), so a page is one statement however many lessons it holds."""
    statement = functools.partial(_lessons_statement, actor.is_admin)
    params = {ACTOR_PARAM: actor.user_id}
    return await LESSONS.page_of(session, statement, query, page, params, whole_rows=True)


@functools.lru_cache(maxsize=256)
def _lessons_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    me: BindParameter[str] = bindparam(ACTOR_PARAM)
    mine, done = _MY_ENROLLMENT, _MY_COMPLETION
    readable = true() if is_admin else or_(Course.instructor_id == me, mine.is_active.is_(True))
    columns: tuple[Any, ...] = (Lesson, done.completed_at, readable.label("readable"))
    stmt = (
        select(*columns)
        .join(Course, Course.id == Lesson.course_id)
        .join(Module, Module.id == Lesson.module_id)
        .outerjoin(mine, and_(mine.course_id == Lesson.course_id, mine.user_id == me))
        .outerjoin(done, and_(done.enrollment_id == mine.id, done.lesson_id == Lesson.id))
        .where(visible_in(COURSES, is_admin=is_admin, user=me))
    )
    return LESSONS.apply_shape(counted(stmt), shape)


@dataclass(frozen=True, slots=True)
class LessonState:
    """A lesson as one actor sees it: may they read its content, and when they completed it."""

    readable: bool
    completed_at: datetime | None = None


async def lesson_state(
    session: AsyncSession, *, actor: Principal, lesson: Lesson, course: Course
) -> LessonState:
    """The actor's `LessonState` of a lesson of `course`, in one statement (their enrollment
    and its completion of the lesson)."""
    stmt = (
        select(Enrollment.is_active, LessonCompletion.completed_at)
        .outerjoin(
            LessonCompletion,
            and_(
                LessonCompletion.enrollment_id == Enrollment.id,
                LessonCompletion.lesson_id == lesson.id,
            ),
        )
        .where(Enrollment.user_id == actor.user_id, Enrollment.course_id == course.id)
    )
    row = (await session.execute(stmt)).one_or_none()
    enrolled = row is not None and bool(row.is_active)
    return LessonState(
        readable=enrolled or can_change_course(actor, course),
        completed_at=row.completed_at if row is not None else None,
    )


async def access_lesson(
    session: AsyncSession, *, actor: Principal, lesson_id: int, for_change: bool = False
) -> tuple[Lesson, Course]:
    """The lesson and its course in one statement, if the actor sees the course (404) and,
    for a change, may change it (403): `access_course`'s rule."""
    found = await row_with_course(session, Lesson, lesson_id)
    if found is None:
        raise NotFound()
    lesson, course = found
    check_course_access(actor, course, for_change=for_change)
    return lesson, course


async def do_create_lesson(
    session: AsyncSession, *, actor: Principal, module: Module, data: LessonCreate
) -> Lesson:
    """Add a lesson to the module `access_parent_module` returned; its course's enrollees
    find it in their inbox."""
    lesson = Lesson(
        module_id=module.id, course_id=module.course_id, **data.model_dump(exclude={"module"})
    )
    session.add(lesson)
    await session.flush()
    # A new lesson only lowers progress: it completes nobody.
    await refresh_course_progress(session, course_id=module.course_id, may_complete=False)
    notify_course(
        session,
        lesson.course_id,
        "lesson_created",
        {
            "course_id": lesson.course_id,
            "module_id": lesson.module_id,
            "lesson_id": lesson.id,
            "title": lesson.title,
            "lesson_type": lesson.lesson_type,
            "order": lesson.order,
        },
    )
    notify_users(
        session,
        actor_id=actor.user_id,
        event_key=f"lesson_created:{lesson.id}",
        type_="lesson_created",
        recipients=Enrollees(lesson.course_id),
        title=lesson.title,
        data={"course_id": lesson.course_id, "module_id": lesson.module_id, "lesson_id": lesson.id},
    )
    return lesson


async def do_update_lesson(
    session: AsyncSession, *, lesson: Lesson, changes: dict[str, Any]
) -> Lesson:
    """Apply checked changes to a lesson `access_lesson(for_change=True)` returned."""
    for field, value in changes.items():
        setattr(lesson, field, value)
    await session.flush()
    return lesson


async def do_delete_lesson(session: AsyncSession, *, lesson: Lesson) -> str | None:
    """Delete a lesson; returns its file, for the caller to remove after commit."""
    orphaned, course_id = lesson.file, lesson.course_id
    await _remove_quiz_grade_items(session, select(Lesson.id).where(Lesson.id == lesson.id))
    await session.delete(lesson)
    await session.flush()
    await refresh_course_progress(session, course_id=course_id)
    return orphaned


async def _remove_quiz_grade_items(session: AsyncSession, lesson_ids: Select[Any]) -> None:
    """The quizzes of these lessons go with them (ON DELETE CASCADE); their gradebook items,
    which name them by id only, are removed here, their grades with them."""
    quizzes = select(Quiz.id).where(Quiz.lesson_id.in_(lesson_ids))
    await session.execute(
        delete(GradeItem).where(GradeItem.kind == "quiz", GradeItem.source_id.in_(quizzes))
    )


def _file_name_character(c: str) -> str:
    category = unicodedata.category(c)
    if category == "Zs":
        return " "
    # Controls, format characters (a right-to-left override disguises an extension),
    # line and paragraph separators: none belongs in a name.
    return "" if category[0] == "C" or category in ("Zl", "Zp") else c


def clean_file_name(name: str | None) -> str | None:
    """The uploader's file name as it may be shown and sent back: no control characters
    (nor separators of lines), at most 255 characters, the extension kept when shortened."""
    if not name:
        return None
    kept = "".join(_file_name_character(c) for c in name).strip()
    if len(kept) > FILE_NAME_MAX_LENGTH:
        stem, dot, extension = kept.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            kept = stem[: FILE_NAME_MAX_LENGTH - len(extension) - 1] + "." + extension
        else:
            kept = kept[:FILE_NAME_MAX_LENGTH]
    return kept or None


async def do_set_lesson_file(
    session: AsyncSession, *, lesson: Lesson, path: str, name: str | None
) -> str | None:
    """Store the new file and its name; returns the old file, to remove after commit."""
    old, lesson.file, lesson.file_name = lesson.file, path, clean_file_name(name)
    await session.flush()
    return old


def download_name(lesson: Lesson) -> str:
    """The name a download is saved under: the uploader's, else one made from the lesson."""
    if lesson.file_name:
        return lesson.file_name
    extension = (lesson.file or "").rpartition("/")[2].rpartition(".")
    return f"lesson-{lesson.id}" + (f".{extension[2]}" if extension[1] else "")


async def access_lesson_file(session: AsyncSession, *, actor: Principal, lesson_id: int) -> Lesson:
    """A lesson with a file the actor may read; 404 otherwise, as a missing file would be."""
    lesson, course = await access_lesson(session, actor=actor, lesson_id=lesson_id)
    if lesson.file is None or not await may_read_content(session, actor=actor, course=course):
        raise NotFound()
    return lesson


INVALID_LINK = "This download link is not valid."
EXPIRED_LINK = "This download link has expired."


def make_file_link(
    settings: Settings, *, tenant: str, lesson: Lesson, now: float
) -> file_links.FileLink:
    """A link to the lesson's file that works without a token (the caller checked access)."""
    if lesson.file is None:
        raise NotFound()
    return file_links.sign_file_link(
        settings, tenant=tenant, lesson_id=lesson.id, stored_path=lesson.file, now=now
    )


def check_file_link(
    settings: Settings,
    *,
    tenant: str,
    lesson_id: int,
    file_key: str,
    expires: int,
    signature: str,
    now: float,
) -> None:
    """A link is honoured only unexpired and signed by us; checked before any lookup."""
    if file_links.is_expired(expires, now=now):
        raise PermissionDenied(EXPIRED_LINK)
    if not file_links.is_valid_signature(
        settings,
        tenant=tenant,
        lesson_id=lesson_id,
        file_key=file_key,
        expires=expires,
        signature=signature,
    ):
        raise PermissionDenied(INVALID_LINK)


async def access_linked_lesson_file(
    session: AsyncSession, *, lesson_id: int, file_key: str
) -> Lesson:
    """The lesson of a checked link, while the file it signs is still the lesson's (404
    once the file is replaced or the lesson deleted)."""
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.file is None or file_links.file_key_of(lesson.file) != file_key:
        raise NotFound()
    return lesson


# Resources


RESOURCES = Listing(filters={"lesson": LessonResource.lesson_id}, default=(LessonResource.id,))


def resources_query(actor: Principal, query: ResourceQuery) -> Select[Any]:
    """Resources of lessons whose content the actor may read; of any other lesson, none
    (`?lesson=` of such a lesson is an empty list, as for a lesson that has none)."""
    stmt = (
        select(LessonResource)
        .join(Lesson, Lesson.id == LessonResource.lesson_id)
        .join(Course, Course.id == Lesson.course_id)
        .where(visible_courses(actor), content_readable_filter(actor))
    )
    return RESOURCES.apply(stmt, query)


async def access_resource(
    session: AsyncSession, *, actor: Principal, resource_id: int, for_change: bool = False
) -> LessonResource:
    """A resource of a lesson whose content the actor may read (404 otherwise), and for a
    change, of a course the actor may change (403)."""
    resource = await session.get(LessonResource, resource_id)
    if resource is None:
        raise NotFound()
    _, course = await access_lesson(session, actor=actor, lesson_id=resource.lesson_id)
    if not await may_read_content(session, actor=actor, course=course):
        raise NotFound()
    if for_change and not can_change_course(actor, course):
        raise PermissionDenied()
    return resource


async def do_create_resource(
    session: AsyncSession, *, lesson: Lesson, data: ResourceCreate
) -> LessonResource:
    """Add a resource to the lesson `access_parent_lesson` returned."""
    resource = LessonResource(lesson_id=lesson.id, title=data.title, url=str(data.url))
    session.add(resource)
    await session.flush()
    return resource


async def do_update_resource(
    session: AsyncSession, *, resource: LessonResource, changes: dict[str, Any]
) -> LessonResource:
    """Apply checked changes to a resource `access_resource(for_change=True)` returned."""
    for field, value in changes.items():
        setattr(resource, field, str(value) if field == "url" else value)
    await session.flush()
    return resource


async def do_delete_resource(session: AsyncSession, *, resource: LessonResource) -> None:
    await session.delete(resource)
    await session.flush()
