"""Forum Management under hostile input: every bad request is a 400 or 404, never a 500."""

from __future__ import annotations

import pytest

from tests.api.test_forums import (
    FORUMS,
    POSTS,
    SEED_FORUM,
    forum_url,
    invalid,
    new_forum,
    new_post,
    post_url,
    q,
)
from tests.matchers import NOT_FOUND

HUGE = "x" * 300_000


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": "x" * 201}, {"title": ["Ensure this field has no more than 200 characters."]}),
        ({"title": "  "}, {"title": ["This field may not be blank."]}),
        ({"title": "a\x00b"}, {"title": ["Null characters are not allowed."]}),
        ({"title": None}, {"title": ["This field may not be null."]}),
        ({"description": "d"}, {"title": ["This field is required."]}),
        (
            {"title": "t", "description": HUGE},
            {"description": ["Ensure this field has no more than 20000 characters."]},
        ),
        ({"title": "t", "is_locked": "maybe"}, {"is_locked": ["Must be a valid boolean."]}),
        ({"title": "t", "group_ids": ["group-abc"]}, invalid("group_ids", "group-abc")),
        ({"title": "t", "group_ids": ["Group-1"]}, invalid("group_ids", "Group-1")),
        ({"title": "t", "group_ids": ["1"]}, invalid("group_ids", "1")),
        ({"title": "t", "group_ids": [2**31]}, invalid("group_ids", 2**31)),
        ({"title": "t", "group_ids": [0]}, invalid("group_ids", 0)),
        ({"title": "t", "group_ids": [True]}, invalid("group_ids", True)),
        ({"title": "t", "group_ids": [[1]]}, invalid("group_ids", [1])),
        ({"title": "t", "group_ids": [{"id": 1}]}, invalid("group_ids", {"id": 1})),
        ({"title": "t", "group_ids": [None]}, invalid("group_ids", None)),
        ({"title": "t", "group_ids": [1.5]}, invalid("group_ids", 1.5)),
        ({"title": "t", "group_ids": ["group-1\x00"]}, invalid("group_ids", "group-1\x00")),
        (
            {"title": "t", "group_ids": "group-1"},
            {"group_ids": ['Expected a list of items but got type "str".']},
        ),
        (
            {"title": "t", "group_ids": {"a": 1}},
            {"group_ids": ['Expected a list of items but got type "dict".']},
        ),
        ({"title": "t", "group_ids": None}, {"group_ids": ["This field may not be null."]}),
        (
            {"title": "t", "group_ids": list(range(1, 102))},
            {"group_ids": ["Ensure this field has no more than 100 elements."]},
        ),
    ],
)
async def test_hostile_forum_bodies_are_400s(api, body, errors):
    reply = await api.post(FORUMS, body, as_="instructor")

    assert reply.status == 400
    assert {**errors, "status": 400} == reply.body


async def test_group_ids_with_a_huge_group_number_is_a_400(api):
    reply = await api.post(FORUMS, {"title": "t", "group_ids": [f"group-{10**40}"]}, as_="admin")

    assert (reply.status, reply.body) == (400, invalid("group_ids", f"group-{10**40}"))


@pytest.mark.parametrize(
    "body",
    [
        {"title": None},
        {"is_active": None},
        {"group_ids": None},
        {"group_ids": ["group-x"]},
        {"title": HUGE},
    ],
)
async def test_hostile_forum_patches_are_400s(api, body):
    forum = await new_forum(api)

    reply = await api.patch(forum_url(forum["id"]), body, as_="instructor")

    assert (reply.status, list(reply.body)) == (400, [*body, "status"])


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"content": "hi"}, {"forum": ["This field is required."]}),
        ({"forum": "abc", "content": "hi"}, {"forum": ["A valid integer is required."]}),
        ({"forum": True, "content": "hi"}, {"forum": ["A valid integer is required."]}),
        ({"forum": [1], "content": "hi"}, {"forum": ["A valid integer is required."]}),
        ({"forum": {"id": 1}, "content": "hi"}, {"forum": ["A valid integer is required."]}),
        ({"forum": 2**31, "content": "hi"}, invalid("forum", 2**31)),
        ({"forum": 2**70, "content": "hi"}, {"forum": ["A valid integer is required."]}),
        ({"forum": -1, "content": "hi"}, invalid("forum", -1)),
        ({"forum": 1}, {"content": ["This field is required."]}),
        ({"forum": 1, "content": " "}, {"content": ["This field may not be blank."]}),
        ({"forum": 1, "content": "a\x00b"}, {"content": ["Null characters are not allowed."]}),
        ({"forum": 1, "content": 5}, {"content": ["Not a valid string."]}),
        (
            {"forum": 1, "content": HUGE},
            {"content": ["Ensure this field has no more than 50000 characters."]},
        ),
        ({"forum": 1, "content": "hi", "parent": 2**31}, invalid("parent", 2**31)),
        (
            {"forum": 1, "content": "hi", "parent": "x"},
            {"parent": ["A valid integer is required."]},
        ),
    ],
)
async def test_hostile_post_bodies_are_400s(api, body, errors):
    reply = await api.post(POSTS, body, as_="student")

    assert reply.status == 400
    assert {**errors, "status": 400} == reply.body


