"""Modules, lessons and lesson resources (permissions, conventions, field names)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import FormData

from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP

MODULES = "/api/lms/courses/modules/"
LESSONS = "/api/lms/courses/lessons/"
RESOURCES = "/api/lms/courses/resources/"


def invalid_pk(field: str, pk: int) -> dict[str, Any]:
    return {field: [f'Invalid pk "{pk}" - object does not exist.'], "status": 400}


def titles(page: dict[str, Any]) -> list[str]:
    return [row["title"] for row in page["results"]]


async def upload_lesson_file(api: Any, lesson_id: int, as_: str = "instructor") -> Any:
    form = FormData()
    form.add_field("file", b"%PDF-1.4 lesson notes", filename="notes.pdf")
    return await api.post(f"{LESSONS}{lesson_id}/upload-file/", data=form, as_=as_)


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    """A published free course taught by `instructor`."""
    return await make.course()


@pytest.fixture
async def module(make: Any, course: dict[str, Any]) -> dict[str, Any]:
    return await make.module(course["id"])


@pytest.fixture
async def lesson(make: Any, module: dict[str, Any]) -> dict[str, Any]:
    return await make.lesson(module["id"], content="The secret of the lesson.")


# Modules: create


async def test_instructor_creates_a_module_in_their_course(api, course):
    body = {"course": course["id"], "title": "Getting started", "description": "Setup", "order": 2}

    reply = await api.post(MODULES, body, as_="instructor")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "course": course["id"],
        "title": "Getting started",
        "description": "Setup",
        "order": 2,
        "created_at": TIMESTAMP,
    }


async def test_module_description_and_order_default_to_empty_and_zero(api, course):
    reply = await api.post(MODULES, {"course": course["id"], "title": "Bare"}, as_="instructor")

    assert reply.status == 201
    assert (reply.body["description"], reply.body["order"]) == ("", 0)


async def test_admin_creates_a_module_in_any_course(api, course):
    reply = await api.post(MODULES, {"course": course["id"], "title": "By admin"}, as_="admin")

    assert reply.status == 201
    assert reply.body["course"] == course["id"]


async def test_another_instructor_cannot_create_a_module(api, course):
    reply = await api.post(
        MODULES, {"course": course["id"], "title": "Intruder"}, as_="instructor2"
    )

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    listing = await api.get(f"{MODULES}?course={course['id']}", as_="instructor")
    assert listing.body["count"] == 0


async def test_student_cannot_create_a_module(api, course):
    reply = await api.post(MODULES, {"course": course["id"], "title": "Mine"}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_module_naming_no_course_is_a_400_on_course(api):
    reply = await api.post(MODULES, {"course": 999999, "title": "Orphan"}, as_="instructor")

    assert (reply.status, reply.body) == (400, invalid_pk("course", 999999))


async def test_module_naming_another_instructors_draft_course_is_a_400_on_course(api, make):
    draft = await make.course(status="Draft")

    reply = await api.post(MODULES, {"course": draft["id"], "title": "Hidden"}, as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid_pk("course", draft["id"]))


async def test_module_without_course_and_title_lists_both_fields(api):
    reply = await api.post(MODULES, {}, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {
            "course": ["This field is required."],
            "title": ["This field is required."],
            "status": 400,
        },
    )


async def test_module_with_negative_order_is_a_400_on_order(api, course):
    body = {"course": course["id"], "title": "Backwards", "order": -1}

    reply = await api.post(MODULES, body, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"order": ["Ensure this value is greater than or equal to 0."], "status": 400},
    )


# Modules: read


async def test_module_is_retrieved_by_id(api, module):
    reply = await api.get(f"{MODULES}{module['id']}/", as_="student")

    assert (reply.status, reply.body) == (200, module)


async def test_modules_are_listed_in_order(api, make, course):
    for order, title in ((3, "Third"), (1, "First"), (2, "Second")):
        await make.module(course["id"], title=title, order=order)

    reply = await api.get(f"{MODULES}?course={course['id']}", as_="student")

    assert reply.status == 200
    assert titles(reply.body) == ["First", "Second", "Third"]
    assert (reply.body["count"], reply.body["next"], reply.body["previous"]) == (3, None, None)


async def test_modules_with_the_same_order_are_listed_by_creation(api, make, course):
    for title in ("A", "B", "C"):
        await make.module(course["id"], title=title, order=1)

    reply = await api.get(f"{MODULES}?course={course['id']}", as_="student")

    assert titles(reply.body) == ["A", "B", "C"]


async def test_module_list_filters_by_course(api, make):
    first, second = await make.course(), await make.course()
    await make.module(first["id"], title="In first")
    await make.module(second["id"], title="In second")

    reply = await api.get(f"{MODULES}?course={second['id']}", as_="student")

    assert titles(reply.body) == ["In second"]


async def test_module_list_with_a_non_integer_course_is_a_400(api):
    reply = await api.get(f"{MODULES}?course=abc", as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"course": ["A valid integer is required."], "status": 400},
    )


async def test_modules_of_a_draft_course_are_not_listed_for_students(api, make):
    draft = await make.course(status="Draft")
    await make.module(draft["id"], title="Unreleased")

    reply = await api.get(f"{MODULES}?course={draft['id']}", as_="student")

    assert reply.body["count"] == 0


async def test_module_of_a_draft_course_is_not_found_for_students(api, make):
    draft = await make.course(status="Draft")
    module = await make.module(draft["id"])

    reply = await api.get(f"{MODULES}{module['id']}/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_instructor_lists_modules_of_their_own_draft_course(api, make):
    draft = await make.course(status="Draft")
    await make.module(draft["id"], title="Unreleased")

    reply = await api.get(f"{MODULES}?course={draft['id']}", as_="instructor")

    assert titles(reply.body) == ["Unreleased"]


# Modules: change and delete


async def test_instructor_patches_a_module(api, module):
    reply = await api.patch(
        f"{MODULES}{module['id']}/", {"title": "Renamed", "order": 5}, as_="instructor"
    )

    assert reply.status == 200
    assert reply.body == {**module, "title": "Renamed", "order": 5}


async def test_instructor_replaces_a_module_with_put(api, module):
    body = {"course": module["course"], "title": "Replaced", "description": "New", "order": 7}

    reply = await api.put(f"{MODULES}{module['id']}/", body, as_="instructor")

    assert reply.status == 200
    assert reply.body == {**module, "title": "Replaced", "description": "New", "order": 7}


async def test_put_on_a_module_without_title_is_a_400(api, module):
    reply = await api.put(
        f"{MODULES}{module['id']}/", {"course": module["course"]}, as_="instructor"
    )

    assert (reply.status, reply.body) == (
        400,
        {"title": ["This field is required."], "status": 400},
    )


async def test_patching_a_module_title_to_null_is_a_400(api, module):
    reply = await api.patch(f"{MODULES}{module['id']}/", {"title": None}, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"title": ["This field may not be null."], "status": 400},
    )


async def test_admin_patches_any_module(api, module):
    reply = await api.patch(f"{MODULES}{module['id']}/", {"title": "Admin edit"}, as_="admin")

    assert (reply.status, reply.body["title"]) == (200, "Admin edit")


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_patches_a_module(api, module, who):
    reply = await api.patch(f"{MODULES}{module['id']}/", {"title": "Hijacked"}, as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert (await api.get(f"{MODULES}{module['id']}/", as_="student")).body == module


async def test_instructor_deletes_a_module_and_its_lessons(api, module, lesson):
    reply = await api.delete(f"{MODULES}{module['id']}/", as_="instructor")

    assert (reply.status, reply.body) == (204, None)
    assert (await api.get(f"{MODULES}{module['id']}/", as_="instructor")).status == 404
    assert (await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")).status == 404


async def test_admin_deletes_any_module(api, module):
    reply = await api.delete(f"{MODULES}{module['id']}/", as_="admin")

    assert reply.status == 204
    assert (await api.get(f"{MODULES}{module['id']}/", as_="admin")).status == 404


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_deletes_a_module(api, module, who):
    reply = await api.delete(f"{MODULES}{module['id']}/", as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert (await api.get(f"{MODULES}{module['id']}/", as_="student")).status == 200


async def test_unknown_module_is_not_found(api):
    reply = await api.get(f"{MODULES}999999/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Lessons: create


async def test_instructor_creates_a_lesson_with_every_field(api, module):
    body = {
        "module": module["id"],
        "title": "Variables",
        "description": "Names for values",
        "content": "x = 1",
        "lesson_type": "video",
        "duration_minutes": 12,
        "order": 3,
    }

    reply = await api.post(LESSONS, body, as_="instructor")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "module": module["id"],
        "course": module["course"],
        "title": "Variables",
        "description": "Names for values",
        "content": "x = 1",
        "lesson_type": "video",
        "duration_minutes": 12,
        "order": 3,
        "file": None,
        "file_name": None,
        "completed": False,
        "completed_at": None,
        "created_at": TIMESTAMP,
    }


async def test_lesson_defaults_to_a_text_lesson_of_zero_minutes(api, module):
    reply = await api.post(LESSONS, {"module": module["id"], "title": "Plain"}, as_="instructor")

    assert reply.status == 201
    assert {k: reply.body[k] for k in ("content", "lesson_type", "duration_minutes", "order")} == {
        "content": "",
        "lesson_type": "text",
        "duration_minutes": 0,
        "order": 0,
    }


async def test_admin_creates_a_lesson_in_any_module(api, module):
    reply = await api.post(LESSONS, {"module": module["id"], "title": "By admin"}, as_="admin")

    assert (reply.status, reply.body["module"]) == (201, module["id"])


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_creates_a_lesson(api, module, who):
    reply = await api.post(LESSONS, {"module": module["id"], "title": "Intruder"}, as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    listing = await api.get(f"{LESSONS}?module={module['id']}", as_="instructor")
    assert listing.body["count"] == 0


async def test_lesson_naming_no_module_is_a_400_on_module(api):
    reply = await api.post(LESSONS, {"module": 999999, "title": "Orphan"}, as_="instructor")

    assert (reply.status, reply.body) == (400, invalid_pk("module", 999999))


async def test_lesson_in_a_module_of_another_instructors_draft_course_is_a_400_on_module(api, make):
    draft = await make.course(status="Draft")
    # The message names the module's id, which must not be mistaken for the course's.
    modules = [await make.module(draft["id"]) for _ in range(2)]
    module = next(m for m in modules if m["id"] != draft["id"])

    reply = await api.post(LESSONS, {"module": module["id"], "title": "Hidden"}, as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid_pk("module", module["id"]))


async def test_lesson_with_an_unknown_type_is_a_400_on_lesson_type(api, module):
    body = {"module": module["id"], "title": "Podcast", "lesson_type": "podcast"}

    reply = await api.post(LESSONS, body, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"lesson_type": ['"podcast" is not a valid choice.'], "status": 400},
    )


# Lessons: content visibility


async def test_lesson_content_is_null_for_a_student_who_is_not_enrolled(api, lesson):
    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert reply.status == 200
    assert reply.body == {**lesson, "content": None, "file": None}


async def test_lesson_content_is_visible_to_an_enrolled_student(api, make, lesson):
    await make.enroll(lesson["course"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert (reply.status, reply.body) == (200, lesson)
    assert reply.body["content"] == "The secret of the lesson."


async def test_lesson_content_is_visible_to_the_courses_instructor(api, lesson):
    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")

    assert (reply.status, reply.body["content"]) == (200, "The secret of the lesson.")


async def test_lesson_content_is_visible_to_an_admin(api, lesson):
    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="admin")

    assert (reply.status, reply.body["content"]) == (200, "The secret of the lesson.")


async def test_lesson_content_is_null_for_another_instructor(api, lesson):
    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor2")

    assert (reply.status, reply.body["content"]) == (200, None)


async def test_lesson_content_is_hidden_again_after_leaving_the_course(api, make, lesson):
    enrollment = await make.enroll(lesson["course"])
    await api.delete(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="student")

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert reply.body["content"] is None


async def test_lesson_list_hides_content_until_the_student_enrolls(api, make, lesson):
    before = await api.get(f"{LESSONS}?course={lesson['course']}", as_="student")
    await make.enroll(lesson["course"])
    after = await api.get(f"{LESSONS}?course={lesson['course']}", as_="student")

    assert [row["content"] for row in before.body["results"]] == [None]
    assert [row["content"] for row in after.body["results"]] == ["The secret of the lesson."]


async def test_lesson_list_shows_content_only_for_the_courses_the_student_is_enrolled_in(api, make):
    enrolled, other = await make.course(), await make.course()
    await make.lesson((await make.module(enrolled["id"]))["id"], content="open")
    await make.lesson((await make.module(other["id"]))["id"], content="closed")
    await make.enroll(enrolled["id"])

    reply = await api.get(LESSONS, as_="student")

    assert {row["course"]: row["content"] for row in reply.body["results"]} == {
        enrolled["id"]: "open",
        other["id"]: None,
    }


async def test_uploaded_lesson_file_is_returned_to_the_instructor(api, lesson):
    reply = await upload_lesson_file(api, lesson["id"])

    assert reply.status == 200
    assert reply.body["file"] == f"{LESSONS}{lesson['id']}/file/"
    assert reply.body["file_name"] == "notes.pdf"


async def test_lesson_file_is_null_for_a_student_who_is_not_enrolled(api, lesson):
    await upload_lesson_file(api, lesson["id"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert (reply.body["content"], reply.body["file"]) == (None, None)


async def test_lesson_file_is_visible_to_an_enrolled_student(api, make, lesson):
    uploaded = await upload_lesson_file(api, lesson["id"])
    await make.enroll(lesson["course"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert reply.body["file"] == uploaded.body["file"]


def stored_files(settings: Any) -> list[Any]:
    return sorted(path for path in settings.media_root.rglob("*") if path.is_file())


async def test_uploaded_lesson_file_is_stored_under_the_media_root(api, settings, lesson):
    await upload_lesson_file(api, lesson["id"])

    [stored] = stored_files(settings)
    assert stored.read_bytes() == b"%PDF-1.4 lesson notes"
    assert re.fullmatch(
        rf"acme/lessons/{lesson['id']}/files/[0-9a-f]{{32}}\.pdf",
        stored.relative_to(settings.media_root).as_posix(),
    )


async def test_deleting_a_lesson_removes_its_file(api, settings, lesson):
    await upload_lesson_file(api, lesson["id"])

    await api.delete(f"{LESSONS}{lesson['id']}/", as_="instructor")

    assert stored_files(settings) == []


async def test_deleting_a_module_removes_its_lessons_files(api, make, settings, module, lesson):
    other = await make.lesson(module["id"])
    for each in (lesson, other):
        await upload_lesson_file(api, each["id"])
    assert len(stored_files(settings)) == 2

    await api.delete(f"{MODULES}{module['id']}/", as_="instructor")

    assert stored_files(settings) == []


async def test_a_failed_lesson_delete_keeps_its_file(api, settings, lesson):
    await upload_lesson_file(api, lesson["id"])

    await api.delete(f"{LESSONS}{lesson['id']}/", as_="instructor2")

    assert len(stored_files(settings)) == 1


async def test_student_cannot_upload_a_lesson_file(api, make, lesson):
    await make.enroll(lesson["course"])

    reply = await upload_lesson_file(api, lesson["id"], as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


# Lessons: draft courses, order and filters


async def test_lesson_of_a_draft_course_is_not_found_for_a_student(api, make):
    draft = await make.course(status="Draft")
    lesson = await make.lesson((await make.module(draft["id"]))["id"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_lessons_of_a_draft_course_are_absent_from_a_students_list(api, make):
    draft, published = await make.course(status="Draft"), await make.course()
    await make.lesson((await make.module(draft["id"]))["id"], title="Unreleased")
    await make.lesson((await make.module(published["id"]))["id"], title="Released")

    reply = await api.get(LESSONS, as_="student")

    assert titles(reply.body) == ["Released"]


async def test_instructor_sees_lessons_of_their_own_draft_course(api, make):
    draft = await make.course(status="Draft")
    lesson = await make.lesson((await make.module(draft["id"]))["id"], title="Unreleased")

    detail = await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")
    listing = await api.get(f"{LESSONS}?course={draft['id']}", as_="instructor")

    assert (detail.status, detail.body) == (200, lesson)
    assert titles(listing.body) == ["Unreleased"]


async def test_lessons_are_listed_in_order_within_a_module(api, make, module):
    for order, title in ((2, "Second"), (3, "Third"), (1, "First")):
        await make.lesson(module["id"], title=title, order=order)

    reply = await api.get(f"{LESSONS}?module={module['id']}", as_="student")

    assert titles(reply.body) == ["First", "Second", "Third"]


async def test_lessons_of_a_course_follow_the_order_of_their_modules(api, make, course):
    later = await make.module(course["id"], title="Later", order=2)
    earlier = await make.module(course["id"], title="Earlier", order=1)
    await make.lesson(later["id"], title="Later lesson", order=1)
    await make.lesson(earlier["id"], title="Earlier lesson 2", order=2)
    await make.lesson(earlier["id"], title="Earlier lesson 1", order=1)

    reply = await api.get(f"{LESSONS}?course={course['id']}", as_="student")

    assert titles(reply.body) == ["Earlier lesson 1", "Earlier lesson 2", "Later lesson"]


async def test_lesson_list_filters_by_module(api, make, course):
    first, second = await make.module(course["id"]), await make.module(course["id"])
    await make.lesson(first["id"], title="In first")
    await make.lesson(second["id"], title="In second")

    reply = await api.get(f"{LESSONS}?module={second['id']}", as_="student")

    assert titles(reply.body) == ["In second"]


async def test_lesson_list_filters_by_course(api, make):
    first, second = await make.course(), await make.course()
    await make.lesson((await make.module(first["id"]))["id"], title="In first")
    await make.lesson((await make.module(second["id"]))["id"], title="In second")

    reply = await api.get(f"{LESSONS}?course={first['id']}", as_="student")

    assert titles(reply.body) == ["In first"]


# Lessons: change and delete


async def test_instructor_patches_a_lesson(api, lesson):
    reply = await api.patch(
        f"{LESSONS}{lesson['id']}/",
        {"title": "Renamed", "content": "New text", "duration_minutes": 30},
        as_="instructor",
    )

    assert reply.status == 200
    assert reply.body == {
        **lesson,
        "title": "Renamed",
        "content": "New text",
        "duration_minutes": 30,
    }


async def test_instructor_replaces_a_lesson_with_put(api, lesson):
    body = {"module": lesson["module"], "title": "Replaced", "lesson_type": "quiz"}

    reply = await api.put(f"{LESSONS}{lesson['id']}/", body, as_="instructor")

    assert reply.status == 200
    assert (reply.body["title"], reply.body["lesson_type"]) == ("Replaced", "quiz")


async def test_admin_patches_any_lesson(api, lesson):
    reply = await api.patch(f"{LESSONS}{lesson['id']}/", {"order": 9}, as_="admin")

    assert (reply.status, reply.body["order"]) == (200, 9)


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_patches_a_lesson(api, lesson, who):
    reply = await api.patch(f"{LESSONS}{lesson['id']}/", {"title": "Hijacked"}, as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert (await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")).body == lesson


async def test_instructor_deletes_a_lesson(api, lesson):
    reply = await api.delete(f"{LESSONS}{lesson['id']}/", as_="instructor")

    assert (reply.status, reply.body) == (204, None)
    assert (await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")).status == 404


async def test_admin_deletes_any_lesson(api, lesson):
    reply = await api.delete(f"{LESSONS}{lesson['id']}/", as_="admin")

    assert reply.status == 204


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_deletes_a_lesson(api, lesson, who):
    reply = await api.delete(f"{LESSONS}{lesson['id']}/", as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert (await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")).status == 200


# Resources


async def test_instructor_adds_a_resource_to_a_lesson(api, lesson):
    body = {"lesson": lesson["id"], "title": "Docs", "url": "https://docs.python.org/3/"}

    reply = await api.post(RESOURCES, body, as_="instructor")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "lesson": lesson["id"],
        "title": "Docs",
        "url": "https://docs.python.org/3/",
        "created_at": TIMESTAMP,
    }


async def test_admin_adds_a_resource_to_any_lesson(api, lesson):
    body = {"lesson": lesson["id"], "title": "Docs", "url": "https://example.org/docs"}

    reply = await api.post(RESOURCES, body, as_="admin")

    assert reply.status == 201


@pytest.mark.parametrize("who", ["instructor2", "student"])
async def test_only_the_courses_instructor_or_an_admin_adds_a_resource(api, lesson, who):
    body = {"lesson": lesson["id"], "title": "Spam", "url": "https://example.org/spam"}

    reply = await api.post(RESOURCES, body, as_=who)

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    listing = await api.get(f"{RESOURCES}?lesson={lesson['id']}", as_="instructor")
    assert listing.body["count"] == 0


async def test_resource_naming_no_lesson_is_a_400_on_lesson(api):
    body = {"lesson": 999999, "title": "Orphan", "url": "https://example.org/"}

    reply = await api.post(RESOURCES, body, as_="instructor")

    assert (reply.status, reply.body) == (400, invalid_pk("lesson", 999999))


async def test_resource_on_a_lesson_of_another_instructors_draft_course_is_a_400_on_lesson(
    api, make
):
    draft = await make.course(status="Draft")
    module = await make.module(draft["id"])
    # The message names the lesson's id, which must not be mistaken for the course's.
    lessons = [await make.lesson(module["id"]) for _ in range(2)]
    lesson = next(each for each in lessons if each["id"] != draft["id"])
    body = {"lesson": lesson["id"], "title": "Hidden", "url": "https://example.org/x"}

    reply = await api.post(RESOURCES, body, as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid_pk("lesson", lesson["id"]))


@pytest.mark.parametrize(
    "url", ["not a url", "example.org/page", "ftp://example.org/file", "javascript:alert(1)", ""]
)
async def test_resource_with_an_invalid_url_is_a_400_on_url(api, lesson, url):
    body = {"lesson": lesson["id"], "title": "Bad", "url": url}

    reply = await api.post(RESOURCES, body, as_="instructor")

    assert (reply.status, reply.body) == (400, {"url": ["Enter a valid URL."], "status": 400})


async def test_patching_a_resource_with_an_invalid_url_is_a_400_on_url(api, make, lesson):
    body = {"lesson": lesson["id"], "title": "Docs", "url": "https://example.org/docs"}
    resource = (await api.post(RESOURCES, body, as_="instructor")).body

    reply = await api.patch(f"{RESOURCES}{resource['id']}/", {"url": "nope"}, as_="instructor")

    assert (reply.status, reply.body) == (400, {"url": ["Enter a valid URL."], "status": 400})


@pytest.fixture
async def resource(api: Any, lesson: dict[str, Any]) -> dict[str, Any]:
    body = {"lesson": lesson["id"], "title": "Docs", "url": "https://example.org/docs"}
    reply = await api.post(RESOURCES, body, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_resource_is_retrieved_by_id_by_an_enrolled_student(api, make, resource, lesson):
    await make.enroll(lesson["course"])

    reply = await api.get(f"{RESOURCES}{resource['id']}/", as_="student")

    assert (reply.status, reply.body) == (200, resource)


async def test_instructor_patches_a_resource(api, resource):
    reply = await api.patch(
        f"{RESOURCES}{resource['id']}/",
        {"title": "Manual", "url": "https://example.org/manual"},
        as_="instructor",
    )

    assert reply.status == 200
    assert reply.body == {**resource, "title": "Manual", "url": "https://example.org/manual"}


async def test_instructor_replaces_a_resource_with_put(api, resource):
    body = {"lesson": resource["lesson"], "title": "Spec", "url": "https://example.org/spec"}

    reply = await api.put(f"{RESOURCES}{resource['id']}/", body, as_="instructor")

    assert reply.status == 200
    assert reply.body == {**resource, "title": "Spec", "url": "https://example.org/spec"}


async def test_only_the_courses_instructor_or_an_admin_patches_a_resource(
    api, make, resource, lesson
):
    await make.enroll(lesson["course"])

    reply = await api.patch(f"{RESOURCES}{resource['id']}/", {"title": "Hijacked"}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_another_instructor_cannot_even_see_a_resource_to_patch(api, resource):
    reply = await api.patch(
        f"{RESOURCES}{resource['id']}/", {"title": "Hijacked"}, as_="instructor2"
    )

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_instructor_deletes_a_resource(api, resource):
    reply = await api.delete(f"{RESOURCES}{resource['id']}/", as_="instructor")

    assert (reply.status, reply.body) == (204, None)
    assert (await api.get(f"{RESOURCES}{resource['id']}/", as_="instructor")).status == 404


async def test_admin_deletes_any_resource(api, resource):
    reply = await api.delete(f"{RESOURCES}{resource['id']}/", as_="admin")

    assert reply.status == 204


@pytest.mark.parametrize(("who", "status"), [("instructor2", 404), ("student", 403)])
async def test_only_the_courses_instructor_or_an_admin_deletes_a_resource(
    api, make, resource, lesson, who, status
):
    await make.enroll(lesson["course"])  # the student's; the other instructor sees nothing

    reply = await api.delete(f"{RESOURCES}{resource['id']}/", as_=who)

    assert reply.status == status
    assert (await api.get(f"{RESOURCES}{resource['id']}/", as_="instructor")).status == 200


async def test_resource_list_filters_by_lesson(api, make, module):
    first, second = await make.lesson(module["id"]), await make.lesson(module["id"])
    for lesson, title in ((first, "For first"), (second, "For second")):
        body = {"lesson": lesson["id"], "title": title, "url": "https://example.org/x"}
        await api.post(RESOURCES, body, as_="instructor")
    await make.enroll(module["course"])

    reply = await api.get(f"{RESOURCES}?lesson={second['id']}", as_="student")

    assert (reply.status, titles(reply.body)) == (200, ["For second"])


async def test_resources_of_a_draft_course_are_hidden_from_students(api, make):
    draft = await make.course(status="Draft")
    lesson = await make.lesson((await make.module(draft["id"]))["id"])
    body = {"lesson": lesson["id"], "title": "Hidden", "url": "https://example.org/x"}
    resource = (await api.post(RESOURCES, body, as_="instructor")).body

    detail = await api.get(f"{RESOURCES}{resource['id']}/", as_="student")
    listing = await api.get(RESOURCES, as_="student")

    assert (detail.status, detail.body) == (404, NOT_FOUND)
    assert listing.body["count"] == 0


async def test_deleting_a_lesson_deletes_its_resources(api, lesson, resource):
    await api.delete(f"{LESSONS}{lesson['id']}/", as_="instructor")

    reply = await api.get(f"{RESOURCES}{resource['id']}/", as_="instructor")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Ids no INTEGER column can hold (PostgreSQL refuses to even compare them)

BEYOND_INT32 = 2**31


@pytest.mark.parametrize("collection", [MODULES, LESSONS, RESOURCES])
async def test_id_beyond_the_integer_range_is_not_found(api, collection):
    reply = await api.get(f"{collection}{BEYOND_INT32}/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize(
    "query",
    [f"{MODULES}?course=", f"{LESSONS}?module=", f"{LESSONS}?course=", f"{RESOURCES}?lesson="],
)
async def test_filter_by_an_id_beyond_the_integer_range_is_a_400_on_that_filter(api, lesson, query):
    reply = await api.get(f"{query}{BEYOND_INT32}", as_="admin")

    field = query.rsplit("?", 1)[1].rstrip("=")
    assert (reply.status, reply.body) == (400, invalid_pk(field, BEYOND_INT32))


async def test_module_naming_a_course_id_beyond_the_integer_range_is_a_400_on_course(api):
    reply = await api.post(MODULES, {"course": BEYOND_INT32, "title": "Far"}, as_="admin")

    assert (reply.status, reply.body) == (400, invalid_pk("course", BEYOND_INT32))


async def test_lesson_naming_a_module_id_beyond_the_integer_range_is_a_400_on_module(api):
    reply = await api.post(LESSONS, {"module": BEYOND_INT32, "title": "Far"}, as_="admin")

    assert (reply.status, reply.body) == (400, invalid_pk("module", BEYOND_INT32))


async def test_resource_naming_a_lesson_id_beyond_the_integer_range_is_a_400_on_lesson(api):
    body = {"lesson": BEYOND_INT32, "title": "Far", "url": "https://example.org/"}

    reply = await api.post(RESOURCES, body, as_="admin")

    assert (reply.status, reply.body) == (400, invalid_pk("lesson", BEYOND_INT32))
