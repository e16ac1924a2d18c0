"""Forum request schemas: how `group_ids`, filters and post content are read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from models.forums.schemas import ForumCreate, ForumQuery, ForumUpdate, PostCreate, PostQuery


def test_group_ids_take_ids_and_the_seed_spelling_in_order_without_duplicates() -> None:
    body = ForumCreate.model_validate({"title": "t", "group_ids": ["group-3", 1, 3, "group-1"]})

    assert body.group_ids == [3, 1]


def test_group_ids_default_to_empty_so_the_forum_is_open() -> None:
    assert ForumCreate.model_validate({"title": "t"}).group_ids == []


def test_a_patch_without_group_ids_leaves_them_unset() -> None:
    assert "group_ids" not in ForumUpdate.model_validate({"title": "t"}).model_fields_set


@pytest.mark.parametrize("entry", ["group-", "group-x", "7", "", 0, -3, 2**31, True, [1], None])
def test_any_other_group_entry_is_refused_on_group_ids_itself(entry: object) -> None:
    with pytest.raises(ValidationError) as failed:
        ForumCreate.model_validate({"title": "t", "group_ids": [entry]})

    [error] = failed.value.errors()
    assert error["loc"] == ("group_ids",)
    assert str(error["msg"]).endswith(f'Invalid pk "{entry}" - object does not exist.')


@pytest.mark.parametrize(("value", "expected"), [("5", 5), ("group-5", 5)])
def test_group_filter_reads_an_id_or_the_seed_spelling(value: str, expected: int) -> None:
    assert ForumQuery.model_validate({"group": value}).group == expected


def test_post_content_is_trimmed() -> None:
    assert PostCreate.model_validate({"forum": 1, "content": "  hi \n"}).content == "hi"


def test_post_query_reads_booleans_as_django_filter_does() -> None:
    query = PostQuery.model_validate({"top_level": "true", "is_pinned": "false"})

    assert (query.top_level, query.is_pinned) == (True, False)
