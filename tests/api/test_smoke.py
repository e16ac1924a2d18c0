from tests.conftest import SEED_COURSE


async def test_seed_course_is_created_with_the_seed_fields(api):
    reply = await api.post("/api/lms/courses/courses/", SEED_COURSE, as_="instructor")
    assert reply.status == 201, reply.body
    assert reply.body["slug"] == "python-programming-fundamentals"
    assert reply.body["current_price"] == "99.99"
