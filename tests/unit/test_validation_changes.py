"""A PATCH body (models/validation.py `Changes`): the document says null only where the
service takes it."""

from __future__ import annotations

import pytest

from models.courses.schemas import CourseUpdate
from models.errors import ValidationFailed
from models.validation import check_changes


def test_a_patch_field_is_documented_without_null_unless_null_clears_it() -> None:
    properties = CourseUpdate.model_json_schema()["properties"]

    assert properties["title"]["type"] == "string"
    assert "anyOf" not in properties["title"] and "default" not in properties["title"]
    assert {"type": "null"} in properties["discount_price"]["anyOf"]


def test_a_null_sent_for_a_field_that_takes_none_is_refused() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_changes(CourseUpdate.model_validate({"title": None}))

    assert refused.value.errors == {"title": ["This field may not be null."]}


def test_a_null_sent_for_a_clearable_field_is_a_change() -> None:
    changes = check_changes(CourseUpdate.model_validate({"discount_price": None}))

    assert changes == {"discount_price": None}
