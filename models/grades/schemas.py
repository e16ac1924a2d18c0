"""Request and response schemas of grades and certificates (pydantic v2)."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainValidator,
    StringConstraints,
)

from models.errors import invalid_pk
from models.fields import ANY_TEXT, MAX_ID, SOME_TEXT, Id, NoNul, OptionalTimestamp, Timestamp
from models.people.schemas import Person
from models.validation import Body

Category = Literal["quizzes", "assignments"]
MAX_LETTERS = 20
MAX_ITEMS_PASSED = 1000


def _number_not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("A valid number is required.")
    return value


Number = Annotated[float, Field(allow_inf_nan=False), BeforeValidator(_number_not_bool)]
Percent = Annotated[
    float, Field(ge=0, le=100, allow_inf_nan=False), BeforeValidator(_number_not_bool)
]
Weight = Annotated[
    float, Field(ge=0, le=1000, allow_inf_nan=False), BeforeValidator(_number_not_bool)
]
Points = Annotated[float, Field(ge=0, allow_inf_nan=False), BeforeValidator(_number_not_bool)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), NoNul, ANY_TEXT]
Letter = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5), NoNul, SOME_TEXT
]


def _lessons_rule(value: object) -> str | float | None:
    if value is None or value == "all":
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError('Give "all" or a percent from 0 to 100.')
    if not 0 <= value <= 100:
        raise ValueError("Ensure this value is between 0 and 100.")
    return float(value)


def _items_rule(value: object) -> str | list[int] | None:
    if value is None or value == "all":
        return value
    if not isinstance(value, list):
        raise ValueError('Give "all" or a list of grade item ids.')
    if len(value) > MAX_ITEMS_PASSED:
        raise ValueError(f"Ensure this field has no more than {MAX_ITEMS_PASSED} elements.")
    for entry in value:
        if isinstance(entry, bool) or not isinstance(entry, int) or not 0 < entry <= MAX_ID:
            raise ValueError(invalid_pk(entry))
    return list(dict.fromkeys(value))


LessonsRule = Annotated[
    Literal["all"] | float | None,
    PlainValidator(_lessons_rule),
    Field(
        json_schema_extra={
            "anyOf": [
                {"const": "all"},
                {"type": "number", "minimum": 0, "maximum": 100},
                {"type": "null"},
            ]
        }
    ),
]
ItemsRule = Annotated[
    Literal["all"] | list[int] | None,
    PlainValidator(_items_rule),
    Field(
        json_schema_extra={
            "anyOf": [
                {"const": "all"},
                {
                    "type": "array",
                    "maxItems": MAX_ITEMS_PASSED,
                    "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                },
                {"type": "null"},
            ]
        }
    ),
]


# Grading settings


class LetterBand(Body):
    letter: Letter
    min: Percent = Field(description="The lowest total percent that earns this letter.")


class CompletionRule(Body):
    """What completing the course takes; every condition given must hold."""

    lessons_completed: LessonsRule = Field(
        default=None,
        description='"all" lessons, or at least this percent of them; null: no condition.',
    )
    items_passed: ItemsRule = Field(
        default=None,
        description='Grade items (ids) to pass, or "all" of the course\'s; null: none.',
    )
    min_total_percent: Percent | None = Field(
        default=None, description="The lowest weighted total (released grades); null: none."
    )


class GradingSettings(Body):
    weights: dict[Category, Weight] = Field(
        default_factory=dict,
        description=(
            "Weight of each category in the total; empty (or all 0): every point counts alike."
        ),
    )
    letter_scheme: Annotated[list[LetterBand], Field(max_length=MAX_LETTERS)] | None = None
    completion: CompletionRule | None = Field(
        default=None, description="Null: the course issues no certificates."
    )


class GradingRead(BaseModel):
    weights: dict[str, float]
    letter_scheme: list[LetterBand] | None
    completion: CompletionRule | None


# Gradebook


class ItemRead(BaseModel):
    id: int
    kind: str
    source_id: int
    title: str
    max_points: float
    pass_points: float | None
    category: str


class ScoreCell(BaseModel):
    item: int
    grade_id: int | None = Field(description="For `PATCH grades/{id}/`; null: no grade yet.")
    score: float | None = Field(description="The effective score: the override, if set.")
    overridden: bool
    released: bool


class GradebookRow(BaseModel):
    user_id: str
    user: Person
    name: str
    is_active: bool
    scores: list[ScoreCell] = Field(description="One per item, in `items`' order.")
    total_percent: float | None
    letter: str | None


# Grades


class GradeOverride(Body):
    override_score: Points | None = Field(
        description="Replaces the source's score (0 to the item's max_points); null clears it."
    )
    reason: Reason = Field(default="", description="Required when setting an override.")


class GradeRead(BaseModel):
    id: int
    course: int
    course_title: str
    item: ItemRead
    user_id: str
    user: Person
    score: float | None = Field(description="The effective score: the override, if set.")
    source_score: float | None
    override_score: float | None
    override_reason: str
    released: bool
    graded_at: Timestamp
    updated_at: Timestamp


class GradeQuery(BaseModel):
    course: Id | None = None


# Certificates


class CertificateRead(BaseModel):
    id: int
    user_id: str
    user: Person
    course: int
    course_title: str
    holder_name: str
    code: str
    issued_at: Timestamp
    revoked_at: OptionalTimestamp
    revoke_reason: str
    status: Literal["valid", "revoked"]
    verify_url: str
    download_url: str


class CertificateVerification(BaseModel):
    code: str
    holder_name: str
    course_title: str
    issued_at: Timestamp
    status: Literal["valid", "revoked"]
    revoked_at: OptionalTimestamp


class RevokeBody(Body):
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=1000),
        NoNul,
        SOME_TEXT,
    ]
