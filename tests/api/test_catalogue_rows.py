"""The course list renders its rows directly (no ORM objects, no pydantic per row): they must
stay exactly what CourseSummary's fields of the detail say."""

from __future__ import annotations

from models.courses.schemas import CourseSummary

COURSES = "/api/lms/courses/courses/"


async def test_a_catalogue_row_is_the_summary_fields_of_the_detail(api, make):
    course = await make.course(price="49.90", discount_price="19.99", currency="EUR")

    listed = await api.get(COURSES, as_="student")
    detail = await api.get(f"{COURSES}{course['id']}/", as_="student")

    [row] = listed.body["results"]
    assert row == {name: detail.body[name] for name in CourseSummary.model_fields}
    assert row["current_price"] == "19.99"
    assert row["created_at"].endswith("Z")


async def test_a_catalogue_row_without_discount_costs_its_price(api, make):
    await make.course(price="10.00")

    [row] = (await api.get(COURSES, as_="student")).body["results"]

    assert row["current_price"] == "10.00"
    assert row["thumbnail"] is None


async def test_one_cached_list_shape_serves_each_user_their_own_rows(api, make):
    mine = await make.course(status="Draft", as_="instructor")
    theirs = await make.course(status="Draft", as_="instructor2")

    as_first = await api.get(COURSES, as_="instructor")
    as_second = await api.get(COURSES, as_="instructor2")
    as_student = await api.get(COURSES, as_="student")

    assert [r["id"] for r in as_first.body["results"]] == [mine["id"]]
    assert [r["id"] for r in as_second.body["results"]] == [theirs["id"]]
    assert as_student.body == {"count": 0, "next": None, "previous": None, "results": []}


async def test_filters_and_ordering_of_the_cached_shapes(api, make):
    await make.course(title="B", level="Beginner")
    await make.course(title="A", level="Beginner")
    await make.course(title="C", level="Advanced")

    beginners = await api.get(f"{COURSES}?level=Beginner&ordering=title", as_="student")
    advanced = await api.get(f"{COURSES}?level=Advanced&ordering=title", as_="student")
    by_title_desc = await api.get(f"{COURSES}?ordering=-title&page_size=2", as_="student")

    assert [r["title"] for r in beginners.body["results"]] == ["A", "B"]
    assert [r["title"] for r in advanced.body["results"]] == ["C"]
    assert [r["title"] for r in by_title_desc.body["results"]] == ["C", "B"]
    assert by_title_desc.body["count"] == 3
    assert by_title_desc.body["next"] is not None