@pytest.mark.parametrize(
    "body",
    [
        {"content": None},
        {"content": ""},
        {"content": HUGE},
        {"content": "a\x00"},
        {"is_pinned": None},
        {"is_pinned": "sometimes"},
    ],
)
async def test_hostile_post_patches_are_400s(api, body):
    forum = await new_forum(api)
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), body, as_="student")

    assert (reply.status, list(reply.body)) == (400, [*body, "status"])


@pytest.mark.parametrize("body", [[], "text", 5, None])
async def test_post_body_that_is_no_object_is_a_400(api, body):
    reply = await api.call("POST", POSTS, as_="student", json=body)

    assert reply.status == 400


@pytest.mark.parametrize(
    "path",
    [forum_url(2**31), forum_url(10**30), forum_url(99999), post_url(2**31), post_url(99999)],
)
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_unknown_ids_in_the_path_are_404s(api, path, method):
    reply = await api.call(method, path, as_="admin", json={"title": "t", "content": "c"})

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize("forum_id", [2**31, 10**30, 99999])
async def test_posts_of_an_unknown_forum_are_a_404(api, forum_id):
    reply = await api.get(f"{forum_url(forum_id)}posts/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (POSTS, {"forum": "abc"}, "forum"),
        (POSTS, {"forum": str(2**31)}, "forum"),
        (POSTS, {"parent": "1.5"}, "parent"),
        (POSTS, {"top_level": "maybe"}, "top_level"),
        (POSTS, {"is_pinned": "2"}, "is_pinned"),
        (POSTS, {"author_id": "a\x00b"}, "author_id"),
        (FORUMS, {"group": "group-abc"}, "group"),
        (FORUMS, {"group": str(2**31)}, "group"),
        (FORUMS, {"is_active": "perhaps"}, "is_active"),
        (FORUMS, {"search": "a\x00"}, "search"),
    ],
)
async def test_bad_query_parameters_are_400s(api, path, params, field):
    reply = await api.get(q(path, params), as_="student")

    assert (reply.status, list(reply.body)) == (400, [field, "status"])


@pytest.mark.parametrize(
    "params",
    [
        {"ordering": "nonsense,-password"},
        {"search": "%_\\'"},
        {"author_id": "x" * 5000},
        {"page_size": "1000"},
        {"page_size": "abc"},
    ],
)
async def test_odd_but_harmless_query_parameters_are_answered(api, params):
    forum = await new_forum(api, title="100% _done_")
    await new_post(api, forum["id"])

    posts = await api.get(q(POSTS, params), as_="student")
    forums = await api.get(q(FORUMS, params), as_="student")

    assert (posts.status, forums.status) == (200, 200)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99"])
async def test_bad_pages_are_404_invalid_page(api, page):
    reply = await api.get(q(POSTS, {"page": page}), as_="student")

    assert (reply.status, reply.body) == (404, {"detail": "Invalid page.", "status": 404})


async def test_forum_put_with_the_seed_body_round_trips(api):
    forum = await new_forum(api)

    reply = await api.put(forum_url(forum["id"]), {**SEED_FORUM, "group_ids": []}, as_="instructor")

    assert reply.status == 200


async def test_nested_posts_route_refuses_writes_with_405(api):
    forum = await new_forum(api)

    reply = await api.post(f"{forum_url(forum['id'])}posts/", {"content": "x"}, as_="student")

    assert (reply.status, reply.body) == (
        405,
        {"detail": 'Method "POST" not allowed.', "status": 405},
    )
