"""Forum Management: forums ("Create Forum"; who sees and changes a forum, `group_ids`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person, q
from tests.matchers import invalid_pk as invalid

FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
ACTIVITIES = "/api/lms/activitylog/logs/"
AUDIT = "/api/lms/auditlog/logs/"

SEED_FORUM = {
    "title": "General Discussion",
    "description": "General discussion forum for all users",
    "is_active": True,
}


def forum_url(forum_id: int) -> str:
    return f"{FORUMS}{forum_id}/"


def post_url(post_id: int) -> str:
    return f"{POSTS}{post_id}/"


async def new_group(api: Any, as_: str = "instructor", **members: str) -> int:
    """A group owned by `as_`, with `members` given as user_id=role."""
    reply = await api.post(GROUPS, {"name": "Python Developers"}, as_=as_)
    assert reply.status == 201, reply.body
    for user, role in members.items():
        added = await add_member(api, reply.body["id"], user.replace("_", "-"), role, as_=as_)
        assert added.status == 201, added.body
    return int(reply.body["id"])


async def add_member(
    api: Any, group_id: int, user: str, role: str = "member", as_: str = "instructor"
) -> Any:
    return await api.post(MEMBERS, {"group": group_id, "user_id": user, "role": role}, as_=as_)


async def new_forum(api: Any, as_: str = "instructor", **fields: Any) -> dict[str, Any]:
    reply = await api.post(FORUMS, {**SEED_FORUM, **fields}, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def new_post(api: Any, forum_id: int, as_: str = "student", **fields: Any) -> dict[str, Any]:
    body = {"forum": forum_id, "content": "Welcome to the general discussion forum!", **fields}
    reply = await api.post(POSTS, body, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def group(api: Any) -> int:
    """A group of acme owned by instructor-1, with student-1 as a plain member."""
    return await new_group(api, student_1="member")


@pytest.fixture
async def closed_forum(api: Any, group: int) -> dict[str, Any]:
    """A forum of instructor-1 limited to `group`."""
    return await new_forum(api, group_ids=[group])


# Creating


async def test_instructor_creates_a_forum_with_the_seed_body(api, group):
    reply = await api.post(
        FORUMS, {**SEED_FORUM, "group_ids": [f"group-{group}"]}, as_="instructor"
    )

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "title": "General Discussion",
        "slug": "general-discussion",
        "description": "General discussion forum for all users",
        "group_ids": [group],
        "is_active": True,
        "is_locked": False,
        "created_by": "instructor-1",
        "created_by_person": person("instructor-1"),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "post_count": 0,
        "last_post_at": None,
    }


async def test_student_cannot_create_a_forum(api):
    reply = await api.post(FORUMS, SEED_FORUM, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_same_title_gets_a_distinct_slug(api):
    await new_forum(api)

    reply = await api.post(FORUMS, SEED_FORUM, as_="admin")

    assert (reply.status, reply.body["slug"]) == (201, "general-discussion-2")


async def test_group_ids_accept_ids_and_the_seed_spelling_and_drop_duplicates(api, group):
    other = await new_group(api)

    forum = await new_forum(api, group_ids=[f"group-{other}", group, f"group-{group}"])

    assert forum["group_ids"] == sorted([group, other])


async def test_group_ids_naming_no_group_is_a_400(api):
    reply = await api.post(FORUMS, {**SEED_FORUM, "group_ids": ["group-99999"]}, as_="admin")

    assert (reply.status, reply.body) == (400, invalid("group_ids", 99999))


async def test_group_ids_naming_a_group_of_another_tenant_is_a_400(api):
    theirs = await new_group(api, as_="b_instructor")

    reply = await api.post(FORUMS, {**SEED_FORUM, "group_ids": [theirs]}, as_="admin")

    assert (reply.status, reply.body) == (400, invalid("group_ids", theirs))


async def test_group_ids_naming_a_group_i_am_not_in_is_a_400(api, group):
    reply = await api.post(FORUMS, {**SEED_FORUM, "group_ids": [group]}, as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid("group_ids", group))


async def test_admin_may_limit_a_forum_to_any_group_of_the_tenant(api, group):
    forum = await new_forum(api, as_="admin", group_ids=[group])

    assert forum["group_ids"] == [group]


# Who sees a forum


async def test_forum_without_groups_is_visible_to_everyone_in_the_tenant(api):
    forum = await new_forum(api)

    reply = await api.get(forum_url(forum["id"]), as_="student2")

    assert (reply.status, reply.body["id"]) == (200, forum["id"])


async def test_non_member_cannot_see_a_group_forum(api, closed_forum):
    reply = await api.get(forum_url(closed_forum["id"]), as_="student2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_non_member_does_not_find_a_group_forum_in_the_list(api, closed_forum):
    await new_forum(api, title="Open")

    reply = await api.get(FORUMS, as_="student2")

    assert [f["title"] for f in reply.body["results"]] == ["Open"]


@pytest.mark.parametrize("who", ["student", "instructor", "admin"])
async def test_members_the_creator_and_admins_see_a_group_forum(api, closed_forum, who):
    reply = await api.get(forum_url(closed_forum["id"]), as_=who)

    assert reply.status == 200


async def test_member_of_any_of_the_groups_sees_the_forum(api, group):
    other = await new_group(api, student_2="member")
    forum = await new_forum(api, group_ids=[group, other])

    reply = await api.get(forum_url(forum["id"]), as_="student2")

    assert reply.status == 200


async def test_member_removed_from_the_group_loses_access_at_once(api, group, closed_forum):
    assert (await api.get(forum_url(closed_forum["id"]), as_="student")).status == 200
    membership = await api.get(q(MEMBERS, {"group": group, "user_id": "student-1"}), as_="admin")
    [row] = membership.body["results"]

    await api.delete(f"{MEMBERS}{row['id']}/", as_="instructor")

    reply = await api.get(forum_url(closed_forum["id"]), as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    listing = await api.get(FORUMS, as_="student")
    assert listing.body["count"] == 0


async def test_new_member_gains_access_at_once(api, group, closed_forum):
    await add_member(api, group, "student-2")

    reply = await api.get(forum_url(closed_forum["id"]), as_="student2")

    assert reply.status == 200


async def test_inactive_forum_is_seen_only_by_its_creator_and_admins(api):
    forum = await new_forum(api, is_active=False)

    student = await api.get(forum_url(forum["id"]), as_="student")
    creator = await api.get(forum_url(forum["id"]), as_="instructor")
    admin = await api.get(forum_url(forum["id"]), as_="admin")

    assert (student.status, creator.status, admin.status) == (404, 200, 200)


async def test_deleting_its_only_group_leaves_the_forum_closed_not_open(api, group, closed_forum):
    await api.delete(f"{GROUPS}{group}/", as_="instructor")

    outsider = await api.get(forum_url(closed_forum["id"]), as_="student2")
    creator = await api.get(forum_url(closed_forum["id"]), as_="instructor")

    assert (outsider.status, outsider.body) == (404, NOT_FOUND)
    assert (creator.status, creator.body["group_ids"]) == (200, [])


async def test_clearing_group_ids_opens_the_forum_to_everyone(api, closed_forum):
    reply = await api.patch(forum_url(closed_forum["id"]), {"group_ids": []}, as_="instructor")

    assert (reply.status, reply.body["group_ids"]) == (200, [])
    assert (await api.get(forum_url(closed_forum["id"]), as_="student2")).status == 200


# Lists


async def test_list_filters_by_group(api, group, closed_forum):
    await new_forum(api, title="Open")

    reply = await api.get(q(FORUMS, {"group": f"group-{group}"}), as_="admin")

    assert [f["id"] for f in reply.body["results"]] == [closed_forum["id"]]


async def test_list_filters_by_is_active(api):
    await new_forum(api, title="Old", is_active=False)
    await new_forum(api, title="Current")

    reply = await api.get(q(FORUMS, {"is_active": "false"}), as_="admin")

    assert [f["title"] for f in reply.body["results"]] == ["Old"]


async def test_search_matches_titles(api):
    await new_forum(api, title="Python help")
    await new_forum(api, title="Rust corner")

    reply = await api.get(q(FORUMS, {"search": "RUST"}), as_="student")

    assert [f["title"] for f in reply.body["results"]] == ["Rust corner"]


async def test_ordering_by_title(api):
    for title in ("b", "c", "a"):
        await new_forum(api, title=title)

    ascending = await api.get(q(FORUMS, {"ordering": "title"}), as_="student")
    descending = await api.get(q(FORUMS, {"ordering": "-title"}), as_="student")

    assert [f["title"] for f in ascending.body["results"]] == ["a", "b", "c"]
    assert [f["title"] for f in descending.body["results"]] == ["c", "b", "a"]


async def test_newest_forums_come_first_by_default(api):
    for title in ("first", "second"):
        await new_forum(api, title=title)

    reply = await api.get(FORUMS, as_="student")

    assert [f["title"] for f in reply.body["results"]] == ["second", "first"]


async def test_forum_counts_its_posts_and_tells_when_the_last_came(api):
    forum = await new_forum(api)
    await new_post(api, forum["id"])
    last = await new_post(api, forum["id"], as_="student2")

    listing = await api.get(FORUMS, as_="student")
    detail = await api.get(forum_url(forum["id"]), as_="student")

    [row] = listing.body["results"]
    assert (row["post_count"], row["last_post_at"]) == (2, last["created_at"])
    assert detail.body == row


async def test_list_is_paginated_as_drf(api):
    for n in range(3):
        await new_forum(api, title=f"forum {n}")

    reply = await api.get(q(FORUMS, {"page_size": 2, "ordering": "title"}), as_="student")

    assert reply.body["count"] == 3
    assert reply.body["next"].endswith("?page_size=2&ordering=title&page=2")
    assert reply.body["previous"] is None


# Changing and deleting


async def test_creator_edits_the_forum_and_the_slug_stays(api):
    forum = await new_forum(api)

    reply = await api.patch(forum_url(forum["id"]), {"title": "Chat"}, as_="instructor")

    assert reply.status == 200
    assert (reply.body["title"], reply.body["slug"]) == ("Chat", "general-discussion")


async def test_patching_group_ids_replaces_the_set(api, group, closed_forum):
    other = await new_group(api)

    reply = await api.patch(
        forum_url(closed_forum["id"]), {"group_ids": [f"group-{other}"]}, as_="instructor"
    )

    assert (reply.status, reply.body["group_ids"]) == (200, [other])


async def test_another_instructor_cannot_edit_the_forum(api):
    forum = await new_forum(api)

    reply = await api.patch(forum_url(forum["id"]), {"title": "Mine"}, as_="instructor2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_admin_edits_any_forum(api):
    forum = await new_forum(api)

    reply = await api.patch(forum_url(forum["id"]), {"description": "Rules"}, as_="admin")

    assert (reply.status, reply.body["description"]) == (200, "Rules")


async def test_group_moderator_locks_the_forum(api):
    group = await new_group(api, student_1="moderator")
    forum = await new_forum(api, group_ids=[group])

    reply = await api.patch(forum_url(forum["id"]), {"is_locked": True}, as_="student")

    assert (reply.status, reply.body["is_locked"]) == (200, True)


async def test_group_moderator_cannot_change_anything_else(api):
    group = await new_group(api, student_1="moderator")
    forum = await new_forum(api, group_ids=[group])

    reply = await api.patch(
        forum_url(forum["id"]), {"is_locked": True, "title": "Mine"}, as_="student"
    )

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_group_moderator_may_put_back_what_they_read_with_the_lock_flipped(api):
    group = await new_group(api, student_1="moderator")
    forum = await new_forum(api, group_ids=[group])

    reply = await api.put(forum_url(forum["id"]), {**forum, "is_locked": True}, as_="student")

    assert (reply.status, reply.body["is_locked"]) == (200, True)


async def test_plain_member_cannot_lock_the_forum(api, closed_forum):
    reply = await api.patch(forum_url(closed_forum["id"]), {"is_locked": True}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_put_needs_the_title(api):
    forum = await new_forum(api)

    reply = await api.put(forum_url(forum["id"]), {"description": "x"}, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"title": ["This field is required."], "status": 400},
    )


async def test_creator_deletes_the_forum_with_its_posts(api):
    forum = await new_forum(api)
    post = await new_post(api, forum["id"])

    reply = await api.delete(forum_url(forum["id"]), as_="instructor")

    assert reply.status == 204
    assert (await api.get(post_url(post["id"]), as_="admin")).status == 404


async def test_group_moderator_cannot_delete_the_forum_but_an_admin_can(api):
    group = await new_group(api, student_1="moderator")
    forum = await new_forum(api, group_ids=[group])

    denied = await api.delete(forum_url(forum["id"]), as_="student")
    deleted = await api.delete(forum_url(forum["id"]), as_="admin")

    assert (denied.status, denied.body) == (403, FORBIDDEN)
    assert deleted.status == 204


async def test_non_member_changing_a_group_forum_gets_404_not_403(api, closed_forum):
    patch = await api.patch(forum_url(closed_forum["id"]), {"title": "x"}, as_="instructor2")
    delete = await api.delete(forum_url(closed_forum["id"]), as_="instructor2")

    assert (patch.status, delete.status) == (404, 404)


# Tenancy


async def test_forum_of_another_tenant_is_invisible(api):
    forum = await new_forum(api)

    detail = await api.get(forum_url(forum["id"]), as_="b_admin")
    listing = await api.get(FORUMS, as_="b_admin")

    assert (detail.status, detail.body) == (404, NOT_FOUND)
    assert listing.body["count"] == 0


async def test_forum_of_another_tenant_cannot_be_changed_or_deleted(api):
    forum = await new_forum(api)

    patch = await api.patch(forum_url(forum["id"]), {"title": "Ours"}, as_="b_admin")
    delete = await api.delete(forum_url(forum["id"]), as_="b_admin")

    assert (patch.status, delete.status) == (404, 404)
    assert (await api.get(forum_url(forum["id"]), as_="admin")).body["title"] == SEED_FORUM["title"]


# Activity and audit


@pytest.mark.parametrize("activity_type", ["forum_created", "forum_updated", "forum_deleted"])
async def test_every_forum_change_records_its_activity(api, activity_type):
    forum = await new_forum(api)
    await api.patch(forum_url(forum["id"]), {"is_locked": True}, as_="instructor")
    await api.delete(forum_url(forum["id"]), as_="instructor")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": activity_type}), as_="admin")

    assert [(r["user_id"], r["object_type"], r["object_id"]) for r in reply.body["results"]] == [
        ("instructor-1", "forum", forum["id"])
    ]


async def test_forum_changes_are_audited_by_name(api):
    forum = await new_forum(api)
    await api.patch(forum_url(forum["id"]), {"is_locked": True}, as_="instructor")
    await api.delete(forum_url(forum["id"]), as_="instructor")
    await api.settled()

    reply = await api.get(q(AUDIT, {"user_id": "instructor-1"}), as_="admin")

    assert sorted(r["action_type"] for r in reply.body["results"]) == [
        "forum_created",
        "forum_deleted",
        "forum_updated",
        "user_login",
    ]
