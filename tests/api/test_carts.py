"""The cart ("Add to Cart"): one line per course, quantity 1, one currency,
nothing already owned, each user only their own."""

from __future__ import annotations

from typing import Any

import pytest

from models.logs.tables import ActivityLog
from tests.fakes.commerce import (
    CART,
    CART_ITEMS,
    COURSES,
    ENROLLMENTS,
    add_to_cart,
    commerce_settings,
    settle,
    table_rows,
)
from tests.matchers import ID, NOT_FOUND

ALREADY_ENROLLED = {"detail": "You are already enrolled in this course.", "status": 409}


@pytest.fixture
def settings(settings):
    return commerce_settings(settings)


@pytest.fixture
async def course(make) -> dict[str, Any]:
    return await make.course(title="Python Programming Fundamentals", price="99.99")


def line(course: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "id": ID,
        "course": course["id"],
        "title": course["title"],
        "price": course["current_price"],
        "currency": course["currency"],
        "quantity": 1,
        **fields,
    }


def item_url(item_id: int) -> str:
    return f"{CART_ITEMS}{item_id}/"


# Adding


async def test_adding_a_course_answers_201_with_the_line(api, course):
    reply = await api.post(CART_ITEMS, {"course": course["id"], "quantity": 1}, as_="student")

    assert (reply.status, reply.body) == (201, line(course))


async def test_quantity_defaults_to_1(api, course):
    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert (reply.status, reply.body["quantity"]) == (201, 1)


async def test_adding_the_same_course_twice_returns_the_existing_line_with_200(api, course):
    first = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    second = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert (second.status, second.body) == (200, first.body)
    assert (await api.get(CART_ITEMS, as_="student")).body["count"] == 1


@pytest.mark.parametrize("quantity", [2, 0, -1, 100])
async def test_a_quantity_other_than_1_is_400_with_a_clear_message(api, course, quantity):
    reply = await api.post(
        CART_ITEMS, {"course": course["id"], "quantity": quantity}, as_="student"
    )

    assert (reply.status, reply.body) == (
        400,
        {"quantity": ["A course is bought once: quantity must be 1."], "status": 400},
    )


@pytest.mark.parametrize("quantity", ["two", True, 1.5])
async def test_a_quantity_that_is_not_an_integer_is_400(api, course, quantity):
    reply = await api.post(
        CART_ITEMS, {"course": course["id"], "quantity": quantity}, as_="student"
    )

    assert (reply.status, reply.body) == (
        400,
        {"quantity": ["A valid integer is required."], "status": 400},
    )


async def test_a_missing_course_is_400(api):
    reply = await api.post(CART_ITEMS, {"quantity": 1}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"course": ["This field is required."], "status": 400},
    )


async def test_an_unknown_course_is_400(api):
    reply = await api.post(CART_ITEMS, {"course": 999}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"course": ['Invalid pk "999" - object does not exist.'], "status": 400},
    )


async def test_a_draft_course_the_student_cannot_see_is_400_as_if_unknown(api, make):
    draft = await make.course(price="10.00", status="Draft")

    reply = await api.post(CART_ITEMS, {"course": draft["id"]}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"course": [f'Invalid pk "{draft["id"]}" - object does not exist.'], "status": 400},
    )


async def test_a_free_course_is_400_enroll_directly(api, make):
    free = await make.course(price="0.00")

    reply = await api.post(CART_ITEMS, {"course": free["id"]}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"course": ["Free courses need no purchase; enroll directly."], "status": 400},
    )


async def test_a_course_already_owned_is_409(api, course):
    await api.post(f"{ENROLLMENTS}course/{course['id']}/", {"user_id": "student-1"}, as_="admin")

    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert (reply.status, reply.body) == (409, ALREADY_ENROLLED)


async def test_a_course_left_before_is_not_owned_and_may_be_added(api, course):
    enrolled = await api.post(
        f"{ENROLLMENTS}course/{course['id']}/", {"user_id": "student-1"}, as_="admin"
    )
    await api.delete(f"{ENROLLMENTS}{enrolled.body['id']}/", as_="student")

    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert reply.status == 201


async def test_a_course_in_another_currency_than_the_cart_is_400_on_course(api, make, course):
    await add_to_cart(api, course["id"])
    euro = await make.course(price="50.00", currency="EUR")

    reply = await api.post(CART_ITEMS, {"course": euro["id"]}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {
            "course": [
                "This course is priced in EUR but your cart holds courses in USD: one currency "
                "per order. Check out or empty the cart first."
            ],
            "status": 400,
        },
    )


async def test_adding_records_a_cart_item_added_activity(api, course):
    await add_to_cart(api, course["id"])
    await settle(api)

    rows = await table_rows(api, ActivityLog, activity_type="cart_item_added")

    assert [(r.user_id, r.object_type, r.object_id) for r in rows] == [
        ("student-1", "course", course["id"])
    ]


