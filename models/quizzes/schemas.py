"""Request and response schemas of quizzes, questions and attempts (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field, StringConstraints

from models.fields import (
    ANY_TEXT,
    MAX_ID,
    SOME_TEXT,
    Description,
    Id,
    IsoDatetime,
    NoNul,
    OptionalTimestamp,
    Timestamp,
    Title,
)
from models.people.schemas import Person
from models.validation import Body, Changes

QuestionKind = Literal[
    "single_choice", "multiple_choice", "true_false", "short_text", "numeric", "essay"
]
GradingMethod = Literal["highest", "latest", "average"]
Reveal = Literal["never", "after_attempt", "after_close"]
AttemptStatus = Literal["in_progress", "submitted", "graded"]

MAX_OPTIONS = 50
MAX_ACCEPTED = 50
MAX_POINTS = 10_000.0
# An essay answer longer than this is a 400 (the JSON body limit, LMS_MAX_JSON_BYTES, a 413).
ESSAY_MAX_CHARS = 100_000
SHORT_ANSWER_MAX_CHARS = 1_000
MAX_ANSWERS_PER_SAVE = 1_000

Prompt = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000), NoNul, SOME_TEXT
]
OptionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000), NoNul, SOME_TEXT
]
AcceptedAnswer = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=SHORT_ANSWER_MAX_CHARS),
    NoNul,
    SOME_TEXT,
]
Feedback = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20_000), NoNul, ANY_TEXT
]
TimeLimit = Annotated[int, Field(ge=1, le=10_080, description="Minutes; null: no limit.")]
AttemptsAllowed = Annotated[int, Field(ge=1, le=1_000, description="null: unlimited.")]
PassingScore = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False, description="Percent.")]
Points = Annotated[float, Field(gt=0, le=MAX_POINTS, allow_inf_nan=False)]
Position = Annotated[int, Field(ge=0, le=1_000_000)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e15, le=1e15)]


# Quizzes


class QuizCreate(Body):
    lesson: Id = Field(description="A lesson of type `quiz` of a course I may change.")
    title: Title
    description: Description = ""
    is_published: bool = False
    time_limit_minutes: TimeLimit | None = None
    attempts_allowed: AttemptsAllowed | None = None
    passing_score: PassingScore = 50.0
    grading_method: GradingMethod = "highest"
    shuffle_questions: bool = False
    shuffle_options: bool = False
    available_from: IsoDatetime | None = None
    available_until: IsoDatetime | None = None
    reveal_answers: Reveal = "after_attempt"


class QuizUpdate(Changes):
    """A quiz's lesson never changes."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset(
        {"time_limit_minutes", "attempts_allowed", "available_from", "available_until"}
    )

    title: Title | None = None
    description: Description | None = None
    is_published: bool | None = None
    time_limit_minutes: TimeLimit | None = None
    attempts_allowed: AttemptsAllowed | None = None
    passing_score: PassingScore | None = None
    grading_method: GradingMethod | None = None
    shuffle_questions: bool | None = None
    shuffle_options: bool | None = None
    available_from: IsoDatetime | None = None
    available_until: IsoDatetime | None = None
    reveal_answers: Reveal | None = None


class QuizQuery(BaseModel):
    course: Id | None = None
    lesson: Id | None = None


class QuizRead(BaseModel):
    id: int
    course: int
    lesson: int
    title: str
    description: str
    is_published: bool
    time_limit_minutes: int | None
    attempts_allowed: int | None
    passing_score: float
    grading_method: GradingMethod
    shuffle_questions: bool
    shuffle_options: bool
    available_from: OptionalTimestamp
    available_until: OptionalTimestamp
    reveal_answers: Reveal
    question_count: int
    max_points: float
    created_at: Timestamp
    updated_at: Timestamp


# Questions


class OptionIn(Body):
    id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        default=None, description="Keep an option's id when changing the list; new: omit."
    )
    text: OptionText
    correct: bool = False


class QuestionCreate(Body):
    quiz: Id
    kind: QuestionKind
    prompt: Prompt
    position: Position = 0
    points: Points = 1.0
    options: Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)] = []
    true_false_answer: bool | None = None
    accepted_answers: Annotated[list[AcceptedAnswer], Field(max_length=MAX_ACCEPTED)] = []
    numeric_answer: Finite | None = None
    tolerance: Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)] = 0.0
    feedback: Feedback = ""


class QuestionUpdate(Changes):
    """A question's quiz never changes; the result must still be a valid question."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"true_false_answer", "numeric_answer"})

    kind: QuestionKind | None = None
    prompt: Prompt | None = None
    position: Position | None = None
    points: Points | None = None
    options: Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)] | None = None
    true_false_answer: bool | None = None
    accepted_answers: Annotated[list[AcceptedAnswer], Field(max_length=MAX_ACCEPTED)] | None = None
    numeric_answer: Finite | None = None
    tolerance: Annotated[float, Field(ge=0, le=1e15, allow_inf_nan=False)] | None = None
    feedback: Feedback | None = None


class QuestionQuery(BaseModel):
    quiz: Id | None = None


class OptionRead(BaseModel):
    id: int
    text: str
    correct: bool


class QuestionRead(BaseModel):
    id: int
    quiz: int
    kind: QuestionKind
    prompt: str
    position: int
    points: float
    options: list[OptionRead]
    true_false_answer: bool | None
    accepted_answers: list[str]
    numeric_answer: float | None
    tolerance: float
    feedback: str
    created_at: Timestamp
    updated_at: Timestamp


# Attempts


class AnswersSave(Body):
    answers: dict[str, Any] = Field(
        max_length=MAX_ANSWERS_PER_SAVE,
        description="Question id -> answer: an option id (single_choice), a list of option "
        "ids (multiple_choice), true/false, a text (short_text, essay), a number (numeric); "
        "null clears. Merged with earlier saves.",
    )


class EssayGrades(Body):
    points: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        max_length=MAX_ANSWERS_PER_SAVE,
        description="Essay question id -> points awarded, 0 to the question's points.",
    )


class AttemptOption(BaseModel):
    id: int
    text: str


class QuestionReview(BaseModel):
    """Present only when the quiz's `reveal_answers` allows (the instructor always)."""

    correct_answer: Any = Field(
        description="Option ids (choice), true/false, accepted texts (short_text), "
        '{"value", "tolerance"} (numeric), null (essay).'
    )
    feedback: str
    points_awarded: float | None
    correct: bool | None


class AttemptQuestion(BaseModel):
    id: int
    kind: QuestionKind
    prompt: str
    points: float
    options: list[AttemptOption]
    answer: Any = Field(description="The answer saved so far; null: none.")
    review: QuestionReview | None


class AttemptSummary(BaseModel):
    id: int
    quiz: int
    user_id: str
    user: Person | None
    number: int
    status: AttemptStatus
    started_at: Timestamp
    deadline: OptionalTimestamp
    saved_at: OptionalTimestamp
    submitted_at: OptionalTimestamp
    late: bool
    auto_submitted: bool
    score: float | None
    max_score: float | None
    percent: float | None
    passed: bool | None
    pending_review: bool
    review_available: bool


class AttemptRead(AttemptSummary):
    questions: list[AttemptQuestion]


class AttemptQuery(BaseModel):
    user_id: str | None = Field(default=None, description="The instructor's filter.")


class AttemptListQuery(BaseModel):
    quiz: Id | None = None
    user_id: str | None = Field(default=None, description="The instructor's filter.")
