"""Error responses: the contract's shapes (docs/api.md); no request ever produces a 500."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.conftest import SEED_COURSE

COURSES = "/api/lms/courses/courses/"
CATEGORIES = "/api/lms/courses/categories/"
JSON = {"Content-Type": "application/json"}
NOT_FOUND = {"detail": "Not found.", "status": 404}
ONE_MIB = 1024 * 1024


def course_url(course_id: Any) -> str:
    return f"{COURSES}{course_id}/"


async def post_raw(api: Any, path: str, raw: bytes, content_type: str = "application/json"):
    # A stream, so that aiohttp sends big bodies without warning about the event loop.
    return await api.call(
        "POST", path, as_="instructor", data=io.BytesIO(raw), headers={"Content-Type": content_type}
    )


# 401, 404, 405


async def test_no_token_is_401_in_the_seed_shape(api):
    reply = await api.get(COURSES)

    assert reply.status == 401
    assert reply.body == {"detail": "Authentication credentials were not provided.", "status": 401}


async def test_401_names_the_bearer_scheme(api):
    reply = await api.get(COURSES)

    assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_unknown_route_is_404_in_the_seed_shape(api):
    reply = await api.get("/api/lms/courses/nothing-here/", as_="student")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_unknown_route_is_404_even_without_a_token(api):
    reply = await api.get("/api/lms/nowhere/")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_wrong_method_is_405_in_the_seed_shape(api):
    reply = await api.delete(COURSES, as_="admin")

    assert reply.status == 405
    assert reply.body == {"detail": 'Method "DELETE" not allowed.', "status": 405}


async def test_405_lists_the_allowed_methods(api):
    reply = await api.delete(COURSES, as_="admin")

    assert set(reply.headers["Allow"].split(",")) >= {"GET", "POST"}


async def test_post_to_a_course_is_405(api, make):
    course = await make.course()

    reply = await api.post(course_url(course["id"]), {}, as_="admin")

    assert reply.status == 405
    assert reply.body == {"detail": 'Method "POST" not allowed.', "status": 405}


async def test_unknown_course_id_is_404(api):
    reply = await api.get(course_url(999), as_="admin")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


@pytest.mark.parametrize("course_id", ["abc", "1.5", "-1", "1e3", "0x1"])
async def test_non_numeric_course_id_is_404(api, course_id):
    reply = await api.get(course_url(course_id), as_="admin")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_id_written_in_non_ascii_digits_is_404(api, make):
    course = await make.course()
    fullwidth = "".join(chr(0xFF10 + int(digit)) for digit in str(course["id"]))

    reply = await api.get(course_url(fullwidth), as_="admin")

    assert reply.status == 404
    assert reply.body == NOT_FOUND


@pytest.mark.parametrize("course_id", [2**31 - 1, 2**31, 2**62, 2**63, 10**30])
@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
async def test_huge_course_id_is_404_never_500(api, method, course_id):
    body = SEED_COURSE if method in ("PATCH", "PUT") else None

    reply = await api.call(method, course_url(course_id), as_="admin", json=body)

    assert reply.status == 404
    assert reply.body == NOT_FOUND


# Bodies that are not JSON objects


async def test_malformed_json_is_400(api):
    reply = await post_raw(api, COURSES, b'{"title": "x",')

    assert reply.status == 400
    assert reply.body["status"] == 400
    assert reply.body["detail"].startswith("JSON parse error - ")


async def test_json_array_body_is_400(api):
    reply = await api.post(COURSES, [SEED_COURSE], as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."],
        "status": 400,
    }


async def test_json_string_body_is_400(api):
    reply = await api.post(COURSES, "Python Programming Fundamentals", as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got str."],
        "status": 400,
    }


async def test_post_without_a_body_is_validated_as_an_empty_object(api):
    reply = await api.call("POST", COURSES, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "title": ["This field is required."],
        "code": ["This field is required."],
        "status": 400,
    }


async def test_body_over_one_mib_is_413(api):
    raw = b'{"title": "' + b"a" * (ONE_MIB + 1) + b'"}'

    reply = await post_raw(api, COURSES, raw)

    assert reply.status == 413
    assert reply.body == {"detail": "Request entity too large.", "status": 413}


async def test_text_plain_body_is_415(api):
    reply = await post_raw(api, COURSES, b'{"title": "x", "code": "X1"}', "text/plain")

    assert reply.status == 415
    assert reply.body == {
        "detail": 'Unsupported media type "text/plain" in request.',
        "status": 415,
    }


async def test_json_with_a_charset_parameter_is_accepted(api):
    raw = b'{"title": "Charset", "code": "CS1"}'

    reply = await post_raw(api, COURSES, raw, "application/json; charset=utf-8")

    assert reply.status == 201, reply.body


# Field errors


async def test_missing_title_is_a_field_error(api):
    body = {key: value for key, value in SEED_COURSE.items() if key != "title"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["This field is required."], "status": 400}


@pytest.mark.parametrize("title", [42, 1.5, ["Python"], {"en": "Python"}, True])
async def test_title_of_the_wrong_type_is_a_field_error(api, title):
    reply = await api.post(COURSES, {**SEED_COURSE, "title": title}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["Not a valid string."], "status": 400}


async def test_title_null_is_a_field_error(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "title": None}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["This field may not be null."], "status": 400}


@pytest.mark.parametrize("hours", ["abc", 1.5, [40], 10**30])
async def test_completion_hours_that_are_not_an_integer_are_a_field_error(api, hours):
    body = {**SEED_COURSE, "completion_hours": hours}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"completion_hours": ["A valid integer is required."], "status": 400}


async def test_ten_thousand_character_title_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "title": "x" * 10_000}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "title": ["Ensure this field has no more than 200 characters."],
        "status": 400,
    }


async def test_invalid_level_choice_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "level": "Expert"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"level": ['"Expert" is not a valid choice.'], "status": 400}


async def test_several_field_errors_are_reported_together(api):
    body = {**SEED_COURSE, "title": "", "level": "Expert", "price": "free"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "title": ["This field may not be blank."],
        "level": ['"Expert" is not a valid choice.'],
        "price": ["A valid number is required."],
        "status": 400,
    }


async def test_null_character_in_a_title_is_400(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "title": "Py\u0000thon"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"title": ["Null characters are not allowed."], "status": 400}


async def test_null_character_in_a_search_is_400(api):
    reply = await api.get(COURSES + "?search=py%00thon", as_="student")

    assert reply.status == 400
    assert reply.body == {"search": ["Null characters are not allowed."], "status": 400}


async def test_unknown_fields_are_ignored(api):
    body = {**SEED_COURSE, "rating_count": 1000, "surprise": {"deep": [1]}}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 201, reply.body
    assert reply.body["rating_count"] == 0


# The `status` member: the code, unless a field named `status` holds its messages


async def test_field_error_on_status_keeps_its_messages_under_status(api):
    reply = await api.post(COURSES, {**SEED_COURSE, "status": "Nope"}, as_="instructor")

    assert reply.status == 400
    assert reply.body == {"status": ['"Nope" is not a valid choice.']}


async def test_field_error_on_status_beside_others_keeps_every_field(api):
    body = {**SEED_COURSE, "status": "Nope", "level": "Expert"}

    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400
    assert reply.body == {
        "level": ['"Expert" is not a valid choice.'],
        "status": ['"Nope" is not a valid choice.'],
    }


async def test_status_filter_error_keeps_its_messages_under_status(api):
    reply = await api.get(COURSES + "?status=Nope", as_="student")

    assert reply.status == 400
    assert reply.body == {"status": ['"Nope" is not a valid choice.']}


ERROR_REQUESTS = {
    "400 field": ("POST", COURSES, "instructor", {"code": "X"}),
    "400 non-object": ("POST", COURSES, "instructor", [1, 2]),
    "401": ("GET", COURSES, None, None),
    "403": ("POST", COURSES, "student", SEED_COURSE),
    "404 route": ("GET", "/api/lms/nope/", "student", None),
    "404 id": ("GET", course_url(12345), "student", None),
    "404 page": ("GET", COURSES + "?page=7", "student", None),
    "405": ("PUT", COURSES, "admin", SEED_COURSE),
}


@pytest.mark.parametrize("name", list(ERROR_REQUESTS))
async def test_every_error_body_carries_the_http_status(api, name):
    method, path, who, body = ERROR_REQUESTS[name]

    reply = await api.call(method, path, as_=who, json=body)

    assert reply.status >= 400
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.body["status"] == reply.status


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{", "application/json"),
        (b'{"title": "' + b"a" * (ONE_MIB + 1) + b'"}', "application/json"),
        (b"title=x", "application/x-www-form-urlencoded"),
    ],
)
async def test_every_body_error_carries_the_http_status(api, raw, content_type):
    reply = await post_raw(api, COURSES, raw, content_type)

    assert reply.status in (400, 413, 415)
    assert reply.body["status"] == reply.status


# Hostile input: always a 400, never a 500

HOSTILE_BODIES: list[Any] = [
    None,
    {},
    {"title": None, "code": None},
    {"title": "", "code": ""},
    {"title": "   ", "code": "   "},
    {"title": "x", "code": "X", "price": None},
    {"title": "x", "code": "X", "level": None, "status": None, "currency": None},
    {"title": {"nested": {"deeper": [1, {"x": None}]}}, "code": "X"},
    {"title": "x", "code": ["X"]},
    {"title": "x", "code": "X", "price": 1e308},
    {"title": "x", "code": "X", "price": -1e308},
    {"title": "x", "code": "X", "price": 10**18},
    {"title": "x", "code": "X", "price": "1e400"},
    {"title": "x", "code": "X", "price": "NaN"},
    {"title": "x", "code": "X", "price": "Infinity"},
    {"title": "x", "code": "X", "price": "0x10"},
    {"title": "x", "code": "X", "price": True},
    {"title": "x", "code": "X", "price": {"amount": 1}},
    {"title": "x", "code": "X", "discount_price": "-0.01"},
    {"title": "x", "code": "X", "completion_hours": 10**30},
    {"title": "x", "code": "X", "completion_hours": -1},
    {"title": "x", "code": "X", "completion_hours": 2**31},
    {"title": "x", "code": "X", "category_id": 10**30},
    {"title": "x", "code": "X", "category_id": "1; DROP TABLE courses"},
    {"title": "x", "code": "X", "category_id": 1.5},
    {"title": "x", "code": "X", "currency": "€€€"},
    {"title": "x", "code": "X", "currency": "USDX"},
    {"title": "x", "code": "X", "instructor_id": ""},
    {"title": "x", "code": "X", "instructor_id": "user 123"},
    {"title": "x", "code": "X", "instructor_id": "u" * 129},
    {"title": "x", "code": "X", "level": "beginner"},
    {"title": "x" * 201, "code": "X"},
    {"title": "x", "code": "X" * 51},
    {"title": "x", "code": "-leading-dash"},
    {"title": "x", "code": "PY 101"},
    {"title": "x", "code": "ПИ101"},
    {"title": "x", "code": "X", "short_description": "s" * 501},
    {"title": "\u0000", "code": "X"},
    {"title": "x", "code": "X", "description": "nul \u0000 inside"},
    {"title": "\u3000\u2003\n\t", "code": "X"},
    {"title": "😀" * 201, "code": "X"},
    {"title": "x", "code": "X\u0000"},
    [],
    [{"title": "x", "code": "X"}],
    "just a string",
    12345,
    True,
]


@pytest.mark.parametrize(
    "body", HOSTILE_BODIES, ids=[f"body{i}" for i in range(len(HOSTILE_BODIES))]
)
async def test_hostile_course_bodies_are_400_never_500(api, body):
    reply = await api.post(COURSES, body, as_="instructor")

    assert reply.status == 400, reply.body
    # 400, or the messages of a field named `status`.
    assert reply.body["status"] == 400 or isinstance(reply.body["status"], list)


HOSTILE_RAW = [
    b"{",
    b"[" * 10_000 + b"]" * 10_000,
    b'{"title": "\\ud800", "code": "X"}',
    b'{"title": "x", "code": "X", "price": 1e400}',
    b'{"title": "x", "code": "X", "price": NaN}',
    b'{"title": "x", "code": "X", "price": 100000000000000000000000000000000000000}',
    b'{"title": "x", "code": "X"} trailing',
    b"\xff\xfe{}",
    b"null",
]


@pytest.mark.parametrize("raw", HOSTILE_RAW, ids=[f"raw{i}" for i in range(len(HOSTILE_RAW))])
async def test_hostile_raw_bodies_are_400_never_500(api, raw):
    reply = await post_raw(api, COURSES, raw)

    assert reply.status == 400, reply.body
    assert reply.body["status"] == 400


HOSTILE_QUERIES = [
    "?page=99999999999999999999999",
    "?page_size=99999999999999999999999",
    f"?category_id={2**31}",
    f"?category_id={10**30}",
    "?category_id=-1",
    "?ordering=%00,-,--title,title;drop",
    "?search=" + "%25_" * 500,
    "?search=%F0%9F%98%80",
    "?level=Beginner&level=Expert",
    "?currency=usd",
    "?instructor_id=" + "x" * 1000,
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_list_queries_never_500(api, make, query):
    await make.course()

    reply = await api.get(COURSES + query, as_="student")

    assert reply.status in (200, 400, 404), reply.body
    assert isinstance(reply.body, dict)


@pytest.mark.parametrize(
    "path",
    [
        "/api/lms/courses/courses/{}/",
        "/api/lms/forum/forums/{}/",
        "/api/lms/messaging/messages/{}/",
    ],
)
async def test_an_id_of_thousands_of_digits_is_404_not_500(api, path):
    reply = await api.get(path.format("9" * 5000), as_="admin")

    assert reply.status == 404
    assert reply.body["status"] == 404
