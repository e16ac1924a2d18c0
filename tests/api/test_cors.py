"""CORS: allowed origins may call the API from a browser; others get no CORS headers."""

import pytest

ALLOWED = "http://localhost:9090"
COURSES = "/api/lms/courses/courses/"
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


async def test_a_preflight_from_an_allowed_origin_is_answered(api):
    reply = await api.call(
        "OPTIONS",
        COURSES,
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in reply.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in reply.headers["Access-Control-Allow-Headers"]


async def test_a_preflight_from_another_origin_gets_no_cors_headers(api):
    reply = await api.call(
        "OPTIONS",
        COURSES,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in reply.headers


async def test_answers_to_an_allowed_origin_carry_its_name(api):
    reply = await api.get(COURSES, as_="student", headers={"Origin": ALLOWED})
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_error_answers_carry_cors_headers_so_browsers_can_read_them(api):
    reply = await api.get(COURSES, headers={"Origin": ALLOWED})
    assert reply.status == 401
    assert reply.headers["Access-Control-Allow-Origin"] == ALLOWED


async def test_answers_to_another_origin_carry_none(api):
    reply = await api.get(COURSES, as_="student", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in reply.headers
