"""The web client's pages and assets as served: public, self-contained, locked down."""

from __future__ import annotations

import re

import pytest

PAGES = [
    "/lms/",
    "/lms/signin/",
    "/lms/courses/1/",
    "/lms/courses/1/roster/",
    "/lms/courses/1/outline/",
    "/lms/courses/1/assignments/",
    "/lms/courses/1/gradebook/",
    "/lms/quizzes/1/",
    "/lms/quizzes/1/edit/",
    "/lms/assignments/1/",
    "/lms/assignments/1/grading/",
    "/lms/grades/",
    "/lms/certificates/",
    "/lms/cart/",
    "/lms/forums/",
    "/lms/forums/1/",
    "/lms/groups/",
    "/lms/groups/1/",
    "/lms/tutor/",
    "/lms/tutor/1/",
    "/lms/notifications/",
    "/lms/messages/",
    "/lms/schedule/",
]


@pytest.mark.parametrize("path", PAGES)
async def test_each_page_is_served_without_a_token_and_loads_nothing_from_elsewhere(api, path):
    reply = await api.get(path)

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    html = reply.body.decode()
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)
    assert "<script>" not in html  # module files only: the CSP allows no inline script


async def test_pages_forbid_inline_scripts_other_origins_and_referrers(api):
    reply = await api.get("/lms/")

    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert reply.headers["Referrer-Policy"] == "no-referrer"


async def test_the_page_script_and_stylesheet_are_served_from_the_service(api):
    html = (await api.get("/lms/forums/1/")).body.decode()
    assets = re.findall(r"""(?:src|href)="(/static/lms/[^"]+)\"""", html)

    replies = [await api.get(asset) for asset in assets]

    assert {a.rsplit(".", 1)[1] for a in assets} >= {"js", "css"}
    assert [r.status for r in replies] == [200] * len(assets)


@pytest.mark.parametrize(
    "path",
    ["/lms/courses/0/", "/lms/forums/2147483648/", "/lms/groups/99999999999/", "/lms/tutor/x/"],
)
async def test_an_id_that_names_nothing_is_a_404(api, path):
    reply = await api.get(path)

    assert reply.status == 404


async def test_a_missing_asset_is_a_404_and_the_folder_is_not_listed(api):
    assert (await api.get("/static/lms/nothing.js")).status == 404
    assert (await api.get("/static/lms/")).status in (403, 404)
