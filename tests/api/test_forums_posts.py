"""Forum Management: posts and replies ("Create Post"; who may post, a locked forum)."""

from __future__ import annotations

from typing import Any

import pytest
from yarl import URL

from bench.statements import StatementCounter
from models.forums.posts import access_post_forum, check_new_post, do_create_post
from models.forums.schemas import PostCreate
from models.identity import Principal
from tests.api.test_forums import (
    ACTIVITIES,
    AUDIT,
    FORUMS,
    POSTS,
    add_member,
    forum_url,
    invalid,
    new_forum,
    new_group,
    new_post,
    post_url,
    q,
)
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person
from web.keys import DATABASES

SEED_POST_CONTENT = "Welcome to the general discussion forum!"
LOCKED = {"detail": "This forum is locked.", "status": 403}


def forum_posts_url(forum_id: int) -> str:
    return f"{forum_url(forum_id)}posts/"


@pytest.fixture
async def forum(api: Any) -> dict[str, Any]:
    """An open forum of instructor-1."""
    return await new_forum(api)


@pytest.fixture
async def group(api: Any) -> int:
    """instructor-1 owns it; student-1 is a member, student-2 is not in it."""
    return await new_group(api, student_1="member")


@pytest.fixture
async def closed_forum(api: Any, group: int) -> dict[str, Any]:
    return await new_forum(api, group_ids=[group])


def contents(reply: Any) -> list[str]:
    return [p["content"] for p in reply.body["results"]]


# Posting


async def test_member_posts_with_the_seed_body(api, forum):
    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": SEED_POST_CONTENT}, as_="student"
    )

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "forum": forum["id"],
        "parent": None,
        "content": SEED_POST_CONTENT,
        "author_id": "student-1",
        "author": person("student-1"),
        "is_pinned": False,
        "is_edited": False,
        "edited_at": None,
        "reply_count": 0,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


async def test_member_of_the_group_posts_in_a_group_forum(api, closed_forum):
    reply = await api.post(POSTS, {"forum": closed_forum["id"], "content": "hi"}, as_="student")

    assert reply.status == 201


async def test_non_member_posting_in_a_group_forum_is_a_400_on_forum(api, closed_forum):
    reply = await api.post(POSTS, {"forum": closed_forum["id"], "content": "hi"}, as_="student2")

    assert (reply.status, reply.body) == (400, invalid("forum", closed_forum["id"]))


async def test_posting_in_an_unknown_forum_is_a_400_on_forum(api):
    reply = await api.post(POSTS, {"forum": 99999, "content": "hi"}, as_="student")

    assert (reply.status, reply.body) == (400, invalid("forum", 99999))


@pytest.mark.parametrize("who", ["student", "instructor", "admin"])
async def test_nobody_posts_in_a_locked_forum(api, who):
    forum = await new_forum(api, is_locked=True)

    reply = await api.post(POSTS, {"forum": forum["id"], "content": "hi"}, as_=who)

    assert (reply.status, reply.body) == (403, LOCKED)


async def test_replying_in_a_locked_forum_is_refused_too(api, forum):
    post = await new_post(api, forum["id"])
    await api.patch(forum_url(forum["id"]), {"is_locked": True}, as_="instructor")

    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "hi", "parent": post["id"]}, as_="student"
    )

    assert (reply.status, reply.body) == (403, LOCKED)


async def test_unlocking_the_forum_allows_posts_again(api):
    forum = await new_forum(api, is_locked=True)
    await api.patch(forum_url(forum["id"]), {"is_locked": False}, as_="instructor")

    reply = await api.post(POSTS, {"forum": forum["id"], "content": "hi"}, as_="student")

    assert reply.status == 201


async def test_nobody_posts_in_an_inactive_forum(api):
    forum = await new_forum(api, is_active=False)

    creator = await api.post(POSTS, {"forum": forum["id"], "content": "hi"}, as_="instructor")
    student = await api.post(POSTS, {"forum": forum["id"], "content": "hi"}, as_="student")

    assert (creator.status, creator.body) == (
        403,
        {"detail": "This forum is not active.", "status": 403},
    )
    assert (student.status, student.body) == (400, invalid("forum", forum["id"]))


