"""Uploads through the API: thumbnails and lesson files, stored per tenant."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from tests.conftest import Api, Factory
from web.app import create_app
from web.config import Settings

FORBIDDEN = {"detail": "You do not have permission to perform this action.", "status": 403}
BAD_IMAGE = {"detail": "Upload a valid image: JPEG, PNG or WebP.", "status": 415}

BuildApi = Callable[..., Awaitable[Api]]


def png_bytes(size: tuple[int, int] = (16, 16), *, noisy: bool = False) -> bytes:
    image = Image.new("RGB", size, (30, 120, 200))
    if noisy:  # random pixels do not compress: the file is about width * height * 3 bytes
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def form(
    content: bytes,
    *,
    field: str = "file",
    filename: str = "upload.png",
    content_type: str = "image/png",
) -> aiohttp.FormData:
    data = aiohttp.FormData()
    data.add_field(field, content, filename=filename, content_type=content_type)
    return data


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def thumbnail_url(course_id: int) -> str:
    return f"/api/lms/courses/courses/{course_id}/upload-thumbnail/"


def lesson_upload_url(lesson_id: int) -> str:
    return f"/api/lms/courses/lessons/{lesson_id}/upload-file/"


def on_disk(settings: Settings, url: str) -> Path:
    assert url.startswith("/media/")
    return settings.media_root / url.removeprefix("/media/")


@pytest.fixture
def build_api(aiohttp_client: Any, settings: Settings, api: Api) -> BuildApi:
    """A second app on the same database and media root, with `overrides` to its settings.

    Depends on `api` so its clean-up also empties what these apps write.
    """

    async def build(**overrides: Any) -> Api:
        app = create_app(settings.model_copy(update=overrides))
        return Api(await aiohttp_client(app), api.tokens)

    return build


@pytest.fixture
async def course(make: Factory) -> dict[str, Any]:
    return await make.course()


@pytest.fixture
async def lesson(make: Factory, course: dict[str, Any]) -> dict[str, Any]:
    module = await make.module(course["id"])
    return await make.lesson(module["id"])


# --- course thumbnails -------------------------------------------------------------------


async def test_instructor_uploads_a_png_thumbnail(
    api: Api, course: dict, settings: Settings
) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    assert reply.status == 200
    assert reply.body["id"] == course["id"]
    pattern = rf"/media/acme/courses/{course['id']}/thumbnails/[0-9a-f]{{32}}\.png"
    assert re.fullmatch(pattern, reply.body["thumbnail"])


async def test_uploaded_thumbnail_is_served_without_a_token(api: Api, course: dict) -> None:
    image = png_bytes()
    reply = await api.post(thumbnail_url(course["id"]), data=form(image), as_="instructor")
    served = await api.get(reply.body["thumbnail"])
    assert served.status == 200
    assert served.body == image
    assert served.headers["Content-Type"] == "image/png"


async def test_thumbnail_is_accepted_under_the_thumbnail_field_name(
    api: Api, course: dict, settings: Settings
) -> None:
    image = png_bytes()
    data = form(image, field="thumbnail")
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 200
    assert on_disk(settings, reply.body["thumbnail"]).read_bytes() == image


async def test_thumbnail_shows_on_the_course_detail(api: Api, course: dict) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    detail = await api.get(f"/api/lms/courses/courses/{course['id']}/", as_="student")
    assert detail.body["thumbnail"] == reply.body["thumbnail"]


async def test_thumbnail_name_ignores_the_client_file_name(api: Api, course: dict) -> None:
    data = form(png_bytes(), filename="../../../etc/passwd.png")
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 200
    assert "passwd" not in reply.body["thumbnail"]
    assert ".." not in reply.body["thumbnail"]


async def test_text_file_as_thumbnail_is_415_and_stores_nothing(
    api: Api, course: dict, settings: Settings
) -> None:
    data = form(b"just some text\n", filename="notes.png", content_type="image/png")
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 415
    assert reply.body == BAD_IMAGE
    assert files_under(settings.media_root) == []


async def test_gif_thumbnail_is_415(api: Api, course: dict, settings: Settings) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    data = form(buffer.getvalue(), filename="a.gif", content_type="image/gif")
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 415
    assert reply.body == BAD_IMAGE
    assert files_under(settings.media_root) == []


async def test_truncated_png_thumbnail_is_415(api: Api, course: dict, settings: Settings) -> None:
    image = png_bytes((64, 64), noisy=True)
    data = form(image[: len(image) // 2])
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 415
    assert reply.body == BAD_IMAGE
    assert files_under(settings.media_root) == []


async def test_thumbnail_over_the_size_limit_is_413_and_stores_nothing(
    build_api: BuildApi, course: dict, settings: Settings
) -> None:
    small = await build_api(thumbnail_max_bytes=1000)
    image = png_bytes((64, 64), noisy=True)
    assert len(image) > 1000
    reply = await small.post(thumbnail_url(course["id"]), data=form(image), as_="instructor")
    assert reply.status == 413
    assert reply.body == {"detail": "File too large: the limit is 1000 bytes.", "status": 413}
    assert files_under(settings.media_root) == []


async def test_thumbnail_over_the_pixel_limit_is_413_and_stores_nothing(
    build_api: BuildApi, course: dict, settings: Settings
) -> None:
    small = await build_api(thumbnail_max_pixels=100)
    data = form(png_bytes((20, 20)))
    reply = await small.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 413
    assert reply.body == {"detail": "Image too large: at most 100 pixels.", "status": 413}
    assert files_under(settings.media_root) == []


async def test_student_thumbnail_upload_is_403_and_stores_nothing(
    api: Api, course: dict, settings: Settings
) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="student")
    assert reply.status == 403
    assert reply.body == FORBIDDEN
    assert files_under(settings.media_root) == []


async def test_other_instructor_thumbnail_upload_is_403(api: Api, course: dict) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor2")
    assert reply.status == 403
    assert reply.body == FORBIDDEN


async def test_admin_may_upload_any_courses_thumbnail(api: Api, course: dict) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="admin")
    assert reply.status == 200


async def test_thumbnail_upload_without_a_token_is_401(api: Api, course: dict) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()))
    assert reply.status == 401
    assert reply.body == {"detail": "Authentication credentials were not provided.", "status": 401}


async def test_thumbnail_of_a_missing_course_is_404(api: Api, settings: Settings) -> None:
    reply = await api.post(thumbnail_url(999999), data=form(png_bytes()), as_="admin")
    assert reply.status == 404
    assert reply.body == {"detail": "Not found.", "status": 404}
    assert files_under(settings.media_root) == []


async def test_replacing_a_thumbnail_removes_the_old_file(
    api: Api, course: dict, settings: Settings
) -> None:
    first = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    old = on_disk(settings, first.body["thumbnail"])
    assert old.is_file()

    second = await api.post(
        thumbnail_url(course["id"]), data=form(png_bytes((8, 8))), as_="instructor"
    )
    assert second.status == 200
    assert second.body["thumbnail"] != first.body["thumbnail"]
    assert files_under(settings.media_root) == [on_disk(settings, second.body["thumbnail"])]
    gone = await api.get(first.body["thumbnail"])
    assert gone.status == 404


async def test_deleting_a_course_removes_its_thumbnail(
    api: Api, course: dict, settings: Settings
) -> None:
    await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    reply = await api.delete(f"/api/lms/courses/courses/{course['id']}/", as_="instructor")
    assert reply.status == 204
    assert files_under(settings.media_root) == []


async def test_refused_replacement_keeps_the_current_thumbnail(
    api: Api, course: dict, settings: Settings
) -> None:
    first = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    refused = await api.post(
        thumbnail_url(course["id"]), data=form(b"not an image"), as_="instructor"
    )
    assert refused.status == 415
    assert files_under(settings.media_root) == [on_disk(settings, first.body["thumbnail"])]
    detail = await api.get(f"/api/lms/courses/courses/{course['id']}/", as_="instructor")
    assert detail.body["thumbnail"] == first.body["thumbnail"]


async def test_json_body_instead_of_multipart_is_415(api: Api, course: dict) -> None:
    reply = await api.post(thumbnail_url(course["id"]), {"file": "x"}, as_="instructor")
    assert reply.status == 415
    assert reply.body == {
        "detail": 'Unsupported media type "application/json" in request.',
        "status": 415,
    }


async def test_multipart_without_a_file_is_400(api: Api, course: dict) -> None:
    data = aiohttp.FormData()
    data.add_field("title", "no file here")
    data.add_field("other", b"bytes", filename="x.bin")
    reply = await api.post(thumbnail_url(course["id"]), data=data, as_="instructor")
    assert reply.status == 400
    assert reply.body == {"file": ["No file was submitted."], "status": 400}


async def test_empty_file_is_400(api: Api, course: dict, settings: Settings) -> None:
    reply = await api.post(thumbnail_url(course["id"]), data=form(b""), as_="instructor")
    assert reply.status == 400
    assert reply.body == {"file": ["The submitted file is empty."], "status": 400}
    assert files_under(settings.media_root) == []


# --- lesson files ------------------------------------------------------------------------


async def test_instructor_uploads_a_lesson_file(api: Api, lesson: dict, settings: Settings) -> None:
    content = b"%PDF-1.4 lesson handout\n" * 100
    data = form(content, filename="Handout.PDF", content_type="application/pdf")
    reply = await api.post(lesson_upload_url(lesson["id"]), data=data, as_="instructor")
    assert reply.status == 200
    assert reply.body["id"] == lesson["id"]
    assert reply.body["file"] == f"/api/lms/courses/lessons/{lesson['id']}/file/"
    [stored] = files_under(settings.media_root)
    pattern = rf"acme/lessons/{lesson['id']}/files/[0-9a-f]{{32}}\.pdf"
    assert re.fullmatch(pattern, stored.relative_to(settings.media_root).as_posix())


async def test_uploaded_lesson_file_is_served_back(api: Api, lesson: dict) -> None:
    content = b"%PDF-1.4 lesson handout\n" * 100
    data = form(content, filename="handout.pdf", content_type="application/pdf")
    reply = await api.post(lesson_upload_url(lesson["id"]), data=data, as_="instructor")
    served = await api.get(reply.body["file"], as_="instructor")
    assert served.status == 200
    assert served.body == content


async def test_lesson_file_over_the_size_limit_is_413_and_stores_nothing(
    build_api: BuildApi, lesson: dict, settings: Settings
) -> None:
    small = await build_api(lesson_file_max_bytes=1000)
    data = form(b"x" * 5000, filename="big.txt", content_type="text/plain")
    reply = await small.post(lesson_upload_url(lesson["id"]), data=data, as_="instructor")
    assert reply.status == 413
    assert reply.body == {"detail": "File too large: the limit is 1000 bytes.", "status": 413}
    assert files_under(settings.media_root) == []


async def test_lesson_file_exactly_at_the_size_limit_is_accepted(
    build_api: BuildApi, lesson: dict, settings: Settings
) -> None:
    small = await build_api(lesson_file_max_bytes=1000)
    data = form(b"x" * 1000, filename="fits.txt", content_type="text/plain")
    reply = await small.post(lesson_upload_url(lesson["id"]), data=data, as_="instructor")
    assert reply.status == 200
    assert [path.read_bytes() for path in files_under(settings.media_root)] == [b"x" * 1000]


async def test_student_lesson_upload_is_403_and_stores_nothing(
    api: Api, lesson: dict, settings: Settings
) -> None:
    data = form(b"homework", filename="a.txt", content_type="text/plain")
    reply = await api.post(lesson_upload_url(lesson["id"]), data=data, as_="student")
    assert reply.status == 403
    assert reply.body == FORBIDDEN
    assert files_under(settings.media_root) == []


async def test_replacing_a_lesson_file_removes_the_old_file(
    api: Api, lesson: dict, settings: Settings
) -> None:
    url = lesson_upload_url(lesson["id"])
    first = await api.post(url, data=form(b"one", filename="a.txt"), as_="instructor")
    second = await api.post(url, data=form(b"two", filename="b.txt"), as_="instructor")
    assert (first.status, second.status) == (200, 200)
    assert [path.read_bytes() for path in files_under(settings.media_root)] == [b"two"]
    served = await api.get(second.body["file"], as_="instructor")
    assert (served.body, second.body["file_name"]) == (b"two", "b.txt")


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("page.html", "text/html"),
        ("page.htm", "text/html"),
        ("page.xhtml", "application/xhtml+xml"),
        ("drawing.svg", "image/svg+xml"),
        ("data.xml", "text/xml"),
        ("app.js", "text/javascript"),
    ],
)
async def test_lesson_file_a_browser_would_run_is_served_as_a_download(
    api: Api, lesson: dict, filename: str, content_type: str
) -> None:
    script = b"<html><script>fetch('/api/lms/courses/courses/')</script></html>"
    data = form(script, filename=filename, content_type=content_type)
    reply = await api.post(lesson_upload_url(lesson["id"]), data=data, as_="instructor")
    assert reply.status == 200
    served = await api.get(reply.body["file"], as_="instructor")
    assert served.status == 200
    assert served.body == script
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")


async def test_lesson_upload_json_body_is_415(api: Api, lesson: dict) -> None:
    reply = await api.post(lesson_upload_url(lesson["id"]), {"file": "x"}, as_="instructor")
    assert reply.status == 415
    assert reply.body == {
        "detail": 'Unsupported media type "application/json" in request.',
        "status": 415,
    }


# --- serving -----------------------------------------------------------------------------


async def test_missing_media_file_is_404(api: Api) -> None:
    reply = await api.get("/media/acme/courses/1/thumbnails/" + "0" * 32 + ".png")
    assert reply.status == 404
    assert reply.body == {"detail": "Not found.", "status": 404}


async def test_media_files_are_served_with_nosniff(api: Api, course: dict) -> None:
    uploaded = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    reply = await api.get(uploaded.body["thumbnail"])
    assert reply.status == 200
    assert reply.headers["X-Content-Type-Options"] == "nosniff"


async def test_media_path_cannot_escape_the_media_root(api: Api, settings: Settings) -> None:
    secret = settings.media_root.parent / "outside.txt"
    secret.write_text("secret")
    reply = await api.get("/media/%2e%2e/outside.txt")
    assert reply.status in (403, 404)
    assert reply.body != b"secret"


async def test_deleting_a_course_removes_its_thumbnail_and_lesson_files(
    api: Api, course: dict, lesson: dict, settings: Settings
) -> None:
    thumb = await api.post(thumbnail_url(course["id"]), data=form(png_bytes()), as_="instructor")
    doc = await api.post(
        lesson_upload_url(lesson["id"]),
        data=form(b"%PDF-1.4 notes", filename="notes.pdf", content_type="application/pdf"),
        as_="instructor",
    )
    assert (thumb.status, doc.status) == (200, 200)
    assert len(files_under(settings.media_root)) == 2

    reply = await api.delete(f"/api/lms/courses/courses/{course['id']}/", as_="instructor")

    assert reply.status == 204
    assert files_under(settings.media_root) == []


# --- malformed multipart bodies: a 400, on every upload route ------------------------------

MALFORMED = {"detail": "Malformed multipart body.", "status": 400}
BOUNDARY = "lms-test-boundary"


def raw_part(headers: bytes, content: bytes = b"hello") -> bytes:
    return b"--" + BOUNDARY.encode() + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"


def multipart_headers(boundary: str | None = BOUNDARY) -> dict[str, str]:
    declared = "multipart/form-data" + (f"; boundary={boundary}" if boundary else "")
    return {"Content-Type": declared}


FILE_PART = b'Content-Disposition: form-data; name="file"; filename="a.png"'
CLOSING = b"--" + BOUNDARY.encode() + b"--\r\n"
MALFORMED_BODIES = {
    # A control character in a part's header name (aiohttp raises InvalidHeader).
    "control character in a header name": raw_part(FILE_PART + b"\r\nX-Bad\x01Name: 1") + CLOSING,
    "control character in the disposition header name": raw_part(
        b'Content-Dispo\x07sition: form-data; name="file"; filename="a.png"'
    )
    + CLOSING,
    "header line without a colon": raw_part(FILE_PART + b"\r\nnot a header") + CLOSING,
    "no closing boundary": raw_part(FILE_PART),
    "truncated in the part headers": b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: fo",
    "truncated in the content": raw_part(FILE_PART, b"x" * 1000)[:-30],
}


def upload_url(kind: str, course: dict[str, Any], lesson: dict[str, Any]) -> str:
    return thumbnail_url(course["id"]) if kind == "thumbnail" else lesson_upload_url(lesson["id"])


@pytest.mark.parametrize("kind", ["thumbnail", "lesson file"])
@pytest.mark.parametrize("case", sorted(MALFORMED_BODIES))
async def test_malformed_multipart_body_is_400_and_stores_nothing(
    api: Api, course: dict, lesson: dict, settings: Settings, kind: str, case: str
) -> None:
    reply = await api.post(
        upload_url(kind, course, lesson),
        data=MALFORMED_BODIES[case],
        headers=multipart_headers(),
        as_="instructor",
    )
    assert (reply.status, reply.body) == (400, MALFORMED)
    assert files_under(settings.media_root) == []


@pytest.mark.parametrize("kind", ["thumbnail", "lesson file"])
async def test_multipart_without_a_boundary_is_400(
    api: Api, course: dict, lesson: dict, kind: str
) -> None:
    body = raw_part(FILE_PART) + CLOSING
    reply = await api.post(
        upload_url(kind, course, lesson),
        data=body,
        headers=multipart_headers(None),
        as_="instructor",
    )
    assert (reply.status, reply.body) == (400, MALFORMED)


async def test_fields_after_the_file_are_read_past_and_the_file_is_kept(
    api: Api, lesson: dict, settings: Settings
) -> None:
    body = (
        raw_part(b'Content-Disposition: form-data; name="file"; filename="notes.txt"', b"notes")
        + raw_part(b'Content-Disposition: form-data; name="comment"', b"see page 2")
        + CLOSING
    )
    reply = await api.post(
        lesson_upload_url(lesson["id"]), data=body, headers=multipart_headers(), as_="instructor"
    )
    assert reply.status == 200
    assert [path.read_bytes() for path in files_under(settings.media_root)] == [b"notes"]
