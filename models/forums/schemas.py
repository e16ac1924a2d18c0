"""Request and response schemas of Forum Management (pydantic v2)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints

from models.fields import SOME_TEXT, Description, Id, NoNul, OptionalTimestamp, Timestamp, Title
from models.groups.operations import parse_group_ref
from models.people.schemas import Person
from models.validation import Body, Changes

MAX_GROUPS = 100
# Long enough for any honest post; a huge one is a 400, never a 500.
PostContent = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50_000), NoNul, SOME_TEXT
]


def _group_refs(value: object) -> object:
    """Each entry parsed as a group id (`5` or `"group-5"`), duplicates dropped.

    The whole list is checked here, so an error is reported on `group_ids` itself, with
    the same message whether an entry is malformed or names no group of the tenant.
    """
    if value is None:
        return value  # the list validator says "may not be null"
    if not isinstance(value, list):
        raise ValueError(f'Expected a list of items but got type "{type(value).__name__}".')
    if len(value) > MAX_GROUPS:
        raise ValueError(f"Ensure this field has no more than {MAX_GROUPS} elements.")
    return list(dict.fromkeys(parse_group_ref(item) for item in value))


def _group_ref(value: object) -> object:
    """A query parameter arrives as text: `5` or `group-5`."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return parse_group_ref(int(value))
    if isinstance(value, str):
        return parse_group_ref(value)
    return value


GroupIds = Annotated[
    list[int],
    BeforeValidator(_group_refs),
    Field(
        description='Groups whose members may read and post; each as `5` or `"group-5"`. '
        "Empty: everyone in the tenant."
    ),
]


# Forums


class ForumCreate(Body):
    title: Title
    description: Description = ""
    group_ids: GroupIds = []
    is_active: bool = True
    is_locked: bool = False


class ForumUpdate(Changes):
    title: Title | None = None
    description: Description | None = None
    group_ids: GroupIds | None = None
    is_active: bool | None = None
    is_locked: bool | None = None


class ForumQuery(BaseModel):
    is_active: bool | None = None
    is_locked: bool | None = None
    group: Annotated[int, BeforeValidator(_group_ref)] | None = Field(
        default=None, description="Forums limited to this group (`5` or `group-5`)."
    )
    search: str | None = Field(default=None, description="Matches titles.")
    ordering: str | None = Field(
        default=None, description="One of title, created_at; '-' for descending."
    )


class ForumRead(BaseModel):
    id: int
    title: str
    slug: str
    description: str
    group_ids: list[int]
    is_active: bool
    is_locked: bool
    created_by: str
    created_by_person: Person
    created_at: Timestamp
    updated_at: Timestamp
    post_count: int
    last_post_at: OptionalTimestamp


# Posts


class PostCreate(Body):
    forum: Id
    content: PostContent
    parent: Id | None = Field(
        default=None, description="The post this one replies to, in the same forum."
    )


class PostReplace(Body):
    """PUT: a post's forum and parent never change; its content is the required field."""

    content: PostContent
    is_pinned: bool | None = None


class PostUpdate(Changes):
    content: PostContent | None = None
    is_pinned: bool | None = None


class PostQuery(BaseModel):
    forum: Id | None = None
    parent: Id | None = Field(default=None, description="Replies to this post.")
    top_level: bool | None = Field(
        default=None, description="`true`: only posts that reply to none; `false`: only replies."
    )
    author_id: str | None = None
    is_pinned: bool | None = None
    ordering: str | None = Field(
        default=None,
        description="`-created_at` (newest first, the default) or `created_at`; "
        "pinned posts always come first.",
    )


class PostRead(BaseModel):
    id: int
    forum: int
    parent: int | None
    content: str
    author_id: str
    author: Person
    is_pinned: bool
    is_edited: bool
    edited_at: OptionalTimestamp
    reply_count: int
    created_at: Timestamp
    updated_at: Timestamp
