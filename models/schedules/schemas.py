"""Request and response schemas of Scheduling (pydantic v2)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from models.fields import (
    NUL_MESSAGE,
    Description,
    Id,
    OptionalTimestamp,
    ShortText,
    Timestamp,
    Title,
    UserId,
    text_only,
)
from models.groups.operations import parse_group_ref
from models.groups.schemas import GroupRef
from models.people.schemas import Person
from models.schedules.recurrence import FIRST_YEAR, LAST_YEAR, normalize_rule, zone
from models.validation import Body, Changes

Status = Literal["scheduled", "cancelled"]
ResponseStatus = Literal["pending", "accepted", "declined", "tentative"]
Answer = Literal["accepted", "declined", "tentative"]
OUT_OF_RANGE = f"Datetime must fall between {FIRST_YEAR} and {LAST_YEAR}."
ONE_TARGET = "Give exactly one of user_id and group."


def _utc_in_range(value: datetime) -> datetime:
    # Checked before any conversion: a year-1 time moved to UTC could leave datetime's range.
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(OUT_OF_RANGE)
    # A time without an offset is UTC, as DRF reads it with USE_TZ and TIME_ZONE="UTC".
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


When = Annotated[
    datetime,
    BeforeValidator(text_only),
    AfterValidator(_utc_in_range),
    Field(
        description=f"ISO 8601; without an offset, UTC; years {FIRST_YEAR} to {LAST_YEAR}.",
        json_schema_extra={"pattern": r"^(?:19|2[0-9])[0-9]{2}-"},
    ),
]


def _zone(value: str) -> str:
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    zone(value)
    return value


TimeZoneName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    AfterValidator(_zone),
    Field(description="An IANA timezone name, e.g. Europe/Berlin.", examples=["UTC"]),
]
Rule = Annotated[
    str,
    StringConstraints(max_length=600),
    AfterValidator(normalize_rule),
    Field(
        description=(
            "An RFC 5545 RRULE value (FREQ=DAILY, WEEKLY, MONTHLY or YEARLY), with or "
            'without "RRULE:"; stored upper-cased with FREQ first. BYMINUTE and BYSECOND '
            "are refused (an occurrence starts at start_time's minute and second), and "
            "BYHOUR lists at most 6 hours."
        ),
        examples=["FREQ=WEEKLY;BYDAY=MO;COUNT=10"],
    ),
]


def _query_group_ref(value: object) -> object:
    # A query string is text: "3" names group 3 there, as "group-3" does.
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return parse_group_ref(int(value[:12]))
    if isinstance(value, str):
        return parse_group_ref(value)
    return value


class ScheduleCreate(Body):
    title: Title
    description: Description = ""
    start_time: When
    end_time: When
    location: ShortText = ""
    is_all_day: bool = False
    timezone: TimeZoneName = "UTC"
    recurrence: Rule | None = None
    status: Status = "scheduled"


class ScheduleUpdate(Changes):
    NULLABLE = frozenset({"recurrence"})
    title: Title | None = None
    description: Description | None = None
    start_time: When | None = None
    end_time: When | None = None
    location: ShortText | None = None
    is_all_day: bool | None = None
    timezone: TimeZoneName | None = None
    recurrence: Rule | None = Field(default=None, description="null removes the rule.")
    status: Status | None = Field(default=None, description='"cancelled" cancels it.')


class ScheduleQuery(BaseModel):
    start: When | None = Field(
        default=None, description="With `end`: one item per occurrence inside the window."
    )
    end: When | None = Field(default=None, description="With `start`; at most 366 days later.")
    status: Status | None = None
    search: str | None = Field(default=None, description="Matches titles.")
    ordering: str | None = Field(
        default=None,
        description="Without a window: start_time, created_at, title; '-' for descending.",
    )


class ScheduleRead(BaseModel):
    id: int
    title: str
    description: str
    start_time: Timestamp
    end_time: Timestamp
    location: str
    is_all_day: bool
    timezone: str
    recurrence: str | None
    status: Status
    created_by: str
    created_by_person: Person
    created_at: Timestamp
    updated_at: Timestamp
    participant_count: int = Field(description="Invited users and groups.")
    my_response: ResponseStatus | None = Field(
        description="My answer; pending when invited (alone or with a group) and silent."
    )
    recurrence_id: OptionalTimestamp = Field(
        description="In a window listing, the start of this occurrence of a recurring "
        "schedule (iCalendar's RECURRENCE-ID); null otherwise."
    )


class ParticipantCreate(Body):
    # `_one_target`, for the OpenAPI document.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "oneOf": [
                {"required": ["user_id"], "properties": {"user_id": {"type": "string"}}},
                {"required": ["group"], "properties": {"group": {"not": {"type": "null"}}}},
            ]
        },
    )

    schedule: Id
    user_id: UserId | None = None
    group: GroupRef | None = Field(default=None, description='A group id, or "group-<id>".')
    is_optional: bool = False

    @model_validator(mode="after")
    def _one_target(self) -> ParticipantCreate:
        if (self.user_id is None) == (self.group is None):
            raise ValueError(ONE_TARGET)
        return self


class ParticipantUpdate(Body):
    is_optional: bool | None = None


class ParticipantWhole(Body):
    """PUT: is_optional is the only field an invitation lets change."""

    is_optional: bool


class RespondBody(Body):
    response_status: Answer


class ParticipantQuery(BaseModel):
    schedule: Id | None = None
    user_id: str | None = None
    group: Annotated[int, BeforeValidator(_query_group_ref)] | None = None
    response_status: ResponseStatus | None = None


class ParticipantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    schedule: int = Field(validation_alias="schedule_id")
    user_id: str | None
    user: Person | None
    group: int | None = Field(validation_alias="group_id")
    via_group: int | None = Field(
        validation_alias="via_group_id",
        description="Set on a group member's own answer to a group invitation.",
    )
    is_optional: bool
    response_status: ResponseStatus
    responded_at: OptionalTimestamp
    added_by: str
    added_by_person: Person
    created_at: Timestamp
