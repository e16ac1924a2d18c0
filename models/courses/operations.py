"""Categories and courses: opening them, changing them, and the changes (who sees a course
and who changes it: `models/courses/visibility.py`; the course list: `catalogue.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    bindparam,
    cast,
    func,
    insert,
    null,
    or_,
    select,
)
from sqlalchemy import Sequence as DatabaseSequence
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models.assignments.stored import submitted_files
from models.base import TENANT_SCHEMA, utcnow
from models.courses.events import course_room, notify_course
from models.courses.schemas import (
    CategoryCreate,
    CategoryQuery,
    CourseCreate,
    CourseUpdate,
)
from models.courses.tables import Category, Course, Lesson
from models.courses.visibility import COURSES, can_change_course, course_visible
from models.driver import driver_rows
from models.effects import ROOM_CLOSED, insert_with_commit, notify_after_commit, revoke_after_commit
from models.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.fields import money_to_cents
from models.identity import Principal
from models.listing import Listing, read_rows
from models.logs.operations import record_activity_on
from models.people.names import PersonFields, people
from models.slugs import between_patterns, first_free_slug, slugify, suffixed_range, unique_slug
from models.validation import check_changes

CODE_TAKEN = "course with this code already exists."


def check_author(actor: Principal) -> None:
    if not actor.can_author:
        raise PermissionDenied()


# Categories: instructors and admins create them; they are shared by every course of the
# tenant, so only admins rename or delete one.


def check_category_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise PermissionDenied()


async def access_category(session: AsyncSession, *, category_id: int) -> Category:
    category = await session.get(Category, category_id)
    if category is None:
        raise NotFound()
    return category


CATEGORIES = Listing(
    search=(Category.name,),
    ordering={"name": Category.name, "created_at": Category.created_at},
    default=(Category.name.asc(),),
    tiebreak=Category.id,
)


def categories_query(query: CategoryQuery) -> Select[Any]:
    return CATEGORIES.apply(select(Category), query)


async def do_create_category(session: AsyncSession, *, data: CategoryCreate) -> Category:
    """Create a category (after `check_author`)."""
    slug = await unique_slug(session, Category.slug, data.name, fallback="category")
    category = Category(name=data.name, slug=slug, description=data.description)
    session.add(category)
    await session.flush()
    return category


async def do_update_category(
    session: AsyncSession, *, category: Category, changes: dict[str, Any]
) -> Category:
    """Apply checked changes (`check_category_admin`, then `check_changes`)."""
    for field, value in changes.items():
        setattr(category, field, value)
    await session.flush()
    return category


async def access_category_for_delete(session: AsyncSession, *, category_id: int) -> Category:
    """The category, locked, once no course uses it: 404, else 409 naming how many do (the
    database would empty them)."""
    # Locked first: a course being given this category holds a key-share lock on the row
    # until it commits, so the count below, taken after the lock, includes that course too.
    category = await session.scalar(
        select(Category).where(Category.id == category_id).with_for_update()
    )
    if category is None:
        raise NotFound()
    used = await session.scalar(
        select(func.count()).select_from(Course).where(Course.category_id == category_id)
    )
    if used:
        raise Conflict(f"This category is used by {used} course{'' if used == 1 else 's'}.")
    return category


async def do_delete_category(session: AsyncSession, *, category: Category) -> None:
    """Delete a category `access_category_for_delete` returned."""
    await session.delete(category)
    await session.flush()


# Courses


async def access_course(
    session: AsyncSession, *, actor: Principal, course_id: int, for_change: bool = False
) -> Course:
    """The course if the actor may see it (404 otherwise) and, for a change, may change it (403)."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound()
    check_course_access(actor, course, for_change=for_change)
    return course


def check_course_access(actor: Principal, course: Course, *, for_change: bool = False) -> None:
    """`access_course`'s rule on a course already read: 404 unseen, 403 for a change the
    actor may not make."""
    if not course_visible(actor, course):
        raise NotFound()
    if for_change and not can_change_course(actor, course):
        raise PermissionDenied()


def check_published_item(
    actor: Principal, course: Course, *, published: bool, enrolled: bool, for_change: bool
) -> None:
    """A course's quiz or assignment: its teachers and admins see it; others only once it
    is published and while they are enrolled (404 otherwise), and never change it (403)."""
    if can_change_course(actor, course):
        return
    if not published or not enrolled:
        raise NotFound()
    if for_change:
        raise PermissionDenied()


