"""Log records: what a task carries, and what the API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from models.fields import IsoDatetime, Timestamp
from models.people.schemas import Person


class ActivityRecord(BaseModel):
    """One activity, as recorded by a domain operation and written by a worker."""

    event_id: str
    user_id: str | None
    activity_type: str
    details: str = ""
    status: str = "success"
    object_type: str | None = None
    object_id: int | None = None
    timestamp: datetime


class AuditRecord(BaseModel):
    """One audited request (or login), as built by the web process and written by a worker."""

    event_id: str
    user_id: str | None
    action_type: str
    details: str = ""
    method: str
    path: str
    status_code: int
    ip_address: str | None
    user_agent: str = ""
    request_id: str | None = None
    timestamp: datetime
    # Counted records (failed authentications, rate-limit refusals) add to one row per
    # client and minute (their event_id) instead of inserting one each.
    counted: bool = False


class ActivityLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    activity_type: str
    details: str
    timestamp: Timestamp
    status: str
    user_id: str | None
    user: Person | None
    object_type: str | None
    object_id: int | None


class ActivityLogQuery(BaseModel):
    activity_type: str | None = None
    user_id: str | None = None
    status: str | None = None
    start: IsoDatetime | None = None
    end: IsoDatetime | None = None


class AuditLogRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action_type: str
    details: str
    timestamp: Timestamp
    ip_address: str | None
    user_id: str | None
    user: Person | None
    method: str
    path: str
    status_code: int
    user_agent: str
    # Requests this row stands for: 1, or those of one client in one minute (counted ones).
    count: int


class AuditLogQuery(BaseModel):
    action_type: str | None = None
    user_id: str | None = None
    method: str | None = None
    # Bounded where it is parsed: a number past the database's integers is a 400, not a 500.
    status_code: Annotated[int, Field(ge=100, le=599)] | None = None
    start: IsoDatetime | None = None
    end: IsoDatetime | None = None
