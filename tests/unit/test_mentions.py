"""Who a group message mentions: `@<user_id>` of a candidate, and nothing that only looks
like one."""

from __future__ import annotations

import pytest

from models.notifications.operations import mentioned_user_ids

MEMBERS = ["ada", "ada.lovelace", "student-1", "student-10"]


@pytest.mark.parametrize(
    ("text", "mentioned"),
    [
        ("@student-1 please review", ["student-1"]),
        ("Thanks, @student-1.", ["student-1"]),
        ("(@student-10)", ["student-10"]),
        ("@student-1 and @student-10", ["student-1", "student-10"]),
        ("@ada.lovelace wrote it", ["ada.lovelace"]),
        ("ask @ada.", ["ada"]),
    ],
)
def test_a_mention_names_the_longest_candidate_that_ends_there(text, mentioned):
    assert mentioned_user_ids(text, MEMBERS) == mentioned


@pytest.mark.parametrize(
    "text",
    [
        "no mention here",
        "@student-100 is not a member",
        "mail ada@example.com",
        "@@student-1 twice",
        "@ada_b is someone else",
        "@ ada",
    ],
)
def test_what_only_looks_like_a_mention_names_nobody(text):
    assert mentioned_user_ids(text, MEMBERS) == []


def test_each_candidate_is_named_once_in_the_candidates_order():
    assert mentioned_user_ids("@student-10 @ada @student-10", MEMBERS) == ["ada", "student-10"]
