"""Categories: `/api/lms/courses/categories/` (`name`, derived `slug`, `description`)."""

from __future__ import annotations

import re

import pytest

CATEGORIES = "/api/lms/courses/categories/"
COURSES = "/api/lms/courses/courses/"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FORBIDDEN = {"detail": "You do not have permission to perform this action.", "status": 403}
NOT_FOUND = {"detail": "Not found.", "status": 404}
CATEGORY_FIELDS = {"id", "name", "slug", "description", "created_at"}


def category_url(category_id: int) -> str:
    return f"{CATEGORIES}{category_id}/"


def names(reply) -> list[str]:
    return [row["name"] for row in reply.body["results"]]


async def test_list_holds_the_seeded_general_category(api):
    reply = await api.get(CATEGORIES, as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 1
    assert reply.body["next"] is None
    assert reply.body["previous"] is None
    [general] = reply.body["results"]
    assert set(general) == CATEGORY_FIELDS
    assert (general["id"], general["name"], general["slug"]) == (1, "General", "general")
    assert ISO_UTC.match(general["created_at"])


async def test_every_tenant_has_its_own_general_category(api):
    reply = await api.get(category_url(1), as_="b_student")

    assert reply.status == 200
    assert reply.body["slug"] == "general"


async def test_instructor_creates_a_category_with_a_derived_slug(api):
    body = {"name": "Data Science", "description": "Numbers and models"}

    reply = await api.post(CATEGORIES, body, as_="instructor")

    assert reply.status == 201, reply.body
    assert set(reply.body) == CATEGORY_FIELDS
    assert isinstance(reply.body["id"], int)
    assert reply.body["name"] == "Data Science"
    assert reply.body["slug"] == "data-science"
    assert reply.body["description"] == "Numbers and models"
    assert ISO_UTC.match(reply.body["created_at"])


async def test_admin_creates_a_category(api):
    reply = await api.post(CATEGORIES, {"name": "Languages"}, as_="admin")

    assert reply.status == 201
    assert reply.body["description"] == ""


async def test_created_category_is_listed(api):
    await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.get(CATEGORIES, as_="student")

    assert names(reply) == ["Art", "General"]


async def test_same_name_gets_the_next_free_slug(api):
    reply = await api.post(CATEGORIES, {"name": "General"}, as_="instructor")

    assert reply.status == 201
    assert reply.body["slug"] == "general-2"


async def test_name_is_trimmed_before_the_slug_is_derived(api):
    reply = await api.post(CATEGORIES, {"name": "  Music & Sound  "}, as_="instructor")

    assert reply.status == 201
    assert reply.body["name"] == "Music & Sound"
    assert reply.body["slug"] == "music-sound"


async def test_student_cannot_create_a_category(api):
    reply = await api.post(CATEGORIES, {"name": "Mine"}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_student_create_is_403_before_the_body_is_validated(api):
    reply = await api.post(CATEGORIES, {"name": ["not", "a", "name"]}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_category_name_is_required(api):
    reply = await api.post(CATEGORIES, {"description": "no name"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"name": ["This field is required."], "status": 400}


async def test_blank_category_name_is_400(api):
    reply = await api.post(CATEGORIES, {"name": "   "}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"name": ["This field may not be blank."], "status": 400}


async def test_category_name_over_100_characters_is_400(api):
    reply = await api.post(CATEGORIES, {"name": "x" * 101}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "name": ["Ensure this field has no more than 100 characters."],
        "status": 400,
    }


async def test_retrieve_a_category(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.get(category_url(created.body["id"]), as_="student")

    assert reply.status == 200
    assert reply.body == created.body


@pytest.mark.parametrize("category_id", ["999", str(2**31), str(10**30)])
async def test_unknown_category_is_404(api, category_id):
    reply = await api.get(f"{CATEGORIES}{category_id}/", as_="student")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_admin_patches_a_category(api):
    created = await api.post(CATEGORIES, {"name": "Art", "description": "old"}, as_="instructor")

    reply = await api.patch(category_url(created.body["id"]), {"description": "new"}, as_="admin")

    assert reply.status == 200, reply.body
    assert reply.body["name"] == "Art"
    assert reply.body["description"] == "new"
    assert reply.body["slug"] == "art"


async def test_category_rename_is_persisted(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    await api.patch(category_url(created.body["id"]), {"name": "Fine Art"}, as_="admin")
    reply = await api.get(category_url(created.body["id"]), as_="student")

    assert reply.body["name"] == "Fine Art"


async def test_admin_puts_a_category(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.put(
        category_url(created.body["id"]),
        {"name": "Arts", "description": "all of them"},
        as_="admin",
    )

    assert reply.status == 200, reply.body
    assert (reply.body["name"], reply.body["description"]) == ("Arts", "all of them")


async def test_put_category_without_a_name_is_400(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.put(category_url(created.body["id"]), {"description": "x"}, as_="admin")

    assert reply.status == 400
    assert reply.body == {"name": ["This field is required."], "status": 400}


async def test_patch_category_name_to_null_is_400(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.patch(category_url(created.body["id"]), {"name": None}, as_="admin")

    assert reply.status == 400
    assert reply.body == {"name": ["This field may not be null."], "status": 400}


async def test_student_cannot_update_a_category(api):
    reply = await api.patch(category_url(1), {"name": "Mine"}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_instructor_cannot_change_the_general_category(api, method):
    reply = await api.call(method, category_url(1), json={"name": "Mine"}, as_="instructor")
    still = await api.get(category_url(1), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert still.body["name"] == "General"


@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_instructor_cannot_change_a_category_they_created(api, method):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.call(
        method, category_url(created.body["id"]), json={"name": "Mine"}, as_="instructor"
    )
    still = await api.get(category_url(created.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert still.body["name"] == "Art"


async def test_instructor_change_is_403_before_the_body_is_validated(api):
    reply = await api.patch(category_url(1), {"name": ["not", "a", "name"]}, as_="instructor")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_admin_renames_the_general_category(api):
    try:
        reply = await api.patch(category_url(1), {"name": "Everything"}, as_="admin")

        assert reply.status == 200
        assert (reply.body["name"], reply.body["slug"]) == ("Everything", "general")
    finally:  # the seeded row outlives the test's clean-up: give it its name back
        await api.patch(category_url(1), {"name": "General"}, as_="admin")


async def test_updating_an_unknown_category_is_404_before_the_body_is_validated(api):
    reply = await api.patch(category_url(999), {"name": 5}, as_="admin")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_admin_deletes_a_category_then_it_is_404(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    deleted = await api.delete(category_url(created.body["id"]), as_="admin")
    again = await api.get(category_url(created.body["id"]), as_="instructor")

    assert deleted.status == 204
    assert deleted.body is None
    assert again.status == 404
    assert again.body == NOT_FOUND


async def test_student_cannot_delete_a_category(api):
    reply = await api.delete(category_url(1), as_="student")
    still = await api.get(category_url(1), as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN
    assert still.status == 200


async def test_instructor_cannot_delete_the_general_category(api):
    reply = await api.delete(category_url(1), as_="instructor")
    still = await api.get(category_url(1), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert still.status == 200


async def test_instructor_cannot_delete_a_category_they_created(api):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.delete(category_url(created.body["id"]), as_="instructor")
    still = await api.get(category_url(created.body["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert still.status == 200


async def test_instructor_delete_of_an_unknown_category_is_403(api):
    reply = await api.delete(category_url(999), as_="instructor")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_deleting_a_category_courses_use_is_409_naming_how_many(api, make):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")
    category_id = created.body["id"]
    await make.course(category_id=category_id)
    await make.course(category_id=category_id, status="Draft")  # unseen by others, counted
    await make.course(as_="instructor2", category_id=category_id)
    await make.course(category_id=1)

    reply = await api.delete(category_url(category_id), as_="admin")

    assert reply.status == 409
    assert reply.body == {"detail": "This category is used by 3 courses.", "status": 409}


async def test_deleting_a_category_one_course_uses_says_one_course(api, make):
    await make.course(category_id=1)

    reply = await api.delete(category_url(1), as_="admin")

    assert reply.body == {"detail": "This category is used by 1 course.", "status": 409}


async def test_refused_category_delete_changes_nothing(api, make):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")
    course = await make.course(category_id=created.body["id"])

    await api.delete(category_url(created.body["id"]), as_="admin")
    category = await api.get(category_url(created.body["id"]), as_="student")
    reply = await api.get(f"{COURSES}{course['id']}/", as_="instructor")

    assert category.body == created.body
    assert reply.body["category_id"] == created.body["id"]


async def test_category_is_deletable_once_its_courses_moved_away(api, make):
    created = await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")
    course = await make.course(category_id=created.body["id"])
    await api.patch(f"{COURSES}{course['id']}/", {"category_id": 1}, as_="instructor")

    reply = await api.delete(category_url(created.body["id"]), as_="admin")

    assert reply.status == 204


async def test_categories_of_another_tenant_are_invisible(api):
    created = await api.post(CATEGORIES, {"name": "Acme Only"}, as_="instructor")

    listed = await api.get(CATEGORIES, as_="b_student")
    shown = await api.get(category_url(created.body["id"]), as_="b_student")

    assert names(listed) == ["General"]
    assert shown.status == 404


async def test_categories_are_ordered_by_name(api):
    for name in ("Zoology", "Art", "Music"):
        await api.post(CATEGORIES, {"name": name}, as_="instructor")

    reply = await api.get(CATEGORIES, as_="student")

    assert names(reply) == ["Art", "General", "Music", "Zoology"]


async def test_categories_order_by_name_descending(api):
    for name in ("Zoology", "Art"):
        await api.post(CATEGORIES, {"name": name}, as_="instructor")

    reply = await api.get(CATEGORIES + "?ordering=-name", as_="student")

    assert names(reply) == ["Zoology", "General", "Art"]


async def test_category_search_matches_names(api):
    await api.post(CATEGORIES, {"name": "Data Science"}, as_="instructor")
    await api.post(CATEGORIES, {"name": "Art"}, as_="instructor")

    reply = await api.get(CATEGORIES + "?search=data", as_="student")

    assert names(reply) == ["Data Science"]


async def test_category_search_with_a_null_character_is_400(api):
    reply = await api.get(CATEGORIES + "?search=a%00b", as_="student")

    assert reply.status == 400
    assert reply.body == {"search": ["Null characters are not allowed."], "status": 400}


async def test_category_list_is_paginated(api):
    for n in range(3):
        await api.post(CATEGORIES, {"name": f"Topic {n}"}, as_="instructor")

    reply = await api.get(CATEGORIES + "?page_size=2&page=2", as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 4
    assert len(reply.body["results"]) == 2
    assert reply.body["next"] is None
    assert reply.body["previous"].endswith(CATEGORIES + "?page_size=2")
