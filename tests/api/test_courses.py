"""Courses: `/api/lms/courses/courses/` as docs/api.md describes it."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import SEED_COURSE
from tests.matchers import person

COURSES = "/api/lms/courses/courses/"
CATEGORIES = "/api/lms/courses/categories/"
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
FORBIDDEN = {"detail": "You do not have permission to perform this action.", "status": 403}
NOT_FOUND = {"detail": "Not found.", "status": 404}
INVALID_PAGE = {"detail": "Invalid page.", "status": 404}
CATALOGUE_FIELDS = {
    "id",
    "title",
    "slug",
    "code",
    "level",
    "status",
    "current_price",
    "currency",
    "thumbnail",
    "created_at",
}
DETAIL_FIELDS = CATALOGUE_FIELDS | {
    "description",
    "short_description",
    "category_id",
    "price",
    "discount_price",
    "completion_hours",
    "instructor_id",
    "instructor",
    "average_rating",
    "rating_count",
    "updated_at",
}


def course_url(course_id: int) -> str:
    return f"{COURSES}{course_id}/"


def absolute(api: Any, path_and_query: str) -> str:
    return str(api.client.make_url(path_and_query))


def link_parts(url: str) -> tuple[str, str, dict[str, list[str]]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path, parse_qs(parts.query)


def titles(reply: Any) -> list[str]:
    return [row["title"] for row in reply.body["results"]]


# Create


async def test_seed_create_body_returns_the_seed_response_fields(api):
    reply = await api.post(COURSES, SEED_COURSE, as_="instructor")

    assert reply.status == 201, reply.body
    assert isinstance(reply.body["id"], int)
    assert reply.body["title"] == "Python Programming Fundamentals"
    assert reply.body["slug"] == "python-programming-fundamentals"
    assert reply.body["code"] == "PY101"
    assert reply.body["description"] == "Learn Python from basics to advanced concepts"
    assert reply.body["current_price"] == "99.99"
    assert ISO_UTC.match(reply.body["created_at"]), reply.body["created_at"]


async def test_created_course_echoes_every_stored_field(api):
    reply = await api.post(COURSES, SEED_COURSE, as_="instructor")

    assert reply.status == 201, reply.body
    assert set(reply.body) == DETAIL_FIELDS
    assert {key: reply.body[key] for key in DETAIL_FIELDS - {"id", "created_at", "updated_at"}} == {
        "title": "Python Programming Fundamentals",
        "slug": "python-programming-fundamentals",
        "code": "PY101",
        "description": "Learn Python from basics to advanced concepts",
        "short_description": "Complete Python course for beginners",
        "category_id": 1,
        "level": "Beginner",
        "status": "Published",
        "price": "99.99",
        "discount_price": None,
        "current_price": "99.99",
        "currency": "USD",
        "completion_hours": 40,
        "instructor_id": "instructor-1",
        "instructor": person("instructor-1"),
        "average_rating": 0.0,
        "rating_count": 0,
        "thumbnail": None,
    }
    assert ISO_UTC.match(reply.body["updated_at"])


async def test_created_course_is_retrievable_with_the_same_body(api):
    created = await api.post(COURSES, SEED_COURSE, as_="instructor")

    reply = await api.get(course_url(created.body["id"]), as_="student")

    assert reply.status == 200
    assert reply.body == created.body


async def test_same_title_twice_gets_the_next_free_slug(api):
    first = await api.post(COURSES, SEED_COURSE, as_="instructor")
    second = await api.post(COURSES, {**SEED_COURSE, "code": "PY102"}, as_="instructor")
    third = await api.post(COURSES, {**SEED_COURSE, "code": "PY103"}, as_="instructor")

    assert (first.status, second.status, third.status) == (201, 201, 201)
    assert first.body["slug"] == "python-programming-fundamentals"
    assert second.body["slug"] == "python-programming-fundamentals-2"
    assert third.body["slug"] == "python-programming-fundamentals-3"


async def test_slug_is_unique_per_tenant_not_across_tenants(api):
    await api.post(COURSES, SEED_COURSE, as_="instructor")

    reply = await api.post(COURSES, SEED_COURSE, as_="b_instructor")

    assert reply.status == 201, reply.body
    assert reply.body["slug"] == "python-programming-fundamentals"


async def test_title_without_ascii_letters_gets_a_fallback_slug(api):
    reply = await api.post(COURSES, {"title": "日本語", "code": "JP1"}, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["title"] == "日本語"
    assert reply.body["slug"] == "course"


async def test_same_code_twice_in_a_tenant_is_400_on_code(api):
    await api.post(COURSES, SEED_COURSE, as_="instructor")

    reply = await api.post(COURSES, {**SEED_COURSE, "title": "Another"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"code": ["course with this code already exists."], "status": 400}


async def test_same_code_in_the_other_tenant_is_fine(api):
    await api.post(COURSES, SEED_COURSE, as_="instructor")

    reply = await api.post(COURSES, SEED_COURSE, as_="b_instructor")

    assert reply.status == 201, reply.body
    assert reply.body["code"] == "PY101"


async def test_discount_price_becomes_the_current_price(api):
    body = {**SEED_COURSE, "price": "99.99", "discount_price": "49.50"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["price"] == "99.99"
    assert reply.body["discount_price"] == "49.50"
    assert reply.body["current_price"] == "49.50"


async def test_discount_above_the_price_is_400(api):
    body = {**SEED_COURSE, "price": "10.00", "discount_price": "10.01"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "discount_price": ["Ensure the discount price is not greater than the price."],
        "status": 400,
    }


async def test_negative_price_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "price": "-1.00"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "price": ["Ensure this value is greater than or equal to 0."],
        "status": 400,
    }


async def test_a_boolean_is_no_count_of_hours(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "completion_hours": False}, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"completion_hours": ["A valid integer is required."], "status": 400},
    )


async def test_price_with_three_decimal_places_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "price": "9.999"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "price": ["Ensure that there are no more than 2 decimal places."],
        "status": 400,
    }


@pytest.mark.parametrize(("sent", "shown"), [(99.99, "99.99"), (20, "20.00"), (0, "0.00")])
async def test_price_as_a_json_number_is_accepted_and_shown_as_a_decimal_string(api, sent, shown):
    reply = await api.post(COURSES, {**SEED_COURSE, "price": sent}, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["price"] == shown
    assert reply.body["current_price"] == shown


async def test_course_without_a_price_is_free(api):
    reply = await api.post(COURSES, {"title": "Free", "code": "FREE1"}, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["price"] == "0.00"
    assert reply.body["current_price"] == "0.00"


async def test_course_defaults_are_a_beginner_draft_in_usd(api):
    reply = await api.post(COURSES, {"title": "Defaults", "code": "DEF1"}, as_="instructor")

    assert reply.status == 201, reply.body
    assert (reply.body["level"], reply.body["status"], reply.body["currency"]) == (
        "Beginner",
        "Draft",
        "USD",
    )


async def test_lower_case_currency_is_stored_upper_case(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "currency": "eur"}, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["currency"] == "EUR"


async def test_students_cannot_create_courses(api):
    reply = await api.post(COURSES, SEED_COURSE, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_student_create_is_403_before_the_body_is_validated(api):
    reply = await api.post(COURSES, {"title": 5}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_students_failed_create_stores_nothing(api):
    await api.post(COURSES, SEED_COURSE, as_="student")

    reply = await api.get(COURSES, as_="admin")

    assert reply.body["count"] == 0


async def test_admin_may_name_the_instructor(api):
    body = {**SEED_COURSE, "instructor_id": "instructor-2"}

    created = await api.post(COURSES, body, as_="admin")
    changed = await api.patch(
        course_url(created.body["id"]), {"title": "Renamed"}, as_="instructor2"
    )

    assert created.status == 201, created.body
    assert created.body["instructor_id"] == "instructor-2"
    assert changed.status == 200, changed.body


async def test_creator_is_the_instructor_when_none_is_named(api):
    reply = await api.post(COURSES, SEED_COURSE, as_="admin")

    assert reply.status == 201
    assert reply.body["instructor_id"] == "admin-1"


async def test_instructor_may_name_themselves(api):
    body = {**SEED_COURSE, "instructor_id": "instructor-1"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["instructor_id"] == "instructor-1"


async def test_instructor_may_not_name_another_instructor(api):
    body = {**SEED_COURSE, "instructor_id": "instructor-2"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "instructor_id": ["Only admins may name another instructor."],
        "status": 400,
    }


async def test_category_id_naming_no_category_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "category_id": 999}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "category_id": ['Invalid pk "999" - object does not exist.'],
        "status": 400,
    }


async def test_category_id_of_another_tenant_is_400(api):
    other = await api.post(CATEGORIES, {"name": "Globex Only"}, as_="b_instructor")
    assert other.status == 201, other.body

    body = {**SEED_COURSE, "category_id": other.body["id"]}
    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert list(reply.body) == ["category_id", "status"]


@pytest.mark.parametrize("category_id", [0, -1, 2**31, 2**63])
async def test_category_id_outside_the_id_range_is_400_not_500(api, category_id):
    body = {**SEED_COURSE, "category_id": category_id}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "category_id": [f'Invalid pk "{category_id}" - object does not exist.'],
        "status": 400,
    }


async def test_category_id_null_means_no_category(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "category_id": None}, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["category_id"] is None


# List and pagination


async def test_empty_list_has_the_drf_page_shape(api):
    reply = await api.get(COURSES, as_="student")

    assert reply.status == 200
    assert reply.body == {"count": 0, "next": None, "previous": None, "results": []}


async def test_list_pages_hold_20_by_default_with_an_absolute_next_link(api, make):
    for _ in range(21):
        await make.course()

    reply = await api.get(COURSES, as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 21
    assert len(reply.body["results"]) == 20
    assert reply.body["previous"] is None
    assert reply.body["next"] == absolute(api, COURSES + "?page=2")


async def test_last_page_holds_the_rest_and_links_back_to_the_first(api, make):
    for _ in range(21):
        await make.course()

    reply = await api.get(COURSES + "?page=2", as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 21
    assert len(reply.body["results"]) == 1
    assert reply.body["next"] is None
    assert reply.body["previous"] == absolute(api, COURSES)


async def test_pages_do_not_overlap_and_cover_every_course(api, make):
    created = {(await make.course())["id"] for _ in range(7)}

    seen: list[int] = []
    for page in (1, 2, 3):
        reply = await api.get(f"{COURSES}?page_size=3&page={page}", as_="student")
        assert reply.status == 200
        seen += [row["id"] for row in reply.body["results"]]

    assert len(seen) == 7
    assert set(seen) == created


async def test_page_size_is_clamped_to_100(api, make):
    for _ in range(101):
        await make.course()

    reply = await api.get(COURSES + "?page_size=1000", as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 101
    assert len(reply.body["results"]) == 100
    assert reply.body["next"] == absolute(api, COURSES + "?page_size=1000&page=2")


@pytest.mark.parametrize("page_size", ["abc", "0", "-5"])
async def test_unusable_page_size_falls_back_to_20(api, make, page_size):
    for _ in range(21):
        await make.course()

    reply = await api.get(f"{COURSES}?page_size={page_size}", as_="student")

    assert reply.status == 200
    assert len(reply.body["results"]) == 20


async def test_next_and_previous_keep_filters_and_page_size(api, make):
    for _ in range(5):
        await make.course(level="Advanced")
    await make.course(level="Beginner")

    reply = await api.get(COURSES + "?level=Advanced&page_size=2&page=2", as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 5
    origin = absolute(api, "/").rstrip("/")
    assert link_parts(reply.body["next"]) == (
        origin,
        COURSES,
        {"level": ["Advanced"], "page_size": ["2"], "page": ["3"]},
    )
    assert link_parts(reply.body["previous"]) == (
        origin,
        COURSES,
        {"level": ["Advanced"], "page_size": ["2"]},
    )


async def test_page_past_the_end_is_404_invalid_page(api, make):
    await make.course()

    reply = await api.get(COURSES + "?page=999", as_="student")

    assert reply.status == 404
    assert reply.body == INVALID_PAGE


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", str(10**30)])
async def test_unusable_page_number_is_404_invalid_page(api, page):
    reply = await api.get(f"{COURSES}?page={page}", as_="student")

    assert reply.status == 404
    assert reply.body == INVALID_PAGE


async def test_first_page_of_an_empty_list_is_not_an_error(api):
    reply = await api.get(COURSES + "?page=1", as_="student")

    assert reply.status == 200
    assert reply.body["results"] == []


async def test_list_rows_have_exactly_the_catalogue_fields(api):
    await api.post(COURSES, SEED_COURSE, as_="instructor")

    reply = await api.get(COURSES, as_="student")

    assert reply.status == 200
    [row] = reply.body["results"]
    assert set(row) == CATALOGUE_FIELDS
    assert row["level"] == "Beginner"
    assert row["current_price"] == "99.99"
    assert row["thumbnail"] is None
    assert ISO_UTC.match(row["created_at"])


async def test_list_is_newest_first_by_default(api, make):
    for title in ("First", "Second", "Third"):
        await make.course(title=title)

    reply = await api.get(COURSES, as_="student")

    assert titles(reply) == ["Third", "Second", "First"]


# Filters, search, ordering


async def test_filter_by_level(api, make):
    await make.course(title="Intro", level="Beginner")
    await make.course(title="Deep Dive", level="Advanced")

    reply = await api.get(COURSES + "?level=Advanced", as_="student")

    assert reply.status == 200
    assert titles(reply) == ["Deep Dive"]
    assert reply.body["count"] == 1


async def test_filter_by_status(api, make):
    await make.course(title="Live", status="Published")
    await make.course(title="Old", status="Archived")
    await make.course(title="Wip", status="Draft")

    reply = await api.get(COURSES + "?status=Archived", as_="admin")

    assert reply.status == 200
    assert titles(reply) == ["Old"]


async def test_filter_by_category_id(api, make):
    category = await api.post(CATEGORIES, {"name": "Data"}, as_="instructor")
    await make.course(title="In Data", category_id=category.body["id"])
    await make.course(title="In General", category_id=1)
    await make.course(title="Nowhere")

    reply = await api.get(f"{COURSES}?category_id={category.body['id']}", as_="student")

    assert reply.status == 200
    assert titles(reply) == ["In Data"]


async def test_filter_by_a_category_id_outside_the_id_range_is_a_400_on_that_filter(api, make):
    await make.course(category_id=1)

    reply = await api.get(f"{COURSES}?category_id={2**31}", as_="student")

    assert reply.status == 400
    assert reply.body == {
        "category_id": [f'Invalid pk "{2**31}" - object does not exist.'],
        "status": 400,
    }


async def test_non_integer_category_id_filter_is_400_on_that_field(api):
    reply = await api.get(COURSES + "?category_id=abc", as_="student")

    assert reply.status == 400
    assert reply.body == {"category_id": ["A valid integer is required."], "status": 400}


async def test_invalid_level_filter_is_400_on_that_field(api):
    reply = await api.get(COURSES + "?level=Expert", as_="student")

    assert reply.status == 400
    assert reply.body == {"level": ['"Expert" is not a valid choice.'], "status": 400}


async def test_empty_filter_values_are_ignored(api, make):
    await make.course()

    reply = await api.get(COURSES + "?level=&status=&category_id=&search=", as_="student")

    assert reply.status == 200
    assert reply.body["count"] == 1


async def test_filters_combine(api, make):
    await make.course(title="A", level="Advanced", currency="EUR")
    await make.course(title="B", level="Advanced", currency="USD")
    await make.course(title="C", level="Beginner", currency="EUR")

    reply = await api.get(COURSES + "?level=Advanced&currency=EUR", as_="student")

    assert titles(reply) == ["A"]


async def test_search_matches_titles_case_insensitively(api, make):
    await make.course(title="Python Basics")
    await make.course(title="Advanced PYTHON")
    await make.course(title="Rust for Beginners")

    reply = await api.get(COURSES + "?search=python", as_="student")

    assert reply.status == 200
    assert sorted(titles(reply)) == ["Advanced PYTHON", "Python Basics"]


async def test_search_treats_like_wildcards_literally(api, make):
    await make.course(title="100% Python")
    await make.course(title="1000 Pythons")

    reply = await api.get(COURSES + "?search=100%25", as_="student")

    assert titles(reply) == ["100% Python"]


async def test_ordering_by_title(api, make):
    for title in ("Biology", "Chemistry", "Algebra"):
        await make.course(title=title)

    reply = await api.get(COURSES + "?ordering=title", as_="student")

    assert titles(reply) == ["Algebra", "Biology", "Chemistry"]


async def test_ordering_by_title_descending(api, make):
    for title in ("Biology", "Chemistry", "Algebra"):
        await make.course(title=title)

    reply = await api.get(COURSES + "?ordering=-title", as_="student")

    assert titles(reply) == ["Chemistry", "Biology", "Algebra"]


async def test_unknown_ordering_field_is_ignored(api, make):
    for title in ("First", "Second"):
        await make.course(title=title)

    reply = await api.get(COURSES + "?ordering=instructor_secret", as_="student")

    assert reply.status == 200
    assert titles(reply) == ["Second", "First"]


async def test_ordering_is_kept_in_the_next_link(api, make):
    for n in range(3):
        await make.course(title=f"T{n}")

    reply = await api.get(COURSES + "?ordering=-title&page_size=1", as_="student")

    assert titles(reply) == ["T2"]
    assert parse_qs(urlsplit(reply.body["next"]).query) == {
        "ordering": ["-title"],
        "page_size": ["1"],
        "page": ["2"],
    }


# Visibility: a course that is not published is its instructor's and the admins'


async def test_draft_courses_are_not_listed_for_students(api, make):
    await make.course(title="Live", status="Published")
    await make.course(title="Wip", status="Draft")

    reply = await api.get(COURSES, as_="student")

    assert titles(reply) == ["Live"]
    assert reply.body["count"] == 1


async def test_draft_course_detail_is_404_for_students(api, make):
    draft = await make.course(status="Draft")

    reply = await api.get(course_url(draft["id"]), as_="student")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_archived_course_detail_is_404_for_students(api, make):
    archived = await make.course(status="Archived")

    reply = await api.get(course_url(archived["id"]), as_="student")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_draft_course_is_listed_and_shown_to_its_instructor(api, make):
    draft = await make.course(title="Wip", status="Draft")

    listed = await api.get(COURSES, as_="instructor")
    shown = await api.get(course_url(draft["id"]), as_="instructor")

    assert titles(listed) == ["Wip"]
    assert shown.status == 200
    assert shown.body["status"] == "Draft"


async def test_draft_course_is_listed_and_shown_to_admins(api, make):
    draft = await make.course(title="Wip", status="Draft")

    listed = await api.get(COURSES, as_="admin")
    shown = await api.get(course_url(draft["id"]), as_="admin")

    assert titles(listed) == ["Wip"]
    assert shown.status == 200


async def test_draft_course_is_hidden_from_other_instructors(api, make):
    draft = await make.course(title="Wip", status="Draft")

    listed = await api.get(COURSES, as_="instructor2")
    shown = await api.get(course_url(draft["id"]), as_="instructor2")

    assert listed.body["count"] == 0
    assert shown.status == 404
    assert shown.body == NOT_FOUND


async def test_courses_of_another_tenant_are_invisible(api, make):
    course = await make.course(title="Acme Only")

    listed = await api.get(COURSES, as_="b_admin")
    shown = await api.get(course_url(course["id"]), as_="b_admin")

    assert listed.body["count"] == 0
    assert shown.status == 404


# Update


async def test_instructor_patches_their_course(api, make):
    course = await make.course(title="Before", price="10.00")

    reply = await api.patch(
        course_url(course["id"]), {"title": "After", "level": "Advanced"}, as_="instructor"
    )

    assert reply.status == 200, reply.body
    assert reply.body["title"] == "After"
    assert reply.body["level"] == "Advanced"
    assert reply.body["price"] == "10.00"
    assert reply.body["code"] == course["code"]
    assert reply.body["slug"] == course["slug"]


async def test_patch_is_persisted(api, make):
    course = await make.course()

    await api.patch(course_url(course["id"]), {"description": "New words"}, as_="instructor")
    reply = await api.get(course_url(course["id"]), as_="student")

    assert reply.body["description"] == "New words"


async def test_instructor_puts_their_course(api):
    created = await api.post(COURSES, SEED_COURSE, as_="instructor")
    body = {**SEED_COURSE, "title": "Python, Again", "price": "120.00", "level": "Intermediate"}

    reply = await api.put(course_url(created.body["id"]), body, as_="instructor")

    assert reply.status == 200, reply.body
    assert reply.body["title"] == "Python, Again"
    assert reply.body["price"] == "120.00"
    assert reply.body["level"] == "Intermediate"
    assert reply.body["code"] == "PY101"


async def test_put_missing_a_required_field_is_400(api):
    created = await api.post(COURSES, SEED_COURSE, as_="instructor")
    body = {key: value for key, value in SEED_COURSE.items() if key != "title"}

    reply = await api.put(course_url(created.body["id"]), body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["This field is required."], "status": 400}


async def test_patch_may_omit_required_fields(api, make):
    course = await make.course()

    reply = await api.patch(course_url(course["id"]), {}, as_="instructor")

    assert reply.status == 200
    assert reply.body["title"] == course["title"]


async def test_another_instructor_cannot_update_a_course(api, make):
    course = await make.course(status="Published")

    reply = await api.patch(course_url(course["id"]), {"title": "Mine"}, as_="instructor2")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_student_cannot_update_a_course(api, make):
    course = await make.course(status="Published")

    reply = await api.patch(course_url(course["id"]), {"title": "Mine"}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_student_cannot_put_a_course(api, make):
    course = await make.course(status="Published")

    reply = await api.put(course_url(course["id"]), SEED_COURSE, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_student_update_is_403_before_the_body_is_validated(api, make):
    course = await make.course(status="Published")

    reply = await api.patch(course_url(course["id"]), {"title": 5}, as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_update_of_an_unknown_course_is_404_before_the_body_is_validated(api):
    reply = await api.put(course_url(999), {"title": 5}, as_="admin")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_update_of_a_draft_the_student_cannot_see_is_404(api, make):
    course = await make.course(status="Draft")

    reply = await api.patch(course_url(course["id"]), {"title": "Mine"}, as_="student")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_admin_updates_any_course(api, make):
    course = await make.course()

    reply = await api.patch(course_url(course["id"]), {"status": "Archived"}, as_="admin")

    assert reply.status == 200
    assert reply.body["status"] == "Archived"


async def test_update_to_another_course_code_is_400(api, make):
    await make.course(code="TAKEN")
    course = await make.course()

    reply = await api.patch(course_url(course["id"]), {"code": "TAKEN"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"code": ["course with this code already exists."], "status": 400}


async def test_update_keeping_the_courses_own_code_is_fine(api, make):
    course = await make.course(code="MINE")

    reply = await api.patch(course_url(course["id"]), {"code": "MINE"}, as_="instructor")

    assert reply.status == 200
    assert reply.body["code"] == "MINE"


async def test_update_adding_a_discount_changes_the_current_price(api, make):
    course = await make.course(price="80.00")

    reply = await api.patch(course_url(course["id"]), {"discount_price": "60.00"}, as_="instructor")

    assert reply.status == 200
    assert reply.body["current_price"] == "60.00"


async def test_update_removing_the_discount_restores_the_price(api, make):
    course = await make.course(price="80.00", discount_price="60.00")

    reply = await api.patch(course_url(course["id"]), {"discount_price": None}, as_="instructor")

    assert reply.status == 200
    assert reply.body["discount_price"] is None
    assert reply.body["current_price"] == "80.00"


async def test_update_lowering_the_price_below_the_discount_is_400(api, make):
    course = await make.course(price="80.00", discount_price="60.00")

    reply = await api.patch(course_url(course["id"]), {"price": "50.00"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "discount_price": ["Ensure the discount price is not greater than the price."],
        "status": 400,
    }


async def test_update_setting_the_price_to_null_is_400(api, make):
    course = await make.course(price="80.00")

    reply = await api.patch(course_url(course["id"]), {"price": None}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"price": ["This field may not be null."], "status": 400}


async def test_update_setting_a_title_to_null_is_400(api, make):
    course = await make.course()

    reply = await api.patch(course_url(course["id"]), {"title": None}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["This field may not be null."], "status": 400}


async def test_failed_update_changes_nothing(api, make):
    course = await make.course(title="Kept", price="80.00", discount_price="60.00")

    await api.patch(course_url(course["id"]), {"title": "Lost", "price": "1.00"}, as_="instructor")
    reply = await api.get(course_url(course["id"]), as_="instructor")

    assert reply.body["title"] == "Kept"
    assert reply.body["price"] == "80.00"


async def test_update_to_a_missing_category_is_400(api, make):
    course = await make.course()

    reply = await api.patch(course_url(course["id"]), {"category_id": 999}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "category_id": ['Invalid pk "999" - object does not exist.'],
        "status": 400,
    }


async def test_admin_may_hand_a_course_to_another_instructor(api, make):
    course = await make.course()

    reply = await api.patch(
        course_url(course["id"]), {"instructor_id": "instructor-2"}, as_="admin"
    )

    assert reply.status == 200
    assert reply.body["instructor_id"] == "instructor-2"


async def test_instructor_may_not_hand_their_course_to_another(api, make):
    course = await make.course()

    reply = await api.patch(
        course_url(course["id"]), {"instructor_id": "instructor-2"}, as_="instructor"
    )

    assert reply.status == 400
    assert reply.body == {
        "instructor_id": ["Only admins may name another instructor."],
        "status": 400,
    }


# Delete


async def test_instructor_deletes_their_course_then_it_is_404(api, make):
    course = await make.course()

    deleted = await api.delete(course_url(course["id"]), as_="instructor")
    again = await api.get(course_url(course["id"]), as_="instructor")

    assert deleted.status == 204
    assert deleted.body is None
    assert again.status == 404
    assert again.body == NOT_FOUND


async def test_deleted_course_leaves_the_list(api, make):
    course = await make.course()

    await api.delete(course_url(course["id"]), as_="instructor")
    reply = await api.get(COURSES, as_="instructor")

    assert reply.body["count"] == 0


async def test_deleting_twice_is_404(api, make):
    course = await make.course()
    await api.delete(course_url(course["id"]), as_="instructor")

    reply = await api.delete(course_url(course["id"]), as_="instructor")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_admin_deletes_any_course(api, make):
    course = await make.course()

    reply = await api.delete(course_url(course["id"]), as_="admin")

    assert reply.status == 204


@pytest.mark.parametrize("who", ["student", "instructor2"])
async def test_only_the_instructor_or_an_admin_may_delete(api, make, who):
    course = await make.course(status="Published")

    reply = await api.delete(course_url(course["id"]), as_=who)
    still = await api.get(course_url(course["id"]), as_="student")

    assert reply.status == 403
    assert reply.body == FORBIDDEN
    assert still.status == 200
