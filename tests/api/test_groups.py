"""Groups Management ("Create Group", "Add Member to Group"; who may do what)."""

from __future__ import annotations

from typing import Any

import pytest

from models.errors import ValidationFailed
from models.fields import MAX_ID
from models.groups.operations import (
    check_groups_exist,
    group_ids_of,
    is_member,
    member_role,
    parse_group_ref,
)
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person, q
from web.keys import DATABASES

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
ACTIVITIES = "/api/lms/activitylog/logs/"
AUDIT = "/api/lms/auditlog/logs/"

SEED_GROUP = {
    "name": "Python Developers",
    "description": "Group for Python programming enthusiasts",
    "is_active": True,
}
ALREADY_MEMBER = {"detail": "This user is already a member of this group.", "status": 409}
LAST_OWNER = "A group must keep at least one owner."


def group_url(group_id: int) -> str:
    return f"{GROUPS}{group_id}/"


def member_url(member_id: int) -> str:
    return f"{MEMBERS}{member_id}/"


def invalid_group(value: Any) -> dict[str, Any]:
    return {"group": [f'Invalid pk "{value}" - object does not exist.'], "status": 400}


@pytest.fixture
async def group(api) -> dict[str, Any]:
    """A group of acme created by `instructor` (instructor-1, its owner)."""
    reply = await api.post(GROUPS, SEED_GROUP, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def add(api, group_id: int, user: str, role: str = "member", as_: str = "instructor") -> Any:
    return await api.post(MEMBERS, {"group": group_id, "user_id": user, "role": role}, as_=as_)


async def membership_of(api, group_id: int, user: str) -> dict[str, Any]:
    reply = await api.get(q(MEMBERS, {"group": group_id, "user_id": user}), as_="admin")
    [row] = reply.body["results"]
    return dict(row)


# Groups


async def test_instructor_creates_a_group_and_becomes_its_owner(api):
    reply = await api.post(GROUPS, SEED_GROUP, as_="instructor")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "name": "Python Developers",
        "slug": "python-developers",
        "description": "Group for Python programming enthusiasts",
        "is_active": True,
        "created_by": "instructor-1",
        "created_by_person": person("instructor-1"),
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
        "member_count": 1,
        "my_role": "owner",
    }
    owner = await membership_of(api, reply.body["id"], "instructor-1")
    assert owner == {
        "id": ID,
        "group": reply.body["id"],
        "user_id": "instructor-1",
        "user": person("instructor-1"),
        "role": "owner",
        "joined_at": TIMESTAMP,
        "added_by": "instructor-1",
        "added_by_person": person("instructor-1"),
    }


