"""Request and response schemas of Groups Management (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from models.fields import MAX_ID, Description, Id, Name, Timestamp, UserId
from models.people.schemas import Person
from models.validation import Body, Changes

Role = Literal["owner", "moderator", "member"]


def _group_ref(value: object) -> object:
    # Imported here: operations imports these schemas.
    from models.groups.operations import parse_group_ref

    if not isinstance(value, (int, str)):
        return value  # the int validator reports it
    return parse_group_ref(value)  # refuses a bool, which pydantic would take as 0 or 1


# A group named by its id or as "group-<id>", for other domains' `group_ids`.
GroupRef = Annotated[
    int,
    BeforeValidator(_group_ref),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                {"type": "string", "pattern": "^group-[0-9]+$"},
            ]
        }
    ),
]


class GroupCreate(Body):
    name: Name
    description: Description = ""
    is_active: bool = True


class GroupUpdate(Changes):
    name: Name | None = None
    description: Description | None = None
    is_active: bool | None = None


class GroupQuery(BaseModel):
    member: Literal["me"] | None = Field(
        default=None, description="`me`: only the groups I belong to (admins included)."
    )
    is_active: bool | None = None
    search: str | None = Field(default=None, description="Matches names.")
    ordering: str | None = Field(
        default=None, description="One of name, created_at; '-' for descending."
    )


class GroupRead(BaseModel):
    id: int
    name: str
    slug: str
    description: str
    is_active: bool
    created_by: str
    created_by_person: Person
    created_at: Timestamp
    updated_at: Timestamp
    member_count: int
    my_role: Role | None = Field(description="My role in the group; null when I am not in it.")


class MemberCreate(Body):
    group: Id
    user_id: UserId
    role: Role = "member"


class MemberRoleBody(Body):
    """PUT: the role is the only field a membership lets change."""

    role: Role


class MemberUpdate(Body):
    role: Role | None = None


class MemberQuery(BaseModel):
    group: Id | None = None
    user_id: str | None = None
    role: Role | None = None


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    group: int = Field(validation_alias="group_id")
    user_id: str
    user: Person
    role: str
    joined_at: Timestamp
    added_by: str | None
    added_by_person: Person | None
