"""Request and response schemas of assignments and submissions (pydantic v2)."""

from __future__ import annotations

import re
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, StringConstraints

from models.fields import (
    ANY_TEXT,
    Description,
    Id,
    IsoDatetime,
    NoNul,
    OptionalTimestamp,
    Timestamp,
    Title,
    UserId,
)
from models.people.schemas import Person
from models.validation import Body, Changes

MAX_POINTS = 100_000.0
MAX_FILE_TYPES = 30
MAX_CRITERIA = 50
# An honest essay fits; a huge one is a 400, never a 500.
MAX_TEXT = 50_000
LatePolicy = Literal["accept", "percent_per_day", "refuse"]
SubmissionStatus = Literal["ungraded", "graded", "returned"]
_EXTENSION = re.compile(r"[a-z0-9]{1,10}")
# What is taken: an extension, with or without its dot, in any case, spaces around.
_SENT_EXTENSION = r"^\s*\.?[A-Za-z0-9]{1,10}\s*$"


def _not_bool(value: object) -> object:
    """A number, not `true` or `false` (which pydantic would read as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError("A valid number is required.")
    return value


NotBool = BeforeValidator(_not_bool)
# The bounds first, so that they are the number's own (and the document's); then NotBool.
Points = Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False), NotBool]
Score = Annotated[float, Field(ge=0, le=MAX_POINTS, allow_inf_nan=False), NotBool]
Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False), NotBool]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), NoNul, ANY_TEXT]
Feedback = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000), NoNul]


def _file_types(value: object) -> object:
    """Extensions, with or without their dot, in any case: kept lower case, once each."""
    if not isinstance(value, list):
        return value  # the list validator says what is wrong
    if len(value) > MAX_FILE_TYPES:
        raise ValueError(f"Ensure this field has no more than {MAX_FILE_TYPES} elements.")
    kept: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError('Each file type is an extension such as "pdf".')
        extension = item.strip().lower().removeprefix(".")
        if not _EXTENSION.fullmatch(extension):
            raise ValueError(f'"{item}" is not a file extension such as "pdf".')
        if extension not in kept:
            kept.append(extension)
    return kept


FileTypes = Annotated[
    list[str],
    BeforeValidator(_file_types),
    Field(
        description='Extensions a submitted file may have (`["pdf", "docx"]`); empty: text '
        "only, no files.",
        examples=[["pdf", "docx"]],
        json_schema_extra={
            "items": {"type": "string", "pattern": _SENT_EXTENSION},
            "maxItems": MAX_FILE_TYPES,
        },
    ),
]


class Criterion(Body):
    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,40}$")]
    title: Title
    points: Points


def _distinct_ids(criteria: list[Criterion]) -> list[Criterion]:
    ids = [c.id for c in criteria]
    if len(set(ids)) != len(ids):
        raise ValueError("Each criterion needs an id of its own.")
    return criteria


Rubric = Annotated[
    list[Criterion],
    Field(
        max_length=MAX_CRITERIA,
        description="Criteria `{id, title, points}`; their points add up to the "
        "assignment's `points`. Empty: no rubric.",
    ),
    AfterValidator(_distinct_ids),
]
MaxFileBytes = Annotated[
    int,
    Field(
        ge=1,
        description="Largest file a learner may submit, in bytes; at most the server's "
        "limit (LMS_SUBMISSION_FILE_MAX_BYTES).",
    ),
    NotBool,
]


class AssignmentCreate(Body):
    course: Id
    lesson: Id | None = None
    title: Title
    instructions: Description = ""
    points: Points
    due_at: IsoDatetime | None = None
    late_policy: LatePolicy = "accept"
    late_percent_per_day: Percent = 0.0
    allowed_file_types: FileTypes = []
    max_file_bytes: MaxFileBytes | None = Field(
        default=None, description="Default: 10 MB, or the server's limit if lower."
    )
    rubric: Rubric = []
    is_published: bool = True


class AssignmentUpdate(Changes):
    """A PATCH: a course never changes."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"lesson", "due_at", "max_file_bytes"})
    lesson: Id | None = None
    title: Title | None = None
    instructions: Description | None = None
    points: Points | None = None
    due_at: IsoDatetime | None = None
    late_policy: LatePolicy | None = None
    late_percent_per_day: Percent | None = None
    allowed_file_types: FileTypes | None = None
    max_file_bytes: MaxFileBytes | None = Field(
        default=None, description="`null`: back to the default."
    )
    rubric: Rubric | None = None
    is_published: bool | None = None


class AssignmentQuery(BaseModel):
    course: Id | None = None
    lesson: Id | None = None
    is_published: bool | None = None
    ordering: str | None = Field(
        default=None, description="One of due_at, created_at, title; '-' for descending."
    )


class CriterionRead(BaseModel):
    id: str
    title: str
    points: float


class AssignmentRead(BaseModel):
    id: int
    course: int
    lesson: int | None
    title: str
    instructions: str
    points: float
    due_at: OptionalTimestamp
    late_policy: LatePolicy
    late_percent_per_day: float
    allowed_file_types: list[str]
    max_file_bytes: int
    rubric: list[CriterionRead]
    is_published: bool
    created_by: str
    created_by_person: Person
    created_at: Timestamp
    updated_at: Timestamp


# Submissions


class SubmissionCreate(Body):
    """A text-only submission as JSON; files come as multipart/form-data (same fields)."""

    assignment: Id
    text: Text = ""


class SubmissionQuery(BaseModel):
    assignment: Id | None = None
    status: SubmissionStatus | None = Field(
        default=None, description="The grading queue: `ungraded`, `graded` or `returned`."
    )
    user_id: UserId | None = None
    ordering: str | None = Field(
        default=None, description="One of submitted_at, id; '-' for descending."
    )


class GradeCreate(Body):
    score: Score | None = Field(
        default=None,
        description="0 to the assignment's points; default: the sum of `rubric_scores`.",
    )
    feedback: Feedback = ""
    rubric_scores: dict[str, Score] | None = Field(
        default=None, description="A score for every criterion of the rubric, by its id."
    )


class FileRead(BaseModel):
    id: int
    name: str
    size: int
    content_type: str
    url: str


class VersionRead(BaseModel):
    number: int
    text: str
    files: list[FileRead]
    submitted_at: Timestamp
    is_late: bool
    days_late: int


class GradeEntry(BaseModel):
    score: float
    score_given: float
    late_penalty: float
    feedback: str
    rubric_scores: dict[str, float] | None
    version: int
    grader: str
    at: str


class SubmissionRead(BaseModel):
    id: int
    assignment: int
    course: int
    user_id: str
    user: Person
    version: int
    text: str
    files: list[FileRead]
    submitted_at: Timestamp
    is_late: bool
    days_late: int
    status: SubmissionStatus
    # The grade: to the learner only once returned (else null), always to the grader.
    score: float | None
    score_given: float | None
    late_penalty: float | None
    rubric_scores: dict[str, float] | None
    feedback: str | None
    graded_version: int | None
    graded_by: str | None
    graded_by_person: Person | None
    graded_at: OptionalTimestamp
    returned_at: OptionalTimestamp


class SubmissionDetail(SubmissionRead):
    versions: list[VersionRead] = Field(description="Every version, newest first.")
    grade_history: list[GradeEntry] | None = Field(
        description="Every grade given, oldest first: for the instructor and admins only "
        "(null for the learner)."
    )