# Replies


async def test_reply_names_its_parent_and_counts_on_it(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "Thanks", "parent": post["id"]}, as_="student2"
    )

    assert (reply.status, reply.body["parent"]) == (201, post["id"])
    assert (await api.get(post_url(post["id"]), as_="student")).body["reply_count"] == 1


async def test_reply_to_a_reply_is_allowed(api, forum):
    post = await new_post(api, forum["id"])
    first = await new_post(api, forum["id"], parent=post["id"])

    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "deeper", "parent": first["id"]}, as_="student"
    )

    assert (reply.status, reply.body["parent"]) == (201, first["id"])


async def test_reply_to_a_post_of_another_forum_is_a_400_on_parent(api, forum):
    elsewhere = await new_forum(api, title="Elsewhere")
    post = await new_post(api, elsewhere["id"])

    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "hi", "parent": post["id"]}, as_="student"
    )

    assert (reply.status, reply.body) == (
        400,
        {"parent": ["The parent post belongs to another forum."], "status": 400},
    )


async def test_reply_to_a_post_i_cannot_see_is_a_400_invalid_pk(api, forum, closed_forum):
    hidden = await new_post(api, closed_forum["id"])

    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "hi", "parent": hidden["id"]}, as_="student2"
    )

    assert (reply.status, reply.body) == (400, invalid("parent", hidden["id"]))


async def test_reply_to_an_unknown_post_is_a_400_on_parent(api, forum):
    reply = await api.post(
        POSTS, {"forum": forum["id"], "content": "hi", "parent": 99999}, as_="student"
    )

    assert (reply.status, reply.body) == (400, invalid("parent", 99999))


# Reading


async def test_non_member_cannot_read_a_group_forums_posts(api, closed_forum):
    post = await new_post(api, closed_forum["id"])

    detail = await api.get(post_url(post["id"]), as_="student2")
    nested = await api.get(forum_posts_url(closed_forum["id"]), as_="student2")
    filtered = await api.get(q(POSTS, {"forum": closed_forum["id"]}), as_="student2")
    everything = await api.get(POSTS, as_="student2")

    assert (detail.status, detail.body) == (404, NOT_FOUND)
    assert (nested.status, nested.body) == (404, NOT_FOUND)
    assert (filtered.status, filtered.body["count"]) == (200, 0)
    assert everything.body["count"] == 0


async def test_member_removed_from_the_group_loses_the_posts_at_once(api, group, closed_forum):
    post = await new_post(api, closed_forum["id"])
    membership = await api.get(q("/api/lms/groups/members/", {"user_id": "student-1"}), as_="admin")
    [row] = membership.body["results"]

    await api.delete(f"/api/lms/groups/members/{row['id']}/", as_="student")

    assert (await api.get(post_url(post["id"]), as_="student")).status == 404
    denied = await api.post(POSTS, {"forum": closed_forum["id"], "content": "x"}, as_="student")
    assert (denied.status, denied.body) == (400, invalid("forum", closed_forum["id"]))


async def test_forum_posts_route_lists_the_same_as_the_forum_filter(api, forum):
    await new_post(api, forum["id"])
    other = await new_forum(api, title="Other")
    await new_post(api, other["id"])

    nested = await api.get(forum_posts_url(forum["id"]), as_="student")
    filtered = await api.get(q(POSTS, {"forum": forum["id"]}), as_="student")

    assert nested.body["count"] == 1
    assert nested.body["results"] == filtered.body["results"]


async def test_a_listed_post_is_its_detail_field_for_field_in_order(api, forum):
    post = await new_post(api, forum["id"])
    await new_post(api, forum["id"], parent=post["id"])
    await api.patch(post_url(post["id"]), {"content": "Edited"}, as_="student")
    await api.patch(post_url(post["id"]), {"is_pinned": True}, as_="admin")

    page = await api.get(forum_posts_url(forum["id"]), as_="student")
    detail = await api.get(post_url(post["id"]), as_="student")

    listed = page.body["results"][0]
    assert list(listed.items()) == list(detail.body.items())
    assert (listed["reply_count"], listed["is_edited"], listed["is_pinned"]) == (1, True, True)
    assert listed["edited_at"].endswith("Z")


