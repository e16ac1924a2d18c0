"""The tenant's directory of people: filled from tokens, read at users/me/ and users/<id>/."""

from __future__ import annotations

from typing import Any

from bench.statements import StatementCounter, kind
from tests.conftest import TENANT_B, Api, token_for
from web.keys import PEOPLE_SEEN

ME = "/api/lms/users/me/"
# The tenant registry's periodic reload may land in any request: not the route's.
REGISTRY = {"select tenants", "select tenant_domains"}
COURSES = "/api/lms/courses/courses/"


def route(statements: list[str]) -> list[str]:
    return [s for s in statements if kind(s) not in REGISTRY]


def user_path(user_id: str) -> str:
    return f"/api/lms/users/{user_id}/"


def ada(**claims: Any) -> str:
    claims = {"name": "Ada Lovelace", "email": "ada@example.com", **claims}
    return token_for("ada", "student", **claims)


async def test_me_answers_my_claims_and_roles(api: Api) -> None:
    reply = await api.get(ME, token=ada(picture="https://pics.example/ada.png"))

    assert reply.status == 200
    assert reply.body == {
        "user_id": "ada",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "picture": "https://pics.example/ada.png",
        "roles": ["student"],
    }


async def test_a_token_without_a_name_shows_the_id(api: Api) -> None:
    await api.get(ME, token=token_for("nameless"))

    reply = await api.get(user_path("nameless"), as_="student")

    assert reply.status == 200
    assert reply.body["name"] == "nameless"


async def test_any_request_puts_the_caller_in_the_directory(api: Api) -> None:
    await api.get(COURSES, token=ada())

    reply = await api.get(user_path("ada"), as_="student")

    assert reply.status == 200
    assert (reply.body["id"], reply.body["name"], reply.body["picture"]) == (
        "ada",
        "Ada Lovelace",
        None,
    )


async def test_a_writing_request_stores_the_caller_with_its_commit(api: Api) -> None:
    body = {"title": "Logic", "code": "LOG1", "level": "Beginner", "price": "0.00"}
    token = token_for("babbage", "instructor", name="Charles Babbage")
    assert (await api.post(COURSES, body, token=token)).status == 201

    reply = await api.get(user_path("babbage"), as_="student")

    assert reply.body["name"] == "Charles Babbage"


async def test_email_is_hidden_from_others(api: Api) -> None:
    await api.get(ME, token=ada())

    reply = await api.get(user_path("ada"), as_="student")

    assert reply.body["email"] is None


async def test_email_is_shown_to_the_user_themself(api: Api) -> None:
    token = ada()
    await api.get(ME, token=token)

    reply = await api.get(user_path("ada"), token=token)

    assert reply.body["email"] == "ada@example.com"


async def test_email_is_shown_to_admins(api: Api) -> None:
    await api.get(ME, token=ada())

    reply = await api.get(user_path("ada"), as_="admin")

    assert reply.body["email"] == "ada@example.com"


async def test_a_user_never_seen_is_a_404(api: Api) -> None:
    reply = await api.get(user_path("nobody"), as_="admin")

    assert reply.status == 404


async def test_another_tenants_user_is_a_404(api: Api) -> None:
    await api.get(ME, token=token_for("zed", tenant=TENANT_B, name="Zed"))

    reply = await api.get(user_path("zed"), as_="admin")

    assert reply.status == 404


async def test_changed_claims_replace_the_stored_ones(api: Api) -> None:
    await api.get(ME, token=ada())
    await api.get(ME, token=ada(name="Ada King"))

    reply = await api.get(user_path("ada"), as_="student")

    assert reply.body["name"] == "Ada King"


async def test_unchanged_claims_run_no_statement_for_the_directory(api: Api) -> None:
    await api.get(ME, token=ada())

    with StatementCounter() as counter:
        reply = await api.get(ME, token=ada())  # another token, the same claims

    assert reply.status == 200
    assert route(counter.statements) == []


async def test_changed_claims_run_one_upsert(api: Api) -> None:
    await api.get(ME, token=ada())

    with StatementCounter() as counter:
        await api.get(ME, token=ada(name="Ada King"))

    statements = route(counter.statements)
    assert len(statements) == 1
    assert statements[0].lstrip().upper().startswith("INSERT INTO")
    assert "ON CONFLICT" in statements[0].upper()


async def test_a_writing_request_with_unchanged_claims_writes_no_directory_row(
    api: Api,
) -> None:
    token = token_for("babbage", "instructor", name="Charles Babbage")
    body = {"title": "Logic", "code": "LOG1", "level": "Beginner", "price": "0.00"}
    await api.post(COURSES, body, token=token)

    with StatementCounter() as counter:
        reply = await api.post(COURSES, {**body, "code": "LOG2"}, token=token)

    assert reply.status == 201
    assert not [s for s in counter.statements if "users" in s and "INSERT" in s.upper()]


async def test_a_refused_write_leaves_the_directory_as_it_was(api: Api) -> None:
    token = token_for("babbage", "student", name="Charles Babbage")
    body = {"title": "Logic", "code": "LOG1", "level": "Beginner", "price": "0.00"}
    assert (await api.post(COURSES, body, token=token)).status == 403

    reply = await api.get(user_path("babbage"), as_="admin")

    assert reply.status == 404


async def test_the_directory_lists_everyone_seen_by_name_without_others_emails(api: Api) -> None:
    await api.get(ME, token=ada())
    await api.get(ME, token=token_for("zed", name="Zed", email="zed@example.com"))
    await api.get(ME, token=token_for("nameless"))

    reply = await api.get("/api/lms/users/?search=e", token=ada())

    assert [(u["id"], u["name"], u["email"]) for u in reply.body["results"]] == [
        ("ada", "Ada Lovelace", "ada@example.com"),
        ("nameless", "nameless", None),
        ("zed", "Zed", None),
    ]


async def test_a_picture_that_is_not_a_web_url_is_not_kept(api: Api) -> None:
    reply = await api.get(ME, token=ada(picture="javascript:alert(1)"))

    assert reply.body["picture"] is None


async def test_claims_another_process_stored_already_are_not_written_again(api: Api) -> None:
    await api.get(ME, token=ada())
    before = (await api.get(user_path("ada"), as_="admin")).body["updated_at"]
    api.client.app[PEOPLE_SEEN].forget()  # as a process that never saw Ada

    await api.get(ME, token=ada())

    assert (await api.get(user_path("ada"), as_="admin")).body["updated_at"] == before


async def test_the_directory_list_and_a_person_are_one_statement_each(api: Api) -> None:
    for n in range(5):
        await api.get(ME, token=token_for(f"user-{n}", name=f"User {n}"))
    await api.get("/api/lms/users/", as_="admin")

    with StatementCounter() as listing:
        await api.get("/api/lms/users/", as_="admin")
    with StatementCounter() as detail:
        await api.get(user_path("user-1"), as_="admin")

    assert (len(route(listing.statements)), len(route(detail.statements))) == (1, 1)