# The cart


async def test_the_cart_shows_lines_total_and_currency(api, make, course):
    other = await make.course(title="Data Science", price="100.00", discount_price="50.01")
    await add_to_cart(api, course["id"])
    await add_to_cart(api, other["id"])

    reply = await api.get(CART, as_="student")

    assert (reply.status, reply.body) == (
        200,
        {
            "id": ID,
            "items": [line(course), line(other, price="50.01")],
            "total": "150.00",
            "currency": "USD",
            "item_count": 2,
        },
    )


async def test_an_empty_cart_has_a_zero_total_and_no_currency(api):
    reply = await api.get(CART, as_="student")

    assert (reply.status, reply.body) == (
        200,
        {"id": ID, "items": [], "total": "0.00", "currency": None, "item_count": 0},
    )


async def test_the_cart_keeps_its_id(api, course):
    before = await api.get(CART, as_="student")
    await add_to_cart(api, course["id"])

    after = await api.get(CART, as_="student")

    assert after.body["id"] == before.body["id"]


async def test_a_cart_whose_lines_disagree_on_currency_has_no_total(api, make, course):
    other = await make.course(price="10.00")
    await add_to_cart(api, course["id"])
    await add_to_cart(api, other["id"])
    await api.patch(f"{COURSES}{other['id']}/", {"currency": "EUR"}, as_="instructor")

    reply = await api.get(CART, as_="student")

    assert (reply.body["total"], reply.body["currency"], reply.body["item_count"]) == (
        None,
        None,
        2,
    )


async def test_the_cart_shows_todays_price(api, course):
    await add_to_cart(api, course["id"])
    await api.patch(f"{COURSES}{course['id']}/", {"price": "120.00"}, as_="instructor")

    reply = await api.get(CART, as_="student")

    assert (reply.body["items"][0]["price"], reply.body["total"]) == ("120.00", "120.00")


async def test_emptying_the_cart_removes_every_line(api, make, course):
    await add_to_cart(api, course["id"])
    await add_to_cart(api, (await make.course(price="5.00"))["id"])

    reply = await api.delete(CART, as_="student")

    assert reply.status == 204
    assert (await api.get(CART, as_="student")).body["item_count"] == 0


async def test_a_deleted_course_leaves_the_cart(api, course):
    await add_to_cart(api, course["id"])
    await api.delete(f"{COURSES}{course['id']}/", as_="instructor")

    reply = await api.get(CART, as_="student")

    assert reply.body["items"] == []


# Lines


async def test_listing_cart_items_shows_only_mine(api, make, course):
    mine = await add_to_cart(api, course["id"])
    await add_to_cart(api, course["id"], as_="student2")

    reply = await api.get(CART_ITEMS, as_="student")

    assert (reply.status, reply.body) == (
        200,
        {"count": 1, "next": None, "previous": None, "results": [mine]},
    )


async def test_retrieving_my_line(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.get(item_url(mine["id"]), as_="student")

    assert (reply.status, reply.body) == (200, mine)


@pytest.mark.parametrize("who", ["student2", "admin"])
async def test_another_users_line_is_404_even_for_admins(api, course, who):
    mine = await add_to_cart(api, course["id"])

    reply = await api.get(item_url(mine["id"]), as_=who)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_removing_my_line_answers_204_and_empties_it(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.delete(item_url(mine["id"]), as_="student")

    assert reply.status == 204
    assert (await api.get(item_url(mine["id"]), as_="student")).status == 404


async def test_removing_another_users_line_is_404_and_keeps_it(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.delete(item_url(mine["id"]), as_="student2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert (await api.get(item_url(mine["id"]), as_="student")).status == 200


async def test_patching_quantity_to_1_keeps_the_line(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.patch(item_url(mine["id"]), {"quantity": 1}, as_="student")

    assert (reply.status, reply.body) == (200, mine)


async def test_patching_quantity_to_2_is_400(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.patch(item_url(mine["id"]), {"quantity": 2}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"quantity": ["A course is bought once: quantity must be 1."], "status": 400},
    )


async def test_the_cart_needs_a_token(api):
    reply = await api.get(CART)

    assert reply.status == 401


# Tenancy


async def test_the_same_user_id_in_another_tenant_has_another_cart(api, course):
    await add_to_cart(api, course["id"])

    cart = await api.get(CART, as_="b_student")
    items = await api.get(CART_ITEMS, as_="b_student")

    assert (cart.body["items"], items.body["count"]) == ([], 0)


async def test_another_tenants_course_cannot_be_added(api, course):
    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="b_student")

    assert reply.status == 400


async def test_another_tenant_cannot_reach_a_line(api, course):
    mine = await add_to_cart(api, course["id"])

    reply = await api.get(item_url(mine["id"]), as_="b_student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)
