"""How a person is shown: beside a user id, and in the directory's own routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from models.fields import Timestamp


class Person(BaseModel):
    """The name object beside a user id (docs/api.md, "Names beside ids")."""

    id: str = Field(examples=["user-123"])
    name: str = Field(
        examples=["Ada Lovelace"], description="Their token's `name`; their id when unknown."
    )
    picture: str | None = Field(description="Their token's `picture` URL, if any.")


class UserRead(Person):
    """A person of the tenant; `email` only to themself and admins (null to others)."""

    email: str | None = Field(description="Only to the user themself and admins; else null.")
    updated_at: Timestamp


class MeRead(BaseModel):
    """The caller, as their token describes them now."""

    user_id: str
    name: str = Field(description="Their token's `name`; their id when it has none.")
    email: str | None
    picture: str | None
    roles: list[str]


class UserQuery(BaseModel):
    search: str | None = Field(default=None, description="Matches names and ids.")
    ordering: str | None = Field(
        default=None, description="One of name, updated_at; '-' for descending (default name)."
    )
