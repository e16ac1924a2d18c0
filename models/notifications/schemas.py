"""Request and response schemas of the notification inbox (pydantic v2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from models.fields import OptionalTimestamp, Timestamp
from models.notifications.tables import TYPES, Channel, NotificationType


class NotificationQuery(BaseModel):
    unread: bool | None = Field(default=None, description="`true`: only those not read yet.")
    type: NotificationType | None = Field(default=None, description="Only this type.")


class NotificationRead(BaseModel):
    id: int
    type: NotificationType
    title: str
    body: str
    data: dict[str, Any] = Field(description="What the event is about (ids to follow).")
    created_at: Timestamp
    read_at: OptionalTimestamp
    is_read: bool


class NotificationUnreadCount(BaseModel):
    unread_count: int


class NotificationReadAllResult(BaseModel):
    marked: int = Field(description="How many notifications this call marked read.")
    unread_count: int = Field(description="How many remain unread (0).")


def _preference_fields(optional: bool) -> dict[str, Any]:
    if optional:
        return {name: (Channel | None, Field(default=None)) for name in TYPES}
    return {name: (Channel, Field(default="in_app")) for name in TYPES}


# The documented shape of the preferences: each type's channel. `in_app`: the inbox and the
# notifications socket; `email`: the inbox only, for a mailer to send; `off`: nothing.
Preferences = create_model(
    "NotificationPreferences",
    __config__=ConfigDict(extra="forbid"),
    **_preference_fields(optional=False),
)
PreferencesChange = create_model(
    "NotificationPreferencesChange",
    __config__=ConfigDict(extra="forbid"),
    **_preference_fields(optional=True),
)


class UnsubscribeQuery(BaseModel):
    token: str = Field(
        min_length=1,
        max_length=1000,
        description="The signed token of an email's unsubscribe link.",
    )


class UnsubscribeResult(BaseModel):
    type: NotificationType | Literal["all"] = Field(
        description="The type no longer emailed (`all`: every type)."
    )
    unsubscribed: bool
