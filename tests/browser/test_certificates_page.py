"""My certificates in the browser, at phone (375 px) and desktop width: a certificate earned
for real (a course whose rule asks a 50% total, an assignment graded 15/20 and returned) is
listed, downloaded as a PDF with the token, and its public verification page opens."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_assignment_pages import make_assignment, submit_text
from tests.browser.test_grade_pages import grade
from tests.browser.test_tour import AUDIT

PHONE_375 = {"width": 375, "height": 812}


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE_375 if width == "phone" else DESKTOP


@pytest.fixture
async def earned(api: Any, make: Any) -> dict[str, Any]:
    """student-1's certificate of "Writing", earned with 15/20 where 50% completes it."""
    assignment = await make_assignment(api, make)
    rule = {"completion": {"min_total_percent": 50}}
    reply = await api.put(
        f"/api/lms/courses/courses/{assignment['course']}/grading/", rule, as_="instructor"
    )
    assert reply.status == 200, reply.body
    await grade(api, await submit_text(api, assignment, "Mine."), 15, returned=True)
    await api.settled()
    listed = await api.get("/api/lms/courses/certificates/", as_="student")
    [certificate] = listed.body["results"]
    return dict(certificate)


async def test_my_certificate_is_listed_and_downloads_as_a_pdf(signed_in, earned, width):
    page = await signed_in("student", "/lms/", viewport=viewport(width))
    await page.get_by_role("link", name="Certificates").click()

    card = page.locator(f'[data-certificate="{earned["id"]}"]')
    await expect(card.get_by_role("heading")).to_have_text("Writing")
    await expect(card.locator(".meta")).to_contain_text(f"code {earned['code']}")
    await expect(page.locator("#certificates-count")).to_have_text("1 certificate")
    await screenshot(page, f"certificates-{width}")
    assert await page.evaluate(AUDIT) == []
    async with page.expect_download() as downloading:
        await card.get_by_role("button", name="Download the certificate of “Writing” (PDF)").click()
    download = await downloading.value

    assert download.suggested_filename == f"certificate-{earned['code']}.pdf"
    content = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert content.startswith(b"%PDF")
    assert page.script_errors == []


async def test_the_verification_link_is_the_certificates_public_page(signed_in, earned):
    page = await signed_in("student", "/lms/certificates/")
    link = page.get_by_role("link", name="Verification page of “Writing”")
    await expect(link).to_have_attribute("href", earned["verify_url"])

    # The address names the tenant's own domain; here the same path is opened on the test
    # server, without the token (the page is public).
    await page.evaluate("() => sessionStorage.clear()")
    await page.goto(urlsplit(earned["verify_url"]).path)

    await expect(page.locator("main")).to_contain_text("Writing")


async def test_without_certificates_the_page_says_so(signed_in, make):
    page = await signed_in("student2", "/lms/certificates/")

    await expect(page.locator("#certificates-count")).to_have_text("No certificates yet.")
    await expect(page.locator("#certificates li")).to_have_count(0)