async def test_a_page_past_the_end_of_a_forum_is_404_invalid_page(api, forum):
    await new_post(api, forum["id"])

    reply = await api.get(f"{forum_posts_url(forum['id'])}?page=2", as_="student")

    assert (reply.status, reply.body) == (404, {"detail": "Invalid page.", "status": 404})


async def test_an_empty_forum_lists_an_empty_first_page(api, forum):
    reply = await api.get(forum_posts_url(forum["id"]), as_="student")

    assert reply.body == {"count": 0, "next": None, "previous": None, "results": []}


async def test_any_page_of_a_forum_i_cannot_see_is_404_not_found(api, closed_forum):
    await new_post(api, closed_forum["id"])

    for page in ("1", "2", str(2**40)):
        reply = await api.get(f"{forum_posts_url(closed_forum['id'])}?page={page}", as_="student2")
        assert (reply.status, reply.body) == (404, NOT_FOUND), page


async def test_posts_are_newest_first_by_default(api, forum):
    for n in range(3):
        await new_post(api, forum["id"], content=f"post {n}")

    reply = await api.get(forum_posts_url(forum["id"]), as_="student")

    assert contents(reply) == ["post 2", "post 1", "post 0"]


async def test_ordering_created_at_lists_oldest_first_across_pages(api, forum):
    for n in range(3):
        await new_post(api, forum["id"], content=f"post {n}")

    first = await api.get(
        q(forum_posts_url(forum["id"]), {"ordering": "created_at", "page_size": 2}), as_="student"
    )
    second = await api.get(URL(first.body["next"]).path_qs, as_="student")

    assert (first.body["count"], contents(first), first.body["previous"]) == (
        3,
        ["post 0", "post 1"],
        None,
    )
    assert (contents(second), second.body["next"]) == (["post 2"], None)


async def test_newest_first_pages_continue_where_the_first_stopped(api, forum):
    for n in range(3):
        await new_post(api, forum["id"], content=f"post {n}")

    second = await api.get(
        q(forum_posts_url(forum["id"]), {"ordering": "-created_at", "page_size": 2, "page": 2}),
        as_="student",
    )

    assert contents(second) == ["post 0"]
    assert second.body["previous"].endswith("?ordering=-created_at&page_size=2")


async def test_pinned_posts_come_first_in_either_order(api, forum):
    old = await new_post(api, forum["id"], content="old")
    await new_post(api, forum["id"], content="middle")
    await new_post(api, forum["id"], content="new")
    await api.patch(post_url(old["id"]), {"is_pinned": True}, as_="instructor")

    newest = await api.get(forum_posts_url(forum["id"]), as_="student")
    oldest = await api.get(
        q(forum_posts_url(forum["id"]), {"ordering": "created_at"}), as_="student"
    )

    assert contents(newest) == ["old", "new", "middle"]
    assert contents(oldest) == ["old", "middle", "new"]


async def test_top_level_and_parent_filters(api, forum):
    post = await new_post(api, forum["id"], content="question")
    await new_post(api, forum["id"], content="answer", parent=post["id"])

    top = await api.get(q(POSTS, {"forum": forum["id"], "top_level": "true"}), as_="student")
    replies = await api.get(q(POSTS, {"parent": post["id"]}), as_="student")

    assert (contents(top), contents(replies)) == (["question"], ["answer"])


async def test_author_filter(api, forum):
    await new_post(api, forum["id"], content="mine")
    await new_post(api, forum["id"], as_="student2", content="theirs")

    reply = await api.get(q(POSTS, {"author_id": "student-2"}), as_="student")

    assert contents(reply) == ["theirs"]


# Editing and pinning


async def test_author_edits_the_content_and_the_post_says_so(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"content": "Edited"}, as_="student")

    assert reply.status == 200
    assert (reply.body["content"], reply.body["is_edited"], reply.body["edited_at"]) == (
        "Edited",
        True,
        TIMESTAMP,
    )


