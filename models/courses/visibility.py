"""Who sees a course and who changes it: the one rule, as SQL for lists and in Python for
one loaded course.

A course is seen when it is published, or by whoever may change it: its instructor and
admins. Everything that lists or opens a course, or what it holds (modules, lessons,
resources, ratings, its room), asks here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, FromClause, Table, or_, true

from models.courses.tables import Course
from models.identity import Principal

PUBLISHED = "Published"
COURSES: Table = Course.__table__  # type: ignore[assignment]


def can_change_course(actor: Principal, course: Course) -> bool:
    return actor.is_admin or course.instructor_id == actor.user_id


def course_visible(actor: Principal, course: Course) -> bool:
    return course.status == PUBLISHED or can_change_course(actor, course)


def visible_courses(actor: Principal) -> ColumnElement[bool]:
    """`course_visible` as a condition on the courses table."""
    return visible_in(COURSES, is_admin=actor.is_admin, user=actor.user_id)


def visible_in(courses: FromClause, *, is_admin: bool, user: Any) -> ColumnElement[bool]:
    """`course_visible` on `courses` (the table or an alias of it); `user` is the actor's
    id, or a bound parameter for a statement kept for every user."""
    if is_admin:
        return true()
    return or_(courses.c.status == PUBLISHED, courses.c.instructor_id == user)