async def test_student_cannot_create_a_group(api):
    reply = await api.post(GROUPS, SEED_GROUP, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_same_name_gets_a_distinct_slug(api, group):
    reply = await api.post(GROUPS, SEED_GROUP, as_="instructor2")

    assert (reply.status, reply.body["slug"]) == (201, "python-developers-2")


async def test_group_is_invisible_to_a_non_member(api, group):
    reply = await api.get(group_url(group["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_admin_outside_the_group_sees_it_with_no_role(api, group):
    reply = await api.get(group_url(group["id"]), as_="admin")

    assert reply.status == 200
    assert (reply.body["member_count"], reply.body["my_role"]) == (1, None)


async def test_member_filter_lists_only_my_groups(api, group):
    await api.post(GROUPS, {"name": "Other"}, as_="instructor2")
    await add(api, group["id"], "student-1")

    reply = await api.get(q(GROUPS, {"member": "me"}), as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 1
    assert [(g["id"], g["my_role"], g["member_count"]) for g in reply.body["results"]] == [
        (group["id"], "member", 2)
    ]


async def test_admin_lists_every_group_but_only_theirs_with_member_me(api, group):
    everything = await api.get(GROUPS, as_="admin")
    mine = await api.get(q(GROUPS, {"member": "me"}), as_="admin")

    assert (everything.body["count"], mine.body["count"]) == (1, 0)


async def test_search_matches_group_names(api, group):
    await api.post(GROUPS, {"name": "Rust Crew"}, as_="instructor")

    reply = await api.get(q(GROUPS, {"search": "rust"}), as_="instructor")

    assert [g["name"] for g in reply.body["results"]] == ["Rust Crew"]


async def test_unknown_member_filter_value_is_a_400(api):
    reply = await api.get(q(GROUPS, {"member": "you"}), as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"member": ['"you" is not a valid choice.'], "status": 400},
    )


async def test_owner_edits_the_group_and_the_slug_stays(api, group):
    reply = await api.patch(group_url(group["id"]), {"name": "Pythonistas"}, as_="instructor")

    assert reply.status == 200
    assert (reply.body["name"], reply.body["slug"]) == ("Pythonistas", "python-developers")


async def test_moderator_cannot_edit_the_group(api, group):
    await add(api, group["id"], "student-1", "moderator")

    reply = await api.patch(group_url(group["id"]), {"name": "Mine"}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_put_needs_the_name(api, group):
    reply = await api.put(group_url(group["id"]), {"description": "x"}, as_="instructor")

    assert (reply.status, reply.body) == (400, {"name": ["This field is required."], "status": 400})


async def test_member_cannot_delete_the_group_but_an_admin_can(api, group):
    await add(api, group["id"], "student-1")

    denied = await api.delete(group_url(group["id"]), as_="student")
    deleted = await api.delete(group_url(group["id"]), as_="admin")

    assert (denied.status, denied.body) == (403, FORBIDDEN)
    assert deleted.status == 204
    listing = await api.get(q(MEMBERS, {"group": group["id"]}), as_="admin")
    assert listing.body["count"] == 0


# Members


async def test_owner_adds_a_member_with_the_seed_body(api, group):
    reply = await add(api, group["id"], "user-123")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "group": group["id"],
        "user_id": "user-123",
        "user": person("user-123"),
        "role": "member",
        "joined_at": TIMESTAMP,
        "added_by": "instructor-1",
        "added_by_person": person("instructor-1"),
    }


async def test_adding_the_same_user_twice_is_a_409(api, group):
    await add(api, group["id"], "student-1")

    reply = await add(api, group["id"], "student-1", "moderator")

    assert (reply.status, reply.body) == (409, ALREADY_MEMBER)


async def test_moderator_adds_members_only(api, group):
    await add(api, group["id"], "student-1", "moderator")

    member = await add(api, group["id"], "student-2", as_="student")
    moderator = await add(api, group["id"], "student-3", "moderator", as_="student")

    assert member.status == 201
    assert (moderator.status, moderator.body) == (403, FORBIDDEN)


async def test_plain_member_cannot_add_members(api, group):
    await add(api, group["id"], "student-1")

    reply = await add(api, group["id"], "student-2", as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_adding_to_a_group_i_cannot_see_is_a_400_on_group(api, group):
    reply = await add(api, group["id"], "student-1", as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid_group(group["id"]))


async def test_adding_to_an_unknown_group_is_a_400_on_group(api):
    reply = await add(api, 999999, "student-1", as_="admin")

    assert (reply.status, reply.body) == (400, invalid_group(999999))


async def test_members_list_shows_only_members_of_my_groups(api, group):
    await add(api, group["id"], "student-1")

    outsider = await api.get(q(MEMBERS, {"group": group["id"]}), as_="student2")
    member = await api.get(q(MEMBERS, {"group": group["id"]}), as_="student")

    assert outsider.body["count"] == 0
    assert sorted(m["user_id"] for m in member.body["results"]) == ["instructor-1", "student-1"]


async def test_owner_promotes_a_member_to_moderator(api, group):
    added = await add(api, group["id"], "student-1")

    reply = await api.patch(member_url(added.body["id"]), {"role": "moderator"}, as_="instructor")

    assert (reply.status, reply.body["role"]) == (200, "moderator")


async def test_moderator_cannot_change_roles(api, group):
    await add(api, group["id"], "student-1", "moderator")
    added = await add(api, group["id"], "student-2")

    reply = await api.patch(member_url(added.body["id"]), {"role": "moderator"}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_last_owner_cannot_be_demoted(api, group):
    owner = await membership_of(api, group["id"], "instructor-1")

    reply = await api.patch(member_url(owner["id"]), {"role": "member"}, as_="instructor")

    assert (reply.status, reply.body) == (400, {"role": [LAST_OWNER], "status": 400})


async def test_an_owner_may_step_down_when_another_owner_remains(api, group):
    await add(api, group["id"], "instructor-2", "owner")
    owner = await membership_of(api, group["id"], "instructor-1")

    reply = await api.patch(member_url(owner["id"]), {"role": "member"}, as_="instructor")

    assert (reply.status, reply.body["role"]) == (200, "member")


async def test_bad_role_is_a_400(api, group):
    reply = await add(api, group["id"], "student-1", "king")

    assert (reply.status, reply.body) == (
        400,
        {"role": ['"king" is not a valid choice.'], "status": 400},
    )


async def test_member_leaves_the_group(api, group):
    added = await add(api, group["id"], "student-1")

    reply = await api.delete(member_url(added.body["id"]), as_="student")

    assert reply.status == 204


async def test_last_owner_cannot_leave(api, group):
    owner = await membership_of(api, group["id"], "instructor-1")

    reply = await api.delete(member_url(owner["id"]), as_="instructor")

    assert (reply.status, reply.body) == (400, {"detail": LAST_OWNER, "status": 400})


async def test_moderator_cannot_remove_another_moderator(api, group):
    await add(api, group["id"], "student-1", "moderator")
    other = await add(api, group["id"], "student-2", "moderator")

    reply = await api.delete(member_url(other.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_member_cannot_remove_another_member(api, group):
    await add(api, group["id"], "student-1")
    other = await add(api, group["id"], "student-2")

    reply = await api.delete(member_url(other.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_removed_member_loses_access_at_once(api, group):
    added = await add(api, group["id"], "student-1")
    assert (await api.get(group_url(group["id"]), as_="student")).status == 200

    await api.delete(member_url(added.body["id"]), as_="instructor")

    reply = await api.get(group_url(group["id"]), as_="student")
    assert (reply.status, reply.body) == (404, NOT_FOUND)
    mine = await api.get(q(GROUPS, {"member": "me"}), as_="student")
    assert mine.body["count"] == 0


# Tenancy and hostile input


async def test_group_of_another_tenant_is_invisible(api, group):
    reply = await api.get(group_url(group["id"]), as_="b_admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_adding_to_a_group_of_another_tenant_is_a_400(api, group):
    reply = await add(api, group["id"], "student-1", as_="b_admin")

    assert (reply.status, reply.body) == (400, invalid_group(group["id"]))


async def test_membership_of_another_tenant_is_invisible(api, group):
    owner = await membership_of(api, group["id"], "instructor-1")

    reply = await api.delete(member_url(owner["id"]), as_="b_admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_other_tenant_lists_none_of_our_groups(api, group):
    reply = await api.get(GROUPS, as_="b_admin")

    assert reply.body["count"] == 0


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "x" * 101}, {"name": ["Ensure this field has no more than 100 characters."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
        ({"name": "a\x00b"}, {"name": ["Null characters are not allowed."]}),
        ({"name": "ok", "is_active": "maybe"}, {"is_active": ["Must be a valid boolean."]}),
    ],
)
async def test_hostile_group_bodies_are_400s(api, body, errors):
    reply = await api.post(GROUPS, body, as_="instructor")

    assert (reply.status, reply.body) == (400, {**errors, "status": 400})


async def test_a_name_whose_slug_grows_past_its_length_still_saves(api):
    reply = await api.post(GROUPS, {"name": "\ufb03" * 100}, as_="instructor")

    assert (reply.status, len(reply.body["slug"])) == (201, 200)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"group": 2**31, "user_id": "u"},
            {"group": [f'Invalid pk "{2**31}" - object does not exist.']},
        ),
        ({"group": "abc", "user_id": "u"}, {"group": ["A valid integer is required."]}),
        ({"group": True, "user_id": "u"}, {"group": ["A valid integer is required."]}),
        (
            {"group": 1, "user_id": "u" * 129},
            {"user_id": ["Ensure this field has no more than 128 characters."]},
        ),
        ({"group": 1}, {"user_id": ["This field is required."]}),
    ],
)
async def test_hostile_member_bodies_are_400s(api, body, errors):
    reply = await api.post(MEMBERS, body, as_="admin")

    assert (reply.status, reply.body) == (400, {**errors, "status": 400})


@pytest.mark.parametrize("path", [group_url(2**31), member_url(2**31), member_url(99999)])
async def test_unknown_ids_in_the_path_are_404s(api, path):
    reply = await api.get(path, as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Activity


async def test_adding_a_member_records_the_activity(api, group):
    await add(api, group["id"], "student-1")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": "group_member_added"}), as_="admin")

    assert reply.status == 200
    [row] = reply.body["results"]
    assert (row["user_id"], row["object_type"], row["object_id"]) == (
        "instructor-1",
        "group",
        group["id"],
    )
    assert row["details"] == "Added 'student-1' to group 'Python Developers' as member."


@pytest.mark.parametrize(
    "activity_type",
    [
        "group_created",
        "group_updated",
        "group_member_role_changed",
        "group_member_removed",
        "group_deleted",
    ],
)
async def test_every_group_change_records_its_activity(api, group, activity_type):
    added = await add(api, group["id"], "student-1")
    await api.patch(group_url(group["id"]), {"description": "new"}, as_="instructor")
    await api.patch(member_url(added.body["id"]), {"role": "moderator"}, as_="instructor")
    await api.delete(member_url(added.body["id"]), as_="instructor")
    await api.delete(group_url(group["id"]), as_="instructor")
    await api.settled()

    reply = await api.get(q(ACTIVITIES, {"activity_type": activity_type}), as_="admin")

    assert [(r["activity_type"], r["object_id"]) for r in reply.body["results"]] == [
        (activity_type, group["id"])
    ]


async def test_adding_a_member_is_audited_as_group_member_created(api, group):
    await add(api, group["id"], "student-1")
    await api.settled()

    reply = await api.get(f"{AUDIT}?method=POST&user_id=instructor-1", as_="admin")

    assert sorted(r["action_type"] for r in reply.body["results"]) == [
        "group_created",
        "group_member_created",
        "user_login",
    ]


# The helpers other domains call (forums, messaging, schedules)


@pytest.mark.parametrize(
    ("value", "expected"), [(5, 5), ("group-5", 5), ("group-2147483647", MAX_ID)]
)
def test_parse_group_ref_accepts_an_id_or_the_seed_spelling(value, expected):
    assert parse_group_ref(value) == expected


@pytest.mark.parametrize(
    "value", [0, -1, 2**31, True, "5", "group-", "group-x", "Group-5", "group-\u0665"]
)
def test_parse_group_ref_refuses_anything_else(value):
    with pytest.raises(ValueError, match=r"^Invalid pk .* - object does not exist\.$"):
        parse_group_ref(value)


async def test_membership_helpers_answer_for_the_tenant(api, app, group):
    await add(api, group["id"], "student-1", "moderator")

    async with app[DATABASES].tenant_sessions("acme").begin() as session:
        role = await member_role(session, group_id=group["id"], user_id="student-1")
        outsider = await is_member(session, group_id=group["id"], user_id="student-2")
        ids = await group_ids_of(session, user_id="student-1")
    async with app[DATABASES].tenant_sessions("globex").begin() as session:
        elsewhere = await group_ids_of(session, user_id="student-1")

    assert (role, outsider, ids, elsewhere) == ("moderator", False, {group["id"]}, set())


async def test_check_groups_exist_names_the_first_unknown_group_on_the_field(api, app, group):
    async with app[DATABASES].tenant_sessions("acme").begin() as session:
        await check_groups_exist(session, ids=[group["id"]], field="group_ids")
        with pytest.raises(ValidationFailed) as failed:
            await check_groups_exist(session, ids=[group["id"], 99999], field="group_ids")

    assert failed.value.errors == {"group_ids": ['Invalid pk "99999" - object does not exist.']}


async def test_check_groups_exist_does_not_see_another_tenants_group(api, app, group):
    async with app[DATABASES].tenant_sessions("globex").begin() as session:
        with pytest.raises(ValidationFailed):
            await check_groups_exist(session, ids=[group["id"]], field="group_ids")