async def test_author_puts_back_what_they_read_with_new_content(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.put(post_url(post["id"]), {**post, "content": "Edited"}, as_="student")

    assert (reply.status, reply.body["content"]) == (200, "Edited")


async def test_put_needs_the_content(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.put(post_url(post["id"]), {"is_pinned": False}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"content": ["This field is required."], "status": 400},
    )


async def test_non_author_cannot_edit_a_post(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"content": "Mine now"}, as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_admin_does_not_rewrite_someone_elses_post(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"content": "Moderated"}, as_="admin")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_author_cannot_pin_their_own_post(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"is_pinned": True}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


@pytest.mark.parametrize("who", ["instructor", "admin"])
async def test_forum_creator_and_admin_pin_a_post(api, forum, who):
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"is_pinned": True}, as_=who)

    assert (reply.status, reply.body["is_pinned"], reply.body["is_edited"]) == (200, True, False)


async def test_group_moderator_pins_a_post(api):
    group = await new_group(api, student_2="moderator", student_1="member")
    forum = await new_forum(api, group_ids=[group])
    post = await new_post(api, forum["id"])

    reply = await api.patch(post_url(post["id"]), {"is_pinned": True}, as_="student2")

    assert (reply.status, reply.body["is_pinned"]) == (200, True)


# Deleting


async def test_author_deletes_their_post(api, forum):
    post = await new_post(api, forum["id"])

    reply = await api.delete(post_url(post["id"]), as_="student")

    assert reply.status == 204
    assert (await api.get(post_url(post["id"]), as_="student")).status == 404


@pytest.mark.parametrize("role", ["moderator", "owner"])
async def test_group_moderator_or_owner_deletes_any_post(api, role):
    group = await new_group(api, student_1="member")
    await add_member(api, group, "student-2", role)
    forum = await new_forum(api, group_ids=[group])
    post = await new_post(api, forum["id"])

    reply = await api.delete(post_url(post["id"]), as_="student2")

    assert reply.status == 204


@pytest.mark.parametrize("who", ["instructor", "admin"])
async def test_forum_creator_and_admin_delete_any_post(api, forum, who):
    post = await new_post(api, forum["id"])

    reply = await api.delete(post_url(post["id"]), as_=who)

    assert reply.status == 204


