"""Course Management tables (one set per tenant). Money is kept in integer cents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of
from models.slugs import slug_prefix_index


class Category(Timestamped, TenantBase):
    __tablename__ = "categories"
    __table_args__ = (slug_prefix_index("categories"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class Course(Timestamped, TenantBase):
    __tablename__ = "courses"
    __table_args__ = (
        Index("ix_courses_status_level_created", "status", "level", "created_at"),
        Index("ix_courses_status_created", "status", "created_at"),
        # The catalogue's default order: a page is read off the index, not sorted.
        Index("ix_courses_created_id", "created_at", "id"),
        slug_prefix_index("courses"),
        Index("ix_courses_instructor_id", "instructor_id"),
        Index("ix_courses_category_id", "category_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    short_description: Mapped[str] = mapped_column(String(500), default="")
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), nullable=True
    )
    level: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    price_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_price_cents: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    completion_hours: Mapped[int] = mapped_column(Integer, default=0)
    instructor_id: Mapped[str] = mapped_column(String(128))
    average_rating: Mapped[float] = mapped_column(Float, default=0.0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    thumbnail: Mapped[str | None] = mapped_column(String(300), nullable=True)

    @property
    def current_price_cents(self) -> int:
        """What a buyer pays now: the discount when one is set."""
        if self.discount_price_cents is not None:
            return self.discount_price_cents
        return self.price_cents

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("instructor_id",)
    instructor_user: Mapped[User | None] = person_of("Course", "instructor_id")


class Module(Timestamped, TenantBase):
    __tablename__ = "modules"
    __table_args__ = (
        Index("ix_modules_course_order", "course_id", "order"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    order: Mapped[int] = mapped_column(Integer, default=0)


class Lesson(Timestamped, TenantBase):
    __tablename__ = "lessons"
    __table_args__ = (
        Index("ix_lessons_module_order", "module_id", "order"),
        Index("ix_lessons_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"))
    # Kept beside module_id so progress counts a course's lessons without a join.
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="")
    lesson_type: Mapped[str] = mapped_column(String(10), default="text")
    duration_minutes: Mapped[int] = mapped_column(Integer, default=0)
    order: Mapped[int] = mapped_column(Integer, default=0)
    # Where the file lies under the media root (never served from there), and the name
    # its uploader gave it, sent back in Content-Disposition when it is downloaded.
    file: Mapped[str | None] = mapped_column(String(300), nullable=True)
    file_name: Mapped[str | None] = mapped_column(String(255), nullable=True)


class LessonResource(Timestamped, TenantBase):
    __tablename__ = "lesson_resources"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(2000))


class LessonCompletion(TenantBase):
    __tablename__ = "lesson_completions"
    __table_args__ = (
        UniqueConstraint("enrollment_id", "lesson_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollments.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Enrollment(TenantBase):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_enrollments_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    enrolled_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # Where the learner resumes: the lesson they last opened (`POST lessons/{id}/view/`).
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True
    )
    # The lessons completed, comma-separated in no order, read with the row itself: a list
    # or a detail of enrollments needs no statement of its own for them. A completion goes
    # with its lesson (ON DELETE CASCADE) and lessons never change course, so these are
    # current lessons of the enrollment's course.
    completed_lessons: Mapped[str | None] = column_property(
        select(func.aggregate_strings(cast(LessonCompletion.lesson_id, String), ","))
        .where(LessonCompletion.enrollment_id == id)
        .correlate_except(LessonCompletion)
        .scalar_subquery(),
        # A flush of the enrollment's own columns changes none of its completions.
        expire_on_flush=False,
    )

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("Enrollment", "user_id")

    @property
    def completed_lesson_ids(self) -> list[int]:
        return sorted(int(part) for part in (self.completed_lessons or "").split(",") if part)


class Rating(Timestamped, TenantBase):
    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_ratings_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    review: Mapped[str] = mapped_column(Text, default="")

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("Rating", "user_id")


class Announcement(TenantBase):
    """A message of a course's instructor to its enrolled users (sent live to its room)."""

    __tablename__ = "course_announcements"
    __table_args__ = (
        Index("ix_course_announcements_course_created", "course_id", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Announcement", "created_by")
