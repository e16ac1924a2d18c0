"""Request and response schemas of the AI tutor (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from models.fields import SOME_TEXT, Id, NoNul, OptionalTimestamp, Timestamp, Title
from models.people.schemas import Person
from models.validation import Body

Difficulty = Literal["beginner", "intermediate", "advanced"]
SenderType = Literal["user", "assistant", "system"]
Status = Literal["pending", "streaming", "complete", "failed"]
MAX_MESSAGE = 10_000
MAX_WAIT_SECONDS = 30
ONLY_USER = 'Only "user" messages may be sent; the tutor writes the others.'


def _user_only(value: str) -> str:
    if value != "user":
        raise ValueError(ONLY_USER)
    return value


Question = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_MESSAGE),
    NoNul,
    SOME_TEXT,
]


class AiSessionCreate(Body):
    topic: Title = Field(examples=["Python Programming Help"])
    difficulty_level: Difficulty = "beginner"
    course_id: Id | None = Field(
        default=None,
        description="A course I am enrolled in (or teach): the tutor answers about it.",
    )
    lesson_id: Id | None = Field(
        default=None,
        description="A lesson of that course (its course, when `course_id` is absent).",
    )


class AiSessionUpdate(Body):
    """A session's topic and difficulty change; its course and lesson do not."""

    topic: Title | None = None
    difficulty_level: Difficulty | None = None


class AiSessionQuery(BaseModel):
    course_id: Id | None = None
    difficulty_level: Difficulty | None = None
    search: str | None = Field(default=None, description="Matches topics.")
    ordering: str | None = Field(
        default=None,
        description="One of created_at, updated_at, topic; '-' for descending "
        "(default `-created_at`, newest first).",
    )


class AiSessionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    topic: str
    difficulty_level: Difficulty
    course_id: int | None
    lesson_id: int | None
    user_id: str
    user: Person
    message_count: int = Field(description="Questions and answers in the session.")
    created_at: Timestamp
    updated_at: Timestamp


class AiMessageCreate(Body):
    session: Id = Field(description="One of my sessions.")
    message: Question = Field(examples=["How do I create a function in Python?"])
    sender_type: Annotated[SenderType, AfterValidator(_user_only)] = Field(
        default="user",
        description='Only `"user"`: the tutor writes the answers.',
        json_schema_extra={"enum": ["user"]},
    )


class AiMessageQuery(BaseModel):
    session: Id | None = Field(
        default=None, description="One of my sessions (another's lists nothing)."
    )
    sender_type: SenderType | None = None
    status: Status | None = None


class AiWaitQuery(BaseModel):
    wait: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description=f"Seconds (at most {MAX_WAIT_SECONDS}) to wait for an unfinished answer "
        "to complete or fail before answering.",
    )


class AiMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    session: int = Field(validation_alias="session_id")
    sender_type: SenderType
    message: str = Field(description="The question, or the answer (so far, while streaming).")
    status: Status
    model: str | None = Field(description="The model that answered.")
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None = Field(description="Why the answer failed.")
    reply_to: int | None = Field(
        validation_alias="reply_to_id", description="The question an answer answers."
    )
    created_at: Timestamp
    completed_at: OptionalTimestamp


class AiMessageSent(AiMessageRead):
    """The stored question, and the answer to wait for (over the socket, or `?wait=`)."""

    reply: AiMessageRead
