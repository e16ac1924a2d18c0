"""Paid material around a lesson: its resources and its file reach only those who may read
the lesson's content (active enrollees, the course's instructor, admins)."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import FormData
from sqlalchemy import update

from models.courses import file_links
from models.courses.tables import Lesson
from tests.conftest import Api, Factory
from tests.matchers import FORBIDDEN, NOT_FOUND
from web.config import Settings
from web.keys import DATABASES, SETTINGS

LESSONS = "/api/lms/courses/lessons/"
RESOURCES = "/api/lms/courses/resources/"
CONTENT = b"%PDF-1.4 chapter one, paid for\n" * 50
INVALID_LINK = {"detail": "This download link is not valid.", "status": 403}
EXPIRED_LINK = {"detail": "This download link has expired.", "status": 403}


@pytest.fixture
async def paid_course(make: Factory) -> dict[str, Any]:
    return await make.course(price="49.00")


@pytest.fixture
async def lesson(make: Factory, paid_course: dict[str, Any]) -> dict[str, Any]:
    module = await make.module(paid_course["id"])
    return await make.lesson(module["id"])


@pytest.fixture
async def resource(api: Api, lesson: dict[str, Any]) -> dict[str, Any]:
    body = {"lesson": lesson["id"], "title": "Answers", "url": "https://cdn.example/a?sig=paid"}
    reply = await api.post(RESOURCES, body, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def enroll(api: Api, course_id: int, user_id: str = "student-1") -> None:
    """A paid course: an admin enrolls the buyer."""
    url = f"/api/lms/courses/enrollments/course/{course_id}/"
    reply = await api.post(url, {"user_id": user_id}, as_="admin")
    assert reply.status in (200, 201), reply.body


async def upload(api: Api, lesson_id: int, filename: str = "Chapter 1.pdf") -> dict[str, Any]:
    form = FormData(quote_fields=False)  # the name as browsers send it, not %-encoded
    form.add_field("file", CONTENT, filename=filename, content_type="application/pdf")
    reply = await api.post(f"{LESSONS}{lesson_id}/upload-file/", data=form, as_="instructor")
    assert reply.status == 200, reply.body
    return dict(reply.body)


def stored_path(settings: Settings) -> str:
    [path] = [p for p in settings.media_root.rglob("*") if p.is_file()]
    return path.relative_to(settings.media_root).as_posix()


def file_url(lesson_id: int) -> str:
    return f"{LESSONS}{lesson_id}/file/"


async def file_link(api: Api, lesson_id: int, as_: str = "student") -> str:
    reply = await api.get(f"{LESSONS}{lesson_id}/file-link/", as_=as_)
    assert reply.status == 200, reply.body
    return str(reply.body["url"])


def with_query(link: str, **changes: str) -> str:
    parts = urlsplit(link)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()} | changes
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())


# --- resources ---------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["student", "instructor2"])
async def test_resources_of_a_paid_lesson_are_not_listed_to_those_not_enrolled(
    api: Api, resource: dict, who: str
) -> None:
    everything = await api.get(RESOURCES, as_=who)
    of_the_lesson = await api.get(f"{RESOURCES}?lesson={resource['lesson']}", as_=who)

    assert (everything.status, everything.body["count"]) == (200, 0)
    assert (of_the_lesson.status, of_the_lesson.body["count"]) == (200, 0)


@pytest.mark.parametrize("who", ["student", "instructor2", "b_student"])
async def test_resource_of_a_paid_lesson_is_404_to_those_not_enrolled(
    api: Api, resource: dict, who: str
) -> None:
    reply = await api.get(f"{RESOURCES}{resource['id']}/", as_=who)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_resource_is_404_without_a_token(api: Api, resource: dict) -> None:
    reply = await api.get(f"{RESOURCES}{resource['id']}/")

    assert reply.status == 401


async def test_enrolled_student_lists_and_reads_the_resources(
    api: Api, resource: dict, lesson: dict
) -> None:
    await enroll(api, lesson["course"])

    listed = await api.get(f"{RESOURCES}?lesson={lesson['id']}", as_="student")
    shown = await api.get(f"{RESOURCES}{resource['id']}/", as_="student")

    assert listed.body["results"] == [resource]
    assert (shown.status, shown.body) == (200, resource)


@pytest.mark.parametrize("who", ["instructor", "admin"])
async def test_instructor_and_admin_read_the_resources(api: Api, resource: dict, who: str) -> None:
    listed = await api.get(RESOURCES, as_=who)
    shown = await api.get(f"{RESOURCES}{resource['id']}/", as_=who)

    assert listed.body["results"] == [resource]
    assert shown.status == 200


async def test_a_student_who_left_the_course_no_longer_sees_its_resources(
    api: Api, make: Factory, resource: dict, lesson: dict
) -> None:
    await enroll(api, lesson["course"])
    [enrollment] = (await api.get("/api/lms/courses/enrollments/", as_="student")).body["results"]
    await api.delete(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="student")

    listed = await api.get(RESOURCES, as_="student")
    shown = await api.get(f"{RESOURCES}{resource['id']}/", as_="student")

    assert listed.body["count"] == 0
    assert shown.status == 404


async def test_enrolled_student_cannot_change_a_resource(
    api: Api, resource: dict, lesson: dict
) -> None:
    await enroll(api, lesson["course"])

    patched = await api.patch(f"{RESOURCES}{resource['id']}/", {"title": "Mine"}, as_="student")
    deleted = await api.delete(f"{RESOURCES}{resource['id']}/", as_="student")

    assert (patched.status, patched.body) == (403, FORBIDDEN)
    assert (deleted.status, deleted.body) == (403, FORBIDDEN)


async def test_student_not_enrolled_cannot_learn_a_resource_exists_by_changing_it(
    api: Api, resource: dict
) -> None:
    reply = await api.patch(f"{RESOURCES}{resource['id']}/", {"title": "Mine"}, as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# --- lesson files: never public ----------------------------------------------------------


@pytest.mark.parametrize("who", [None, "student", "instructor", "admin"])
async def test_lesson_file_is_not_served_under_media(
    api: Api, settings: Settings, lesson: dict, who: str | None
) -> None:
    await upload(api, lesson["id"])

    reply = await api.get("/media/" + stored_path(settings), as_=who)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_files_already_stored_under_media_are_not_served_either(
    api: Api, settings: Settings
) -> None:
    # As uploads before this change were stored, and linked to, under /media/.
    legacy = settings.media_root / "acme/lessons/7/files" / ("ab" * 16 + ".pdf")
    legacy.parent.mkdir(parents=True)
    legacy.write_bytes(CONTENT)

    reply = await api.get("/media/acme/lessons/7/files/" + legacy.name)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_thumbnails_stay_public(api: Api, settings: Settings) -> None:
    thumbnail = settings.media_root / "acme/courses/3/thumbnails" / ("cd" * 16 + ".png")
    thumbnail.parent.mkdir(parents=True)
    thumbnail.write_bytes(b"\x89PNG not really")

    reply = await api.get("/media/acme/courses/3/thumbnails/" + thumbnail.name)

    assert (reply.status, reply.body) == (200, b"\x89PNG not really")


@pytest.mark.parametrize("who", ["student", "instructor2", "b_student"])
async def test_lesson_file_download_is_404_to_those_not_enrolled(
    api: Api, lesson: dict, who: str
) -> None:
    await upload(api, lesson["id"])

    download = await api.get(file_url(lesson["id"]), as_=who)
    link = await api.get(f"{LESSONS}{lesson['id']}/file-link/", as_=who)

    assert (download.status, download.body) == (404, NOT_FOUND)
    assert (link.status, link.body) == (404, NOT_FOUND)


async def test_lesson_file_download_needs_a_token(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])

    reply = await api.get(file_url(lesson["id"]))

    assert reply.status == 401


async def test_lesson_without_a_file_has_nothing_to_download(api: Api, lesson: dict) -> None:
    reply = await api.get(file_url(lesson["id"]), as_="instructor")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_lesson_shows_no_file_to_a_student_not_enrolled(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert (reply.body["file"], reply.body["file_name"]) == (None, None)


# --- lesson files: downloads for those who may read them --------------------------------


async def test_lesson_names_its_download_url_and_file_name(api: Api, lesson: dict) -> None:
    uploaded = await upload(api, lesson["id"])
    await enroll(api, lesson["course"])

    reply = await api.get(f"{LESSONS}{lesson['id']}/", as_="student")

    assert uploaded["file"] == reply.body["file"] == file_url(lesson["id"])
    assert uploaded["file_name"] == reply.body["file_name"] == "Chapter 1.pdf"


async def test_enrolled_student_downloads_the_file_under_its_original_name(
    api: Api, lesson: dict
) -> None:
    await upload(api, lesson["id"])
    await enroll(api, lesson["course"])

    reply = await api.get(file_url(lesson["id"]), as_="student")

    assert (reply.status, reply.body) == (200, CONTENT)
    assert reply.headers["Content-Disposition"] == (
        "attachment; filename=\"Chapter 1.pdf\"; filename*=UTF-8''Chapter%201.pdf"
    )
    assert reply.headers["Content-Type"] == "application/pdf"
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in reply.headers["Cache-Control"]


@pytest.mark.parametrize("who", ["instructor", "admin"])
async def test_instructor_and_admin_download_the_file(api: Api, lesson: dict, who: str) -> None:
    await upload(api, lesson["id"])

    reply = await api.get(file_url(lesson["id"]), as_=who)

    assert (reply.status, reply.body) == (200, CONTENT)


async def test_a_non_ascii_file_name_is_percent_encoded(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"], filename="Résumé «v2» 100%.pdf")

    reply = await api.get(file_url(lesson["id"]), as_="instructor")

    assert reply.headers["Content-Disposition"] == (
        'attachment; filename="R_sum_ _v2_ 100_.pdf"; '
        "filename*=UTF-8''R%C3%A9sum%C3%A9%20%C2%ABv2%C2%BB%20100%25.pdf"
    )


async def test_a_hostile_file_name_cannot_break_out_of_the_header(api: Api, lesson: dict) -> None:
    # A browser sends a `"` in a file name as %22.
    hostile = "a%22; filename=evil.html\u202egpj.exe"
    uploaded = await upload(api, lesson["id"], filename=hostile)

    reply = await api.get(file_url(lesson["id"]), as_="instructor")

    # The right-to-left override is dropped when stored; quotes are %-encoded.
    assert uploaded["file_name"] == 'a"; filename=evil.htmlgpj.exe'
    disposition = reply.headers["Content-Disposition"]
    assert disposition == (
        'attachment; filename="a_; filename=evil.htmlgpj.exe"; '
        "filename*=UTF-8''a%22%3B%20filename%3Devil.htmlgpj.exe"
    )


async def test_a_file_uploaded_without_a_name_is_named_after_the_lesson(
    api: Api, app: Any, lesson: dict
) -> None:
    # Files uploaded before names were kept have none.
    await upload(api, lesson["id"])
    async with app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(update(Lesson).values(file_name=None))

    reply = await api.get(file_url(lesson["id"]), as_="instructor")
    shown = await api.get(f"{LESSONS}{lesson['id']}/", as_="instructor")

    expected = f"lesson-{lesson['id']}.pdf"
    assert f"filename*=UTF-8''{expected}" in reply.headers["Content-Disposition"]
    assert shown.body["file_name"] == expected


# --- signed links ------------------------------------------------------------------------


async def test_signed_link_downloads_without_a_token(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])
    await enroll(api, lesson["course"])
    link = await file_link(api, lesson["id"])

    reply = await api.get(link)

    assert re.fullmatch(
        rf"/api/lms/files/acme/lessons/{lesson['id']}/[0-9a-f]{{32}}\.pdf\?exp=\d+&sig=[\w-]{{43}}",
        link,
    )
    assert (reply.status, reply.body) == (200, CONTENT)
    assert "filename*=UTF-8''Chapter%201.pdf" in reply.headers["Content-Disposition"]


async def test_signed_link_says_when_it_expires(api: Api, app: Any, lesson: dict) -> None:
    await upload(api, lesson["id"])
    before = int(time.time())

    reply = await api.get(f"{LESSONS}{lesson['id']}/file-link/", as_="instructor")

    expires = int(parse_qs(urlsplit(reply.body["url"]).query)["exp"][0])
    lifetime = app[SETTINGS].lesson_file_link_seconds
    assert before + lifetime <= expires <= int(time.time()) + lifetime
    assert reply.body["expires_at"].endswith("Z")


async def test_expired_signed_link_is_refused(
    api: Api, app: Any, settings: Settings, lesson: dict
) -> None:
    await upload(api, lesson["id"])
    issued_long_ago = file_links.sign_file_link(
        app[SETTINGS],
        tenant="acme",
        lesson_id=lesson["id"],
        stored_path=stored_path(settings),
        now=time.time() - 2 * app[SETTINGS].lesson_file_link_seconds,
    )
    link = (
        f"/api/lms/files/acme/lessons/{lesson['id']}/{issued_long_ago.file_key}"
        f"?exp={issued_long_ago.expires}&sig={issued_long_ago.signature}"
    )

    reply = await api.get(link)

    assert (reply.status, reply.body) == (403, EXPIRED_LINK)


def tampered(link: str, what: str) -> str:
    path, _, query = link.partition("?")
    params = {key: values[0] for key, values in parse_qs(query).items()}
    if what == "signature":
        flipped = "A" if params["sig"][0] != "A" else "B"
        return with_query(link, sig=flipped + params["sig"][1:])
    if what == "expiry":
        return with_query(link, exp=str(int(params["exp"]) + 3600))
    if what == "lesson":
        path = re.sub(r"/lessons/(\d+)/", lambda m: f"/lessons/{int(m[1]) + 1}/", path)
        return path + "?" + query
    if what == "file":
        return re.sub(r"/[0-9a-f]{32}", "/" + "0" * 32, path) + "?" + query
    if what == "tenant":
        return path.replace("/acme/", "/globex/") + "?" + query
    if what == "no signature":
        return path + "?exp=" + params["exp"]
    raise AssertionError(what)


@pytest.mark.parametrize(
    "what", ["signature", "expiry", "lesson", "file", "tenant", "no signature"]
)
async def test_tampered_signed_link_is_refused(api: Api, lesson: dict, what: str) -> None:
    await upload(api, lesson["id"])
    link = await file_link(api, lesson["id"], as_="instructor")

    reply = await api.get(tampered(link, what))

    assert (reply.status, reply.body) == (403, INVALID_LINK)


async def test_signed_link_on_another_tenants_domain_is_refused(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])
    link = await file_link(api, lesson["id"], as_="instructor")

    reply = await api.get(link, headers={"Host": "globex.test"})

    assert (reply.status, reply.body) == (403, INVALID_LINK)


async def test_signed_link_ends_when_the_file_is_replaced(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])
    link = await file_link(api, lesson["id"], as_="instructor")
    await upload(api, lesson["id"], filename="Chapter 1, second edition.pdf")

    reply = await api.get(link)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_signed_link_ends_when_the_lesson_is_deleted(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])
    link = await file_link(api, lesson["id"], as_="instructor")
    await api.delete(f"{LESSONS}{lesson['id']}/", as_="instructor")

    reply = await api.get(link)

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_signature_never_reaches_the_audit_log(api: Api, lesson: dict) -> None:
    await upload(api, lesson["id"])
    link = await file_link(api, lesson["id"], as_="instructor")
    await api.get(link)
    await api.settled()

    trail = await api.get("/api/lms/auditlog/logs/?page_size=100", as_="admin")

    signature = parse_qs(urlsplit(link).query)["sig"][0]
    assert signature not in str(trail.body)


def test_link_key_is_bound_to_the_secret(settings: Settings) -> None:
    one = settings.model_copy(update={"secret_key": "one"})
    two = settings.model_copy(update={"secret_key": "two"})
    kwargs: dict[str, Any] = {"tenant": "acme", "lesson_id": 1, "stored_path": "a/b.pdf", "now": 0}

    assert (
        file_links.sign_file_link(one, **kwargs).signature
        != file_links.sign_file_link(two, **kwargs).signature
    )
