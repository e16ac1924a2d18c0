"""What a job looks like to the user who started it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.fields import OptionalTimestamp, Timestamp
from models.people.schemas import Person

JobStatus = Literal["queued", "running", "done", "failed"]


class RowError(BaseModel):
    """A refused input row; `user_id` is what the row said, perhaps no user at all."""

    row: int | None = Field(description="The input row (1 for the first after the header).")
    user_id: str | None
    error: str


class JobRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: JobStatus
    course: int | None = Field(validation_alias="course_id")
    total: int = Field(description="Input rows.")
    done: int = Field(description="Rows applied (enrolled, or enrolled already).")
    failed: int = Field(description="Rows refused; the first 1,000 are in `errors`.")
    enrolled: int = Field(description="Enrollments made: new, or inactive ones reactivated.")
    errors: list[RowError]
    created_by: str
    created_by_person: Person
    created_at: Timestamp
    finished_at: OptionalTimestamp


class JobQuery(BaseModel):
    kind: str | None = None
    status: JobStatus | None = None