async def test_plain_member_cannot_delete_another_members_post(api, group, closed_forum):
    await add_member(api, group, "student-2")
    post = await new_post(api, closed_forum["id"])

    reply = await api.delete(post_url(post["id"]), as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_moderator_of_an_unrelated_group_cannot_delete(api, forum):
    await new_group(api, as_="instructor2", student_2="moderator")
    post = await new_post(api, forum["id"])

    reply = await api.delete(post_url(post["id"]), as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_deleting_a_post_deletes_its_replies(api, forum):
    post = await new_post(api, forum["id"])
    answer = await new_post(api, forum["id"], parent=post["id"])
    deeper = await new_post(api, forum["id"], parent=answer["id"])

    await api.delete(post_url(post["id"]), as_="student")

    for gone in (answer, deeper):
        assert (await api.get(post_url(gone["id"]), as_="admin")).status == 404
    assert (await api.get(forum_url(forum["id"]), as_="admin")).body["post_count"] == 0


# Tenancy


async def test_post_of_another_tenant_is_invisible(api, forum):
    post = await new_post(api, forum["id"])

    detail = await api.get(post_url(post["id"]), as_="b_admin")
    listing = await api.get(POSTS, as_="b_admin")
    nested = await api.get(forum_posts_url(forum["id"]), as_="b_admin")

    assert (detail.status, detail.body) == (404, NOT_FOUND)
    assert listing.body["count"] == 0
    assert (nested.status, nested.body) == (404, NOT_FOUND)


async def test_post_of_another_tenant_cannot_be_changed_or_deleted(api, forum):
    post = await new_post(api, forum["id"])

    patch = await api.patch(post_url(post["id"]), {"is_pinned": True}, as_="b_admin")
    delete = await api.delete(post_url(post["id"]), as_="b_admin")

    assert (patch.status, delete.status) == (404, 404)
    assert (await api.get(post_url(post["id"]), as_="admin")).body["is_pinned"] is False


async def test_posting_in_a_forum_of_another_tenant_is_a_400(api, forum):
    reply = await api.post(POSTS, {"forum": forum["id"], "content": "hi"}, as_="b_admin")

    assert (reply.status, reply.body) == (400, invalid("forum", forum["id"]))


async def test_replying_to_a_post_of_another_tenant_is_a_400(api, forum):
    ours = await new_post(api, forum["id"])
    theirs = await new_forum(api, as_="b_instructor")

    reply = await api.post(
        POSTS, {"forum": theirs["id"], "content": "hi", "parent": ours["id"]}, as_="b_student"
    )

    assert (reply.status, reply.body) == (400, invalid("parent", ours["id"]))


# Activity, audit, and the operation a WebSocket frame calls


@pytest.mark.parametrize(
    "activity_type", ["forum_post_created", "forum_post_updated", "forum_post_deleted"]
)
async def test_every_post_change_records_its_activity(api, forum, activity_type):
    post = await new_post(api, forum["id"])
    await api.patch(post_url(post["id"]), {"content": "Edited"}, as_="student")
    await api.delete(post_url(post["id"]), as_="student")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": activity_type}), as_="admin")

    assert [(r["user_id"], r["object_type"], r["object_id"]) for r in reply.body["results"]] == [
        ("student-1", "forum_post", post["id"])
    ]


async def test_post_changes_are_audited_as_forum_posts(api, forum):
    post = await new_post(api, forum["id"])
    await api.put(post_url(post["id"]), {"content": "Edited"}, as_="student")
    await api.delete(post_url(post["id"]), as_="student")
    await api.settled()

    reply = await api.get(q(AUDIT, {"user_id": "student-1"}), as_="admin")

    assert sorted(r["action_type"] for r in reply.body["results"]) == [
        "forum_post_created",
        "forum_post_deleted",
        "forum_post_updated",
        "user_login",
    ]


async def test_do_create_post_needs_no_http_request(api, app, forum):
    actor = Principal(user_id="student-1", tenant="acme")
    data = PostCreate.model_validate({"forum": forum["id"], "content": " From a socket "})

    async with app[DATABASES].tenant_sessions("acme").begin() as session:
        forum_row = await access_post_forum(session, actor=actor, forum_id=data.forum)
        await check_new_post(session, actor=actor, forum=forum_row, data=data)
        created = await do_create_post(session, actor=actor, forum=forum_row, data=data)
        post_id = created.post.id

    reply = await api.get(post_url(post_id), as_="student2")
    assert (reply.status, reply.body["content"], reply.body["author_id"]) == (
        200,
        "From a socket",
        "student-1",
    )


async def test_forum_list_is_not_confused_by_posts_of_hidden_forums(api, forum, closed_forum):
    await new_post(api, closed_forum["id"])

    reply = await api.get(FORUMS, as_="student2")

    assert [(f["id"], f["post_count"]) for f in reply.body["results"]] == [(forum["id"], 0)]


async def _forum_statements(api: Any, app: Any, path: str) -> int:
    with StatementCounter() as counter:
        reply = await api.get(path, as_="student")
    statements = counter.statements
    assert reply.status == 200
    counted = len([s for s in statements if "forum" in s])
    assert counted > 0  # the listener hears the request's queries
    return counted


@pytest.mark.parametrize("path", [FORUMS, POSTS])
async def test_a_page_costs_the_same_queries_whatever_its_size(api, app, group, path):
    async def grow() -> None:
        for _ in range(3):
            forum = await new_forum(api, group_ids=[group])
            post = await new_post(api, forum["id"])
            await new_post(api, forum["id"], parent=post["id"])

    await grow()
    small = await _forum_statements(api, app, path)
    await grow()
    large = await _forum_statements(api, app, path)

    # count, page, and one query per thing a row adds (groups, post stats; reply counts)
    assert small == large <= 4
