"""Messaging rules that need no database: addressing a message and naming a group."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from models.errors import ValidationFailed
from models.identity import Principal
from models.messaging.operations import check_addressee
from models.messaging.schemas import MessageCreate, MessageQuery, QueryGroupRef

ME = Principal(user_id="student-1", tenant="acme")


def body(**fields: object) -> MessageCreate:
    return MessageCreate.model_validate({"content": "hi", **fields})


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"recipient_id": "user-456", "message_type": "direct"}, "direct"),
        ({"recipient_id": "user-456"}, "direct"),
        ({"group_id": 3}, "group"),
        ({"group_id": "group-3", "message_type": "group"}, "group"),
    ],
)
def test_a_well_addressed_body_gives_its_type(fields, kind):
    assert check_addressee(ME, body(**fields)) == kind


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"recipient_id": ["This field is required."]}),
        ({"message_type": "group"}, {"group_id": ["This field is required."]}),
        (
            {"recipient_id": "u", "group_id": 3},
            {"group_id": ["This field is not allowed on a direct message."]},
        ),
        (
            {"recipient_id": "u", "group_id": 3, "message_type": "group"},
            {"recipient_id": ["This field is not allowed on a group message."]},
        ),
        (
            {"recipient_id": "student-1"},
            {"recipient_id": ["You cannot send a message to yourself."]},
        ),
    ],
)
def test_a_badly_addressed_body_is_refused_on_its_fields(fields, errors):
    with pytest.raises(ValidationFailed) as failed:
        check_addressee(ME, body(**fields))

    assert failed.value.errors == errors


@pytest.mark.parametrize(("value", "expected"), [("3", 3), ("group-3", 3), (3, 3)])
def test_a_group_in_a_query_is_its_id_or_the_seed_spelling(value, expected):
    assert TypeAdapter(QueryGroupRef).validate_python(value) == expected


@pytest.mark.parametrize("value", ["0", "2147483648", "9" * 5000, "x", "\u0663", "group-"])
def test_anything_else_names_no_group(value):
    with pytest.raises(ValidationError, match="object does not exist"):
        TypeAdapter(QueryGroupRef).validate_python(value)


def test_the_message_query_reads_the_with_parameter_by_its_name():
    query = MessageQuery.model_validate({"with": "student-2", "box": "inbox"})

    assert (query.with_user, query.box) == ("student-2", "inbox")
