"""A course's outline editor, at phone (375 px) and desktop width: the instructor adds modules
and lessons, moves them and finds the order kept after a reload, edits a lesson, uploads the
thumbnail and a lesson file, adds a resource; a student is told the outline is not theirs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.api.test_upload_api import png_bytes
from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_tour import AUDIT

PHONE_375 = {"width": 375, "height": 812}


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE_375 if width == "phone" else DESKTOP


def outline_path(course_id: int) -> str:
    return f"/lms/courses/{course_id}/outline/"


def modules(page: Any) -> Any:
    return page.locator(".outline-module h3")


def lessons(page: Any) -> Any:
    return page.locator(".outline-lesson .item-title")


async def settled(page: Any) -> None:
    """The last change went through and the outline was read again."""
    await expect(page.locator("body")).to_have_attribute("data-busy", "false")


async def add_lesson(page: Any, module: str, title: str, minutes: str = "10") -> None:
    form = page.get_by_role("form", name=f"Add a lesson to “{module}”")
    if not await form.is_visible():  # the form stays open after a lesson is added
        await page.get_by_text(f"Add a lesson to “{module}”").click()
    await form.get_by_label("Lesson title").fill(title)
    await form.get_by_label("Duration (minutes)").fill(minutes)
    await form.get_by_role("button", name="Add lesson").click()
    await settled(page)


async def test_an_instructor_builds_an_outline_and_its_order_survives_a_reload(
    signed_in, make, api, width
):
    course = await make.course(title="Web Basics")
    page = await signed_in("instructor", outline_path(course["id"]), viewport=viewport(width))
    await expect(page.locator("#page-title")).to_have_text("Outline: Web Basics")

    await page.get_by_label("Module title").fill("HTML")
    await page.get_by_role("button", name="Add module").click()
    await expect(modules(page)).to_have_text(["HTML"])
    await add_lesson(page, "HTML", "Tags")
    await add_lesson(page, "HTML", "Forms", minutes="25")
    await expect(lessons(page)).to_have_text([re.compile("^Tags"), re.compile("^Forms")])

    await page.get_by_role("button", name="Move “Forms” up").click()
    await expect(lessons(page)).to_have_text([re.compile("^Forms"), re.compile("^Tags")])
    await screenshot(page, f"outline-{width}")
    assert await page.evaluate(AUDIT) == []
    await page.reload()

    await expect(lessons(page)).to_have_text(
        [re.compile("^Forms \\(text, 25 min\\)"), re.compile("^Tags")]
    )
    listed = await api.get(f"/api/lms/courses/lessons/?course={course['id']}", as_="student")
    assert [lesson["title"] for lesson in listed.body["results"]] == ["Forms", "Tags"]
    assert page.script_errors == []


async def test_modules_move_down_and_the_first_cannot_move_up(signed_in, make, width):
    course = await make.course()
    for title in ("One", "Two", "Three"):
        await make.module(course["id"], title=title)
    page = await signed_in("instructor", outline_path(course["id"]), viewport=viewport(width))
    await expect(modules(page)).to_have_text(["One", "Two", "Three"])
    await expect(page.get_by_role("button", name="Move “One” up")).to_be_disabled()
    await expect(page.get_by_role("button", name="Move “Three” down")).to_be_disabled()

    await page.get_by_role("button", name="Move “One” down").click()
    await expect(modules(page)).to_have_text(["Two", "One", "Three"])
    await expect(page.get_by_role("button", name="Move “One” down")).to_be_focused()
    await page.reload()

    await expect(modules(page)).to_have_text(["Two", "One", "Three"])


async def test_an_edited_lesson_keeps_its_new_title_and_content(signed_in, make, api):
    course = await make.course()
    module = await make.module(course["id"], title="Basics")
    lesson = await make.lesson(module["id"], title="Variabels")
    page = await signed_in("instructor", outline_path(course["id"]))

    await page.get_by_text("Edit “Variabels”: details, file, resources").click()
    form = page.get_by_role("form", name="Edit lesson “Variabels”")
    await form.get_by_label("Lesson title").fill("Variables")
    await form.get_by_label("Type").select_option("video")
    await form.get_by_label("Content").fill("x = 1")
    await form.get_by_role("button", name="Save lesson").click()

    await expect(page.locator("#status")).to_have_text("Saved “Variables”.")
    await expect(lessons(page)).to_have_text([re.compile("^Variables \\(video")])
    saved = await api.get(f"/api/lms/courses/lessons/{lesson['id']}/", as_="instructor")
    assert (saved.body["title"], saved.body["content"]) == ("Variables", "x = 1")


async def test_the_thumbnail_is_uploaded_and_shown(signed_in, make, width):
    course = await make.course()
    page = await signed_in("instructor", outline_path(course["id"]), viewport=viewport(width))
    await expect(page.locator("#no-thumbnail")).to_be_visible()

    await page.get_by_label(re.compile("^Thumbnail image")).set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": png_bytes((64, 48))}]
    )
    await page.get_by_role("button", name="Upload thumbnail").click()

    image = page.get_by_role("img", name="The course's thumbnail")
    await expect(image).to_have_attribute("src", re.compile(r"^/media/.+"))
    # decode() settles once the browser has fetched and decoded the image, so this
    # does not race the load that setting src starts.
    assert await image.evaluate("(img) => img.decode().then(() => img.naturalWidth)") == 64
    await expect(page.locator("#status")).to_have_text("Thumbnail uploaded.")
    await screenshot(page, f"outline-thumbnail-{width}")


async def test_a_file_that_is_no_image_is_refused_with_the_apis_reason(signed_in, make):
    course = await make.course()
    page = await signed_in("instructor", outline_path(course["id"]))
    await expect(page.locator("#no-thumbnail")).to_be_visible()

    await page.get_by_label(re.compile("^Thumbnail image")).set_input_files(
        files=[{"name": "cover.png", "mimeType": "image/png", "buffer": b"not a picture"}]
    )
    await page.get_by_role("button", name="Upload thumbnail").click()

    await expect(page.locator("#page-error")).to_be_visible()
    await expect(page.locator("#no-thumbnail")).to_be_visible()


async def test_a_lesson_file_and_a_resource_are_added(signed_in, make, api, width):
    course = await make.course()
    module = await make.module(course["id"], title="Week 1")
    lesson = await make.lesson(module["id"], title="Reading")
    page = await signed_in("instructor", outline_path(course["id"]), viewport=viewport(width))

    await page.get_by_text("Edit “Reading”: details, file, resources").click()
    await expect(page.locator(".resource-box")).to_have_text("No resources yet.")
    await page.get_by_label("Lesson file (up to 100 MB)").set_input_files(
        files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 notes"}]
    )
    await page.get_by_role("button", name="Upload file").click()
    await expect(page.locator(".file-name")).to_have_text(" · file: notes.pdf")
    await page.get_by_label("Resource title").fill("MDN")
    await page.get_by_label("Resource address (https://…)").fill("https://developer.mozilla.org/")
    await page.get_by_role("button", name="Add resource").click()

    await expect(page.locator(".resource-box").get_by_role("link", name="MDN")).to_be_visible()
    assert await page.evaluate(AUDIT) == []
    await screenshot(page, f"outline-lesson-{width}")
    saved = await api.get(f"/api/lms/courses/lessons/{lesson['id']}/", as_="instructor")
    assert saved.body["file_name"] == "notes.pdf"
    listed = await api.get(f"/api/lms/courses/resources/?lesson={lesson['id']}", as_="instructor")
    assert [(r["title"], r["url"]) for r in listed.body["results"]] == [
        ("MDN", "https://developer.mozilla.org/")
    ]


async def test_deleting_a_module_asks_first_and_removes_it(signed_in, make):
    course = await make.course()
    await make.module(course["id"], title="Keep")
    await make.module(course["id"], title="Drop")
    page = await signed_in("instructor", outline_path(course["id"]))
    page.on("dialog", lambda dialog: dialog.accept())

    await page.get_by_text("Edit module “Drop”").click()
    await page.get_by_role("button", name="Delete module and its lessons").click()

    await expect(modules(page)).to_have_text(["Keep"])
    await expect(page.locator("#status")).to_have_text("Deleted “Drop”.")


async def test_a_student_is_told_the_outline_is_not_theirs(signed_in, make, width):
    course = await make.course()
    await make.module(course["id"], title="Hidden editor")
    page = await signed_in("student", outline_path(course["id"]), viewport=viewport(width))

    await expect(page.locator("#page-error")).to_have_text(
        "Only this course's instructor and admins can edit its outline."
    )
    await expect(page.locator("#editor")).to_be_hidden()
    assert page.script_errors == []


async def test_the_course_page_links_its_instructor_to_the_outline(signed_in, make):
    course = await make.course(title="Linked")
    page = await signed_in("instructor", f"/lms/courses/{course['id']}/")

    await page.get_by_role("link", name="Edit the outline").click()

    await expect(page).to_have_url(re.compile(rf"/lms/courses/{course['id']}/outline/$"))
    await expect(page.locator("#page-title")).to_have_text("Outline: Linked")


async def test_the_course_page_offers_no_outline_link_to_a_student(signed_in, make):
    course = await make.course(title="Not yours")
    page = await signed_in("student", f"/lms/courses/{course['id']}/")
    await expect(page.locator("#course-instructor")).to_contain_text("Taught by")

    await expect(page.get_by_role("link", name="Edit the outline")).to_have_count(0)
