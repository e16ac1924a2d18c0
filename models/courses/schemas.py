"""Request and response schemas of Course Management (pydantic v2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer

from models.fields import (
    Content,
    Currency,
    Description,
    Id,
    MoneyIn,
    MoneyOut,
    Name,
    OptionalTimestamp,
    Review,
    ShortText,
    Timestamp,
    Title,
    Url,
    UserId,
    _not_bool,
)
from models.people.schemas import Person
from models.validation import Body, Changes

Level = Literal["Beginner", "Intermediate", "Advanced"]
CourseStatus = Literal["Draft", "Published", "Archived"]
LessonType = Literal["text", "video", "file", "link", "quiz"]
# A boolean is no count, as DRF's IntegerField says (pydantic would take it as 0 or 1).
Order = Annotated[int, Field(ge=0, le=1_000_000), BeforeValidator(_not_bool)]
Amount = Annotated[int, Field(ge=0, le=100_000), BeforeValidator(_not_bool)]


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Categories


class CategoryCreate(Body):
    name: Name
    description: Review = ""


class CategoryUpdate(Changes):
    name: Name | None = None
    description: Review | None = None


class CategoryQuery(BaseModel):
    search: str | None = Field(default=None, description="Matches names.")
    ordering: str | None = Field(
        default=None, description="One of name, created_at; '-' for descending."
    )


class CategoryRead(Read):
    id: int
    name: str
    slug: str
    description: str
    created_at: Timestamp


# Courses


class CourseCreate(Body):
    title: Title
    code: Annotated[
        str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    ]
    description: Description = ""
    short_description: ShortText = ""
    category_id: Id | None = None
    level: Level = "Beginner"
    status: CourseStatus = "Draft"
    # A Decimal: defaults are not validated, and the domain computes cents from a Decimal.
    price: MoneyIn = Decimal("0.00")
    discount_price: MoneyIn | None = None
    currency: Currency = "USD"
    completion_hours: Amount = 0
    instructor_id: UserId | None = Field(
        default=None, description="Admins may name the instructor; others teach what they create."
    )


class CourseUpdate(Changes):
    NULLABLE = frozenset({"category_id", "instructor_id", "discount_price"})
    title: Title | None = None
    code: (
        Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
        | None
    ) = None
    description: Description | None = None
    short_description: ShortText | None = None
    category_id: Id | None = None
    level: Level | None = None
    status: CourseStatus | None = None
    price: MoneyIn | None = None
    discount_price: MoneyIn | None = None
    currency: Currency | None = None
    completion_hours: Amount | None = None
    instructor_id: UserId | None = None


class CourseSummary(BaseModel):
    """A row of the course list (the catalogue's fields)."""

    id: int
    title: str
    slug: str
    code: str
    level: str
    status: str
    current_price: MoneyOut
    currency: str
    thumbnail: str | None
    created_at: Timestamp


class CourseRead(CourseSummary):
    description: str
    short_description: str
    category_id: int | None
    price: MoneyOut
    discount_price: MoneyOut | None
    completion_hours: int
    instructor_id: str
    instructor: Person
    average_rating: float
    rating_count: int
    updated_at: Timestamp


class CourseQuery(BaseModel):
    level: Level | None = None
    status: CourseStatus | None = None
    category_id: Id | None = None
    instructor_id: str | None = None
    currency: Currency | None = None
    search: str | None = Field(
        default=None, description="Matches titles, codes and short descriptions."
    )
    ordering: str | None = Field(
        default=None,
        description=(
            "One of created_at, title, price, average_rating, completion_hours; '-' for descending."
        ),
    )


# Modules, lessons, resources


class ModuleCreate(Body):
    course: Id
    title: Title
    description: Description = ""
    order: Order = 0


class ModuleUpdate(Changes):
    title: Title | None = None
    description: Description | None = None
    order: Order | None = None


class ModuleRead(Read):
    id: int
    course: int = Field(validation_alias="course_id")
    title: str
    description: str
    order: int
    created_at: Timestamp


class ModuleQuery(BaseModel):
    course: Id | None = None


class LessonCreate(Body):
    module: Id
    title: Title
    description: Description = ""
    content: Content = ""
    lesson_type: LessonType = "text"
    duration_minutes: Amount = 0
    order: Order = 0


class LessonUpdate(Changes):
    title: Title | None = None
    description: Description | None = None
    content: Content | None = None
    lesson_type: LessonType | None = None
    duration_minutes: Amount | None = None
    order: Order | None = None


class LessonRead(Read):
    id: int
    module: int = Field(validation_alias="module_id")
    course: int = Field(validation_alias="course_id")
    title: str
    description: str
    content: str | None = Field(
        description="Only for enrolled users, the instructor and admins; null for others."
    )
    lesson_type: str
    duration_minutes: int
    order: int
    file: str | None = Field(
        description="The file's download URL (the token required), for those who may read the "
        "content; null for others and when the lesson has no file."
    )
    file_name: str | None = Field(
        description="The name the file was uploaded under, which downloads keep; null as `file`."
    )
    completed: bool = Field(
        description="Whether the caller completed this lesson (false for whoever is not enrolled)."
    )
    completed_at: OptionalTimestamp = Field(description="When the caller completed it, or null.")
    created_at: Timestamp


class FileLinkRead(Read):
    url: str = Field(description="Downloads the file without a token until `expires_at`.")
    expires_at: Timestamp


class LessonQuery(BaseModel):
    module: Id | None = None
    course: Id | None = None


class ResourceCreate(Body):
    lesson: Id
    title: Title
    url: Url


class ResourceUpdate(Changes):
    title: Title | None = None
    url: Url | None = None


class ResourceRead(Read):
    id: int
    lesson: int = Field(validation_alias="lesson_id")
    title: str
    url: str
    created_at: Timestamp


class ResourceQuery(BaseModel):
    lesson: Id | None = None


# Enrollments, progress, ratings


class EnrollBody(Body):
    user_id: UserId | None = Field(
        default=None, description="Admins enroll another user; others enroll themselves."
    )


def _percent_shown(value: float) -> float:
    return round(min(float(value), 100.0), 2)


# A percentage shown with two places, never over 100; a serialiser of the value alone, so
# `render` shows it without validating the model (a method serialiser would not).
Percent = Annotated[float, PlainSerializer(_percent_shown)]


class EnrollmentRead(Read):
    id: int
    user: str = Field(validation_alias="user_id")
    user_person: Person
    course: int = Field(validation_alias="course_id")
    enrolled_at: Timestamp
    is_active: bool
    progress: Percent = Field(description="Percent of the course's current lessons completed.")
    completed_at: OptionalTimestamp = Field(
        description="When every lesson was first completed; kept when lessons are added later."
    )
    completed_lesson_ids: list[int] = Field(
        description="The course's current lessons the learner completed, by id."
    )
    last_lesson_id: int | None = Field(
        description="Where the learner resumes: the lesson last opened (`lessons/{id}/view/`)."
    )


class EnrollmentReplace(Body):
    is_active: bool


class EnrollmentUpdate(Body):
    is_active: bool | None = None


class EnrollmentQuery(BaseModel):
    course: Id | None = None
    user_id: str | None = None
    is_active: bool | None = None


class RatingBody(Body):
    rating: Annotated[int, Field(ge=1, le=5), BeforeValidator(_not_bool)]
    review: Review = ""


class RatingUpdate(Changes):
    rating: Annotated[int, Field(ge=1, le=5), BeforeValidator(_not_bool)] | None = None
    review: Review | None = None


class RatingRead(Read):
    id: int
    user: str = Field(validation_alias="user_id")
    user_person: Person
    course: int = Field(validation_alias="course_id")
    rating: int
    review: str
    created_at: Timestamp
    updated_at: Timestamp


class RatingQuery(BaseModel):
    course: Id | None = None
    user_id: str | None = None


class AnnouncementCreate(Body):
    title: Title
    message: Description = Field(min_length=1)


class AnnouncementRead(Read):
    id: int
    course_id: int
    title: str
    message: str
    created_by: str
    created_by_person: Person
    created_at: Timestamp


# The roster


class RosterQuery(BaseModel):
    completed: bool | None = Field(default=None, description="Completed the course, or not.")
    is_active: bool | None = None
    search: str | None = Field(default=None, description="Matches user ids and names.")
    ordering: str | None = Field(
        default=None,
        description=(
            "One of user_id, name, enrolled_at, completed_at, progress, last_activity; "
            "'-' for descending."
        ),
    )


class RosterEntry(BaseModel):
    user_id: str
    user: Person
    name: str
    enrolled_at: Timestamp
    completed_at: OptionalTimestamp
    progress: float
    is_active: bool
    last_activity: Timestamp


# Bulk enrollment


class BulkEnrollBody(Body):
    course: Id
    user_ids: list[str] = Field(
        max_length=100_000,
        description="One row each: an empty, over-long or repeated id is a row error.",
    )
