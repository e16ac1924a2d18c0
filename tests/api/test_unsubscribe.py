"""An email's unsubscribe link: no token, its signed token names tenant, user and type."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from models.notifications.email import INVALID_TOKEN, unsubscribe_token
from tests.conftest import DOMAINS, TENANT_A, TENANT_B

UNSUBSCRIBE = "/api/lms/notifications/unsubscribe/"
PREFERENCES = "/api/lms/notifications/preferences/"
REFUSED = {"token": [INVALID_TOKEN], "status": 400}


def signed(settings: Any, *, tenant: str = TENANT_A, user: str = "student-1", type_: str) -> str:
    token = unsubscribe_token(settings, tenant=tenant, user_id=user, type_=type_)
    return f"{UNSUBSCRIBE}?{urlencode({'token': token})}"


def on(tenant: str) -> dict[str, str]:
    return {"Host": DOMAINS[tenant]}


async def choose_email(api: Any, as_: str, *types: str) -> None:
    reply = await api.patch(PREFERENCES, {t: "email" for t in types}, as_=as_)
    assert reply.status == 200, reply.body


async def channels(api: Any, as_: str) -> dict[str, str]:
    reply = await api.get(PREFERENCES, as_=as_)
    assert reply.status == 200
    return dict(reply.body)


async def test_the_link_stops_email_of_its_type_only(api, settings):
    await choose_email(api, "student", "announcement", "mention")

    reply = await api.get(signed(settings, type_="announcement"), headers=on(TENANT_A))

    assert reply.status == 200
    assert reply.body == {"type": "announcement", "unsubscribed": True}
    chosen = await channels(api, "student")
    assert (chosen["announcement"], chosen["mention"]) == ("in_app", "email")


async def test_the_link_works_from_a_host_that_names_no_tenant(api, settings):
    await choose_email(api, "student", "announcement")

    reply = await api.get(signed(settings, type_="announcement"))

    assert reply.status == 200
    assert (await channels(api, "student"))["announcement"] == "in_app"


async def test_a_one_click_post_stops_email_of_its_type(api, settings):
    await choose_email(api, "student", "reply")

    reply = await api.call(
        "POST",
        signed(settings, type_="reply"),
        data="List-Unsubscribe=One-Click",
        headers={**on(TENANT_A), "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert reply.status == 200
    assert (await channels(api, "student"))["reply"] == "in_app"


async def test_the_all_link_stops_email_of_every_type_and_leaves_off_alone(api, settings):
    await choose_email(api, "student", "announcement", "mention")
    await api.patch(PREFERENCES, {"reply": "off"}, as_="student")

    reply = await api.get(signed(settings, type_="all"), headers=on(TENANT_A))

    assert reply.status == 200
    chosen = await channels(api, "student")
    assert "email" not in chosen.values()
    assert chosen["reply"] == "off"


async def test_a_second_click_changes_nothing_and_answers_the_same(api, settings):
    await choose_email(api, "student", "announcement")
    url = signed(settings, type_="announcement")
    await api.get(url, headers=on(TENANT_A))

    reply = await api.get(url, headers=on(TENANT_A))

    assert reply.status == 200
    assert (await channels(api, "student"))["announcement"] == "in_app"


async def test_a_forged_signature_is_a_400_and_changes_nothing(api, settings):
    await choose_email(api, "student", "announcement")
    url = signed(settings, type_="announcement")
    forged = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")

    reply = await api.get(forged, headers=on(TENANT_A))

    assert (reply.status, reply.body) == (400, REFUSED)
    assert (await channels(api, "student"))["announcement"] == "email"


async def test_a_token_signed_under_another_key_is_a_400(api, settings):
    await choose_email(api, "student", "announcement")
    other = settings.model_copy(update={"secret_key": "another-deployment-s-secret"})

    reply = await api.get(signed(other, type_="announcement"), headers=on(TENANT_A))

    assert (reply.status, reply.body) == (400, REFUSED)
    assert (await channels(api, "student"))["announcement"] == "email"


async def test_a_malformed_token_is_a_400(api):
    for token in ("", "abc", "a.b.c.d", "!!.!!.!!.!!"):
        reply = await api.get(f"{UNSUBSCRIBE}?{urlencode({'token': token})}")
        assert reply.status == 400, token


async def test_a_missing_token_is_a_400_on_token(api):
    reply = await api.get(UNSUBSCRIBE)

    assert (reply.status, reply.body) == (
        400,
        {"token": ["This field is required."], "status": 400},
    )


async def test_another_tenants_link_on_this_tenants_domain_is_a_400_and_changes_nothing(
    api, settings
):
    await choose_email(api, "student", "announcement")  # student-1 in acme
    await choose_email(api, "b_student", "announcement")  # student-1 in globex

    reply = await api.get(
        signed(settings, tenant=TENANT_B, type_="announcement"), headers=on(TENANT_A)
    )

    assert (reply.status, reply.body) == (400, REFUSED)
    assert (await channels(api, "student"))["announcement"] == "email"
    assert (await channels(api, "b_student"))["announcement"] == "email"


async def test_a_tenants_link_changes_that_tenant_only(api, settings):
    await choose_email(api, "student", "announcement")  # student-1 in acme
    await choose_email(api, "b_student", "announcement")  # student-1 in globex

    reply = await api.get(
        signed(settings, tenant=TENANT_B, type_="announcement"), headers=on(TENANT_B)
    )

    assert reply.status == 200
    assert (await channels(api, "b_student"))["announcement"] == "in_app"
    assert (await channels(api, "student"))["announcement"] == "email"


async def test_a_link_for_a_tenant_that_does_not_exist_is_a_400(api, settings):
    reply = await api.get(signed(settings, tenant="nowhere", type_="announcement"))

    assert (reply.status, reply.body) == (400, REFUSED)
