"""A response model's JSON of the service's own data, without validating it again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_serializer

from models import rendering
from models.fields import OptionalTimestamp, Timestamp
from models.forums.schemas import PostRead
from models.people.schemas import Person, UserRead
from models.rendering import dump

AT = datetime(2026, 12, 7, 3, 30, 15, 250000, tzinfo=UTC)


class Shown(BaseModel):
    course: int = Field(validation_alias="course_id")
    score: float
    passed: bool
    owner: Person
    helpers: list[Person]
    created_at: Timestamp
    edited_at: OptionalTimestamp
    note: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class Aliased(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)
    with_user: str = Field(alias="with")


class Decorated(BaseModel):
    progress: float

    @field_serializer("progress")
    def _rounded(self, value: float) -> float:
        return round(value, 1)


def _data() -> dict[str, Any]:
    person = {"id": "u-1", "name": "Ada", "picture": None}
    return {
        "course_id": 7,
        "score": 3,
        "passed": 1,
        "owner": person,
        "helpers": [person, Person(id="u-2", name="Bo", picture="https://p/2.png")],
        "created_at": AT,
        "edited_at": None,
        "extra": {"when": AT},
        "unshown": "left out",
    }


@pytest.fixture(autouse=True)
def _without_the_suite_s_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests compare with pydantic themselves; some give data pydantic would refuse."""
    monkeypatch.setattr(rendering, "CHECK_AGAINST_PYDANTIC", False)


def test_a_dump_shows_what_pydantic_shows_field_for_field_and_in_order() -> None:
    expected = Shown.model_validate(_data()).model_dump(mode="json")

    shown = dump(Shown, _data())

    # As JSON: 3 and 3.0, or 1 and true, are equal in Python but not to a client.
    assert orjson.dumps(shown) == orjson.dumps(expected)
    assert (shown["score"], shown["passed"]) == (3.0, True)
    assert (type(shown["score"]), type(shown["passed"])) == (float, bool)


def test_a_post_is_shown_as_its_validated_model_would_be() -> None:
    post = {
        "id": 1,
        "forum": 2,
        "parent": None,
        "content": "Hello",
        "author_id": "u-1",
        "author": {"id": "u-1", "name": "Ada", "picture": None},
        "is_pinned": False,
        "is_edited": True,
        "edited_at": AT,
        "reply_count": 0,
        "created_at": AT,
        "updated_at": AT,
    }

    assert dump(PostRead, post) == PostRead.model_validate(post).model_dump(mode="json")
    assert dump(PostRead, post)["created_at"] == "2026-12-07T03:30:15.250000Z"


def test_a_dump_does_not_validate_the_service_s_own_data() -> None:
    data = {**_data(), "note": 42}  # pydantic would refuse a number for a str

    assert dump(Shown, data)["note"] == 42


def test_a_field_shown_by_its_alias_is_read_by_its_alias() -> None:
    assert dump(Aliased, {"with": "u-9"}) == {"with": "u-9"}


def test_a_missing_field_takes_its_default() -> None:
    data = _data()
    del data["extra"]

    shown = dump(Shown, data)

    assert (shown["note"], shown["extra"]) == (None, {})


def test_a_model_with_a_serializer_of_its_own_is_validated_and_dumped_by_pydantic() -> None:
    assert dump(Decorated, {"progress": 33.333}) == {"progress": 33.3}
    assert rendering._plans[Decorated] is None


def test_data_that_is_not_a_dict_is_validated_and_dumped_by_pydantic() -> None:
    class FromAttributes(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        name: str

    class Row:
        name = "a row"

    assert dump(FromAttributes, Row()) == {"name": "a row"}


def test_the_suite_s_check_fails_a_dump_that_differs_from_pydantic_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rendering, "CHECK_AGAINST_PYDANTIC", True)
    monkeypatch.setitem(rendering._plans, Aliased, lambda data: {"with_user": data["with"]})

    with pytest.raises(AssertionError):
        dump(Aliased, {"with": "u-9"})


def test_a_nested_model_of_a_subclass_shows_only_the_declared_model_s_fields() -> None:
    data = _data()
    data["owner"] = UserRead(
        id="u-1", name="Ada", picture=None, email="ada@example.com", updated_at=AT
    )

    assert dump(Shown, data)["owner"] == {"id": "u-1", "name": "Ada", "picture": None}


def test_a_list_given_as_a_tuple_is_shown_as_a_list() -> None:
    class Tags(BaseModel):
        tags: list[str]

    assert dump(Tags, {"tags": ("a", "b")}) == {"tags": ["a", "b"]}


def test_a_model_read_by_name_too_takes_the_alias_first_then_the_name() -> None:
    assert dump(Aliased, {"with": "u-9", "with_user": "u-1"}) == {"with": "u-9"}
    assert dump(Aliased, {"with_user": "u-1"}) == {"with": "u-1"}


def test_a_field_left_out_of_what_is_shown_is_left_to_pydantic() -> None:
    class Secretive(BaseModel):
        name: str
        secret: str = Field(exclude=True)

    assert dump(Secretive, {"name": "a", "secret": "s"}) == {"name": "a"}
    assert rendering._plans[Secretive] is None


def test_a_serializer_used_only_for_some_values_is_left_to_pydantic() -> None:
    class Sometimes(BaseModel):
        at: Annotated[datetime | None, PlainSerializer(lambda d: d.year, when_used="unless-none")]

    assert dump(Sometimes, {"at": None}) == {"at": None}
    assert dump(Sometimes, {"at": AT}) == {"at": 2026}
    assert rendering._plans[Sometimes] is None
