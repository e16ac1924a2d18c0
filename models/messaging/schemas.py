"""Request and response schemas of Messaging (pydantic v2)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, create_model

from models.errors import invalid_pk
from models.fields import SOME_TEXT, NoNul, OptionalTimestamp, Timestamp, UserId
from models.groups.schemas import GroupRef
from models.people.schemas import Person
from models.validation import Body

MessageType = Literal["direct", "group"]
MAX_CONTENT = 10_000
MessageContent = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_CONTENT),
    NoNul,
    SOME_TEXT,
]
_MAX_ID_DIGITS = 10


def _digits_to_int(value: object) -> object:
    # A query string carries `3` as text; GroupRef reads text only as "group-3".
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > _MAX_ID_DIGITS:  # int() of thousands of digits is refused, or slow
            raise ValueError(invalid_pk(value))
        return int(value)
    return value


def _not_bool(value: object) -> object:
    # The int validator underneath would take `true` for group 1.
    if isinstance(value, bool):
        raise ValueError("A valid integer is required.")
    return value


# A group in a body: `3` or `"group-3"`; in a query parameter: `3` or `group-3`.
BodyGroupRef = Annotated[GroupRef, BeforeValidator(_not_bool)]
QueryGroupRef = Annotated[GroupRef, BeforeValidator(_digits_to_int)]

_WITH = "Only direct messages between me and this user."
_GROUP_ID = "Only messages of this group (`3` or `group-3`)."


class MessageCreate(Body):
    """A direct message names `recipient_id`, a group message `group_id`, never both.

    Without `message_type`, a body naming only a `group_id` is a group message and any
    other a direct one. The WebSocket chat of a group sends this same model.
    """

    # `check_addressee`'s rule, for the OpenAPI document.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "oneOf": [
                {
                    "required": ["recipient_id"],
                    "properties": {
                        "recipient_id": {"type": "string"},
                        "group_id": {"type": "null"},
                        "message_type": {"not": {"const": "group"}},
                    },
                },
                {
                    "required": ["group_id"],
                    "properties": {
                        "recipient_id": {"type": "null"},
                        "group_id": {"not": {"type": "null"}},
                        "message_type": {"not": {"const": "direct"}},
                    },
                },
            ]
        },
    )

    recipient_id: UserId | None = Field(default=None, examples=["user-456"])
    group_id: BodyGroupRef | None = Field(default=None, description="`3` or `group-3`.")
    content: MessageContent = Field(examples=["Hello! How are you?"])
    message_type: MessageType | None = None


class MessageEdit(Body):
    """PUT: the content is the only field a message lets change."""

    content: MessageContent


class MessageEditPartial(Body):
    content: MessageContent | None = None


class ReadAllBody(Body):
    """Limits read-all to one conversation; both absent: every message I received."""

    with_user: UserId | None = Field(default=None, alias="with", description=_WITH)
    group_id: BodyGroupRef | None = Field(default=None, description=_GROUP_ID)


class ConversationFilter(BaseModel):
    """`with` is a Python keyword: `create_model` below gives the field the name clients send.

    (`read_query` keeps only parameters named like a model's fields, so an alias would not do.)
    """

    group_id: QueryGroupRef | None = Field(default=None, description=_GROUP_ID)

    @property
    def with_user(self) -> str | None:
        value = getattr(self, "with", None)
        return value if isinstance(value, str) else None


class MessageFilters(ConversationFilter):
    box: Literal["inbox", "sent"] | None = Field(
        default=None, description="`inbox`: what I received; `sent`: what I sent; absent: both."
    )
    unread: bool | None = Field(
        default=None, description="`true`: only messages I received and have not read yet."
    )
    ordering: str | None = Field(
        default=None, description="`created_at` or `-created_at` (the default: newest first)."
    )


def _with_field() -> dict[str, Any]:
    return {"with": (UserId | None, Field(default=None, description=_WITH))}


MessageQuery = create_model("MessageQuery", __base__=MessageFilters, **_with_field())
ConversationQuery = create_model("ConversationQuery", __base__=ConversationFilter, **_with_field())


class MessageRead(BaseModel):
    id: int
    sender_id: str
    sender: Person
    recipient_id: str | None = Field(description="The addressee of a direct message.")
    recipient: Person | None
    group_id: int | None = Field(description="The group of a group message.")
    message_type: MessageType
    content: str
    created_at: Timestamp
    updated_at: Timestamp
    edited_at: OptionalTimestamp = Field(description="When its sender last changed the content.")
    is_read: bool = Field(
        description="Whether I have read it; my own messages and a group's messages from "
        "before I joined it count as read."
    )
    read_at: OptionalTimestamp = Field(description="When I marked it read.")
    recipient_read_at: OptionalTimestamp = Field(
        description="A direct message: when its recipient read it (the sender's read receipt)."
    )


class GroupMessageEvent(BaseModel):
    """A group message as its group chat room hears it: no reader's own read state."""

    id: int
    sender_id: str
    sender: Person
    group_id: int
    message_type: MessageType
    content: str
    created_at: Timestamp
    updated_at: Timestamp
    edited_at: OptionalTimestamp


class ConversationRead(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    kind: MessageType
    with_user: str | None = Field(
        alias="with", description="The other user of a direct conversation."
    )
    with_person: Person | None
    group_id: int | None = Field(description="The group of a group conversation.")
    last_message: MessageRead
    unread_count: int


class UnreadCount(BaseModel):
    unread_count: int
    direct_unread_count: int
    group_unread_count: int


class ReadAllResult(BaseModel):
    marked: int = Field(description="How many messages this call marked read.")
    unread_count: int = Field(description="How many unread messages remain, in every box.")