async def row_with_course(session: AsyncSession, model: Any, pk: int, *also: Any) -> Any:
    """The row of `model` (a table with `course_id`) whose id is `pk`, its course, and the
    columns `also`, in one statement (None: no such row): a check on the course, or the
    actor's enrollment in it, needs no read of its own."""
    stmt = select(model, Course, *also).join(Course, Course.id == model.course_id)
    return (await session.execute(stmt.where(model.id == pk))).first()


async def _check_category(session: AsyncSession, category_id: int | None) -> None:
    if category_id is None:
        return
    if await session.get(Category, category_id) is None:
        raise ValidationFailed.field("category_id", invalid_pk(category_id))


async def _check_code_free(
    session: AsyncSession, code: str, *, exclude_id: int | None = None
) -> None:
    stmt = select(Course.id).where(Course.code == code)
    if exclude_id is not None:
        stmt = stmt.where(Course.id != exclude_id)
    if await session.scalar(stmt) is not None:
        raise ValidationFailed.field("code", CODE_TAKEN)


def _check_prices(price_cents: int, discount_cents: int | None) -> None:
    if discount_cents is not None and discount_cents > price_cents:
        raise ValidationFailed.field(
            "discount_price", "Ensure the discount price is not greater than the price."
        )


def _instructor_for(actor: Principal, requested: str | None) -> str:
    if requested is None or requested == actor.user_id:
        return actor.user_id
    if not actor.is_admin:
        raise ValidationFailed.field("instructor_id", "Only admins may name another instructor.")
    return requested


