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