def _cents(value: Decimal | None) -> int | None:
    return money_to_cents(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class NewCourse:
    """A checked new course: the columns of its row, its free slug included; its id when
    taken ahead from PostgreSQL's sequence (None on SQLite); and its instructor's name object
    (the actor's from their token; another's from the directory)."""

    columns: dict[str, Any]
    id: int | None
    instructor: PersonFields


def _taken(suffixed: ColumnElement[bool]) -> Select[str, str, int]:
    """The rows holding the new course's code, its title's slug or one of that slug's `-N`
    forms (`suffixed`): the code check and the slug choice in one statement, built once;
    on PostgreSQL with one more row carrying the new course's id, from its sequence."""
    return select(Course.code, Course.slug, cast(null(), BigInteger)).where(
        or_(Course.code == bindparam("code"), Course.slug == bindparam("slug"), suffixed)
    )


_TAKEN = _taken(Course.slug.like(bindparam("slug_n")))
_SUFFIXED_PG = between_patterns(Course.slug, bindparam("slug_low"), bindparam("slug_high"))
_TAKEN_AND_NEXT_ID = _taken(_SUFFIXED_PG).union_all(
    select(
        cast(null(), String),
        cast(null(), String),
        DatabaseSequence("courses_id_seq", schema=TENANT_SCHEMA).next_value(),
    )
)
_INSERT_COURSE = insert(COURSES).returning(*COURSES.columns)


async def check_new_course(
    session: AsyncSession, reads: AsyncEngine, *, actor: Principal, data: CourseCreate
) -> NewCourse:
    """A new course's category exists, its code is free, its discount is no more than its
    price, and only admins name another instructor (400s; `check_author` came first).

    The code and slug read goes to the tenant's autocommit engine (`reads`): it opens no
    transaction, so on PostgreSQL the create can be one statement at commit."""
    await _check_category(session, data.category_id)
    base = slugify(data.title, fallback="course")
    low, high = suffixed_range(base)
    params = {
        "code": data.code,
        "slug": base,
        "slug_n": f"{base}-%",
        "slug_low": low,
        "slug_high": high,
    }
    if reads.dialect.name == "postgresql":
        rows: Sequence[Any] = await driver_rows(reads, _TAKEN_AND_NEXT_ID, params)
    else:
        rows = await read_rows(reads, _TAKEN, params)
    taken = [(code, slug) for code, slug, next_id in rows if next_id is None]
    new_id = next((int(next_id) for _c, _s, next_id in rows if next_id is not None), None)
    if any(code == data.code for code, _slug in taken):
        raise ValidationFailed.field("code", CODE_TAKEN)
    price, discount = money_to_cents(data.price), _cents(data.discount_price)
    _check_prices(price, discount)
    instructor = _instructor_for(actor, data.instructor_id)
    columns: dict[str, Any] = {
        "title": data.title,
        "slug": first_free_slug(base, {slug for _code, slug in taken}),
        "code": data.code,
        "description": data.description,
        "short_description": data.short_description,
        "category_id": data.category_id,
        "level": data.level,
        "status": data.status,
        "price_cents": price,
        "discount_price_cents": discount,
        "currency": data.currency,
        "completion_hours": data.completion_hours,
        "instructor_id": instructor,
        "average_rating": 0.0,
        "rating_count": 0,
    }
    return NewCourse(columns, new_id, (await people(session, [instructor]))[instructor])


async def do_create_course(session: AsyncSession, *, actor: Principal, new: NewCourse) -> Any:
    """Create the course `check_new_course` passed; returns its row (its columns as
    attributes). With its id taken ahead (PostgreSQL), the row is noted for the commit, which
    writes it with its activity and audit records in one statement; otherwise one Core
    INSERT ... RETURNING now. No ORM object either way: none is needed to answer.

    So the session must be a unit of work's (`models/unit_of_work.py`): a bare session's
    commit writes nothing noted for it."""
    if new.id is None:
        course: Any = (await session.execute(_INSERT_COURSE, new.columns)).one()
    else:
        now = utcnow()
        values = {**new.columns, "id": new.id, "thumbnail": None}
        values.update(created_at=now, updated_at=now)
        insert_with_commit(session, COURSES, values)
        course = SimpleNamespace(**values)
    record_activity_on(
        session, actor, ("course", course.id), "course_created", f"Created course {course.title!r}."
    )
    return course


@dataclass(frozen=True, slots=True)
class CourseChange:
    """A checked change of a course: its new column values, and the field names sent."""

    columns: dict[str, Any]
    sent: list[str]


async def check_course_update(
    session: AsyncSession, *, actor: Principal, course: Course, data: CourseUpdate
) -> CourseChange:
    """The body's changes as columns, once each is valid (400s, as `check_new_course`)."""
    # Null clears a category or a discount, and leaves the instructor as is.
    columns = check_changes(data)
    if "category_id" in columns:
        await _check_category(session, columns["category_id"])
    if "code" in columns:
        await _check_code_free(session, columns["code"], exclude_id=course.id)
    instructor = columns.pop("instructor_id", None)
    if instructor is not None:
        columns["instructor_id"] = _instructor_for(actor, instructor)
    if "price" in columns:
        columns["price_cents"] = money_to_cents(columns.pop("price"))
    if "discount_price" in columns:
        columns["discount_price_cents"] = _cents(columns.pop("discount_price"))
    _check_prices(
        columns.get("price_cents", course.price_cents),
        columns.get("discount_price_cents", course.discount_price_cents),
    )
    return CourseChange(columns, sorted(data.model_fields_set))


async def do_update_course(
    session: AsyncSession, *, actor: Principal, course: Course, change: CourseChange
) -> Course:
    """Apply a change `check_course_update` returned; the course's room hears of it."""
    audience = (course.status, course.instructor_id)
    for field, value in change.columns.items():
        setattr(course, field, value)
    await session.flush()
    record_activity_on(
        session, actor, ("course", course.id), "course_updated", f"Updated course {course.title!r}."
    )
    notify_course(
        session,
        course.id,
        "course_updated",
        {"course_id": course.id, "title": course.title, "changed": change.sent},
    )
    if (course.status, course.instructor_id) != audience:
        # Unpublished, or taught by someone else: who may listen is checked again.
        revoke_after_commit(session, course_room(course.id))
    return course


async def do_delete_course(session: AsyncSession, *, actor: Principal, course: Course) -> list[str]:
    """Delete a course and all it holds (after `access_course(for_change=True)`); returns its
    files, to remove after commit."""
    course_id = course.id
    lesson_files = await session.scalars(
        select(Lesson.file).where(Lesson.course_id == course_id, Lesson.file.is_not(None))
    )
    files = [path for path in [course.thumbnail, *lesson_files.all()] if path]
    files += await submitted_files(session, course_id=course_id)
    record_activity_on(
        session, actor, ("course", course_id), "course_deleted", f"Deleted course {course.title!r}."
    )
    await session.delete(course)
    await session.flush()
    notify_after_commit(session, course_room(course_id), ROOM_CLOSED, {"course_id": course_id})
    return files


async def do_set_course_thumbnail(
    session: AsyncSession, *, course: Course, path: str
) -> str | None:
    """Store the new thumbnail path; returns the old one, for the caller to remove after commit."""
    old, course.thumbnail = course.thumbnail, path
    await session.flush()
    return old
