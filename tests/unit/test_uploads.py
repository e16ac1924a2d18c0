"""Multipart upload receivers: what is stored, what is refused, what is left behind."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import os
import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient, make_mocked_request
from PIL import Image
from pytest_aiohttp import AiohttpClient

from models.errors import DomainError, ValidationFailed
from web.uploads import StoredFile, receive_file, receive_image

FOLDER = "acme/courses/7/thumbnails"
GENERATED_NAME = re.compile(r"[0-9a-f]{32}(\.[a-z0-9]+)?")

MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


# --- helpers ------------------------------------------------------------------------------


def _app(media_root: Path, *, max_bytes: int, max_pixels: int) -> web.Application:
    async def respond(receiving: Awaitable[StoredFile]) -> web.Response:
        try:
            stored = await receiving
        except DomainError as e:
            body: dict[str, object] = {"detail": e.detail, "status": e.status}
            if isinstance(e, ValidationFailed):
                body["errors"] = e.errors
            return web.json_response(body, status=e.status)
        return web.json_response(dataclasses.asdict(stored), status=201)

    async def image(request: web.Request) -> web.Response:
        return await respond(
            receive_image(
                request,
                media_root=media_root,
                folder=FOLDER,
                max_bytes=max_bytes,
                max_pixels=max_pixels,
            )
        )

    async def file(request: web.Request) -> web.Response:
        return await respond(
            receive_file(request, media_root=media_root, folder=FOLDER, max_bytes=max_bytes)
        )

    app = web.Application()
    app.router.add_post("/image", image)
    app.router.add_post("/file", file)
    return app


def _image(fmt: str, size: tuple[int, int] = (8, 8), *, noisy: bool = False) -> bytes:
    """An image encoded in memory; `noisy` defeats compression so the size is predictable."""
    if noisy:
        img = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    else:
        img = Image.new("RGB", size, (200, 30, 90))
    buffer = io.BytesIO()
    img.save(buffer, format=fmt)
    return buffer.getvalue()


def _form(data: bytes, filename: str = "upload.bin", *, field: str = "file") -> FormData:
    # quote_fields=False sends the file name as browsers do, not percent-encoded.
    form = FormData(quote_fields=False)
    form.add_field(field, data, filename=filename, content_type="application/octet-stream")
    return form


def _files_under(root: Path) -> list[Path]:
    return [Path(d, name) for d, _, names in os.walk(root) for name in names]


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, media_root: Path) -> MakeClient:
    async def make(
        *, max_bytes: int = 1_000_000, max_pixels: int = 1_000_000
    ) -> TestClient[web.Request, web.Application]:
        app = _app(media_root, max_bytes=max_bytes, max_pixels=max_pixels)
        return await aiohttp_client(app)

    return make


async def _refusal(
    make_client: MakeClient, media_root: Path, path: str, body: object, **limits: int
) -> dict[str, object]:
    """POST, and check the one thing every refusal shares: nothing was left on disk."""
    client = await make_client(**limits)
    response = await client.post(path, data=body)
    payload: dict[str, object] = await response.json()
    assert response.status == payload["status"]
    assert _files_under(media_root) == []
    return payload


# --- receive_image: accepted ----------------------------------------------------------------


async def test_png_is_stored_under_the_folder_with_a_generated_name(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    png = _image("PNG")

    response = await client.post("/image", data=_form(png, "../../evil name.png"))

    assert response.status == 201
    stored = await response.json()
    folder, name = stored["relative_path"].rsplit("/", 1)
    assert folder == FOLDER
    assert GENERATED_NAME.fullmatch(name) and name.endswith(".png")
    assert (media_root / stored["relative_path"]).read_bytes() == png
    assert stored["size"] == len(png)
    assert stored["content_type"] == "image/png"
    assert stored["original_name"] == "evil name.png"
    assert _files_under(media_root) == [media_root / stored["relative_path"]]


async def test_jpeg_is_accepted(make_client: MakeClient, media_root: Path) -> None:
    client = await make_client()

    response = await client.post("/image", data=_form(_image("JPEG"), "photo.png"))

    assert response.status == 201
    stored = await response.json()
    # The extension and type come from the decoded format, not the client's name.
    assert stored["relative_path"].endswith(".jpg")
    assert stored["content_type"] == "image/jpeg"


async def test_webp_is_accepted(make_client: MakeClient) -> None:
    client = await make_client()

    response = await client.post("/image", data=_form(_image("WEBP"), "pic.webp"))

    assert response.status == 201
    stored = await response.json()
    assert stored["relative_path"].endswith(".webp")
    assert stored["content_type"] == "image/webp"


async def test_thumbnail_field_name_is_accepted_for_images(make_client: MakeClient) -> None:
    client = await make_client()

    response = await client.post("/image", data=_form(_image("PNG"), field="thumbnail"))

    assert response.status == 201


# --- receive_image: refused -----------------------------------------------------------------


async def test_gif_is_refused_415(make_client: MakeClient, media_root: Path) -> None:
    payload = await _refusal(make_client, media_root, "/image", _form(_image("GIF"), "a.gif"))

    assert payload["status"] == 415
    assert payload["detail"] == "Upload a valid image: JPEG, PNG or WebP."


async def test_text_file_named_png_is_refused_415(
    make_client: MakeClient, media_root: Path
) -> None:
    body = _form(b"just some text, honestly\n", "picture.png")

    payload = await _refusal(make_client, media_root, "/image", body)

    assert payload["status"] == 415


async def test_truncated_png_is_refused_415(make_client: MakeClient, media_root: Path) -> None:
    png = _image("PNG", (64, 64), noisy=True)

    payload = await _refusal(make_client, media_root, "/image", _form(png[: len(png) // 2]))

    assert payload["status"] == 415
    assert payload["detail"] == "Upload a valid image: JPEG, PNG or WebP."


async def test_image_over_max_pixels_is_refused_413(
    make_client: MakeClient, media_root: Path
) -> None:
    body = _form(_image("PNG", (20, 20)))  # 400 pixels

    payload = await _refusal(make_client, media_root, "/image", body, max_pixels=100)

    assert payload == {"detail": "Image too large: at most 100 pixels.", "status": 413}


@pytest.mark.parametrize("side", [12, 20], ids=["bomb-warning", "bomb-error"])
async def test_pillow_max_image_pixels_is_respected_413(
    make_client: MakeClient, media_root: Path, monkeypatch: pytest.MonkeyPatch, side: int
) -> None:
    # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; both are refusals
    # even when the caller's own max_pixels is larger.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    body = _form(_image("PNG", (side, side)))

    payload = await _refusal(make_client, media_root, "/image", body, max_pixels=10_000)

    assert payload == {"detail": "Image too large: at most 100 pixels.", "status": 413}


async def test_image_over_max_bytes_is_refused_413(
    make_client: MakeClient, media_root: Path
) -> None:
    png = _image("PNG", (64, 64), noisy=True)
    assert len(png) > 4096

    payload = await _refusal(make_client, media_root, "/image", _form(png), max_bytes=4096)

    assert payload == {"detail": "File too large: the limit is 4096 bytes.", "status": 413}


async def test_declared_content_length_over_limit_is_refused_413(
    make_client: MakeClient, media_root: Path
) -> None:
    # Bigger than max_bytes plus the multipart allowance, so refused before reading.
    body = _form(os.urandom(200 * 1024))

    payload = await _refusal(make_client, media_root, "/image", body, max_bytes=1024)

    assert payload["status"] == 413


async def test_non_multipart_body_is_refused_415(make_client: MakeClient, media_root: Path) -> None:
    client = await make_client()

    response = await client.post("/image", json={"file": "aGVsbG8="})

    assert response.status == 415
    assert await response.json() == {
        "detail": 'Unsupported media type "application/json" in request.',
        "status": 415,
    }
    assert _files_under(media_root) == []


async def test_missing_file_part_is_refused_400(make_client: MakeClient, media_root: Path) -> None:
    body = _form(_image("PNG"), field="attachment")
    body.add_field("title", "Intro")

    payload = await _refusal(make_client, media_root, "/image", body)

    assert payload["status"] == 400
    assert payload["errors"] == {"file": ["No file was submitted."]}


async def test_empty_file_is_refused_400(make_client: MakeClient, media_root: Path) -> None:
    payload = await _refusal(make_client, media_root, "/file", _form(b"", "notes.txt"))

    assert payload["status"] == 400
    assert payload["errors"] == {"file": ["The submitted file is empty."]}


@pytest.mark.parametrize("folder", ["../escape", "/absolute", "acme/../other", ""])
async def test_unsafe_folder_is_a_programming_error(tmp_path: Path, folder: str) -> None:
    request = make_mocked_request("POST", "/file")

    with pytest.raises(ValueError, match="relative path"):
        await receive_file(request, media_root=tmp_path, folder=folder, max_bytes=10)


# --- receive_file ---------------------------------------------------------------------------


async def test_receive_file_streams_a_file_larger_than_one_chunk_intact(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    content = os.urandom(300 * 1024)  # several 64 KiB chunks
    form = FormData(quote_fields=False)
    form.add_field("file", content, filename="Lecture Notes.PDF", content_type="application/pdf")

    response = await client.post("/file", data=form)

    assert response.status == 201
    stored = await response.json()
    assert stored["relative_path"].startswith(f"{FOLDER}/")
    assert GENERATED_NAME.fullmatch(stored["relative_path"].rsplit("/", 1)[1])
    assert stored["relative_path"].endswith(".pdf")
    assert stored["size"] == len(content)
    assert stored["content_type"] == "application/pdf"
    assert stored["original_name"] == "Lecture Notes.PDF"
    # Only the final file: the `.part-` file was renamed, not copied.
    assert _files_under(media_root) == [media_root / stored["relative_path"]]
    assert (media_root / stored["relative_path"]).read_bytes() == content


async def test_receive_file_drops_an_unsafe_extension(make_client: MakeClient) -> None:
    client = await make_client()

    response = await client.post("/file", data=_form(b"data", "notes.tar.gz;rm -rf"))

    assert response.status == 201
    stored = await response.json()
    assert GENERATED_NAME.fullmatch(stored["relative_path"].rsplit("/", 1)[1])
    assert "." not in stored["relative_path"].rsplit("/", 1)[1]


async def test_receive_file_over_the_limit_is_refused_413_and_leaves_no_part_file(
    make_client: MakeClient, media_root: Path
) -> None:
    # Within the Content-Length allowance, so the streaming counter is what refuses it.
    body = _form(os.urandom(150 * 1024), "big.bin")

    payload = await _refusal(make_client, media_root, "/file", body, max_bytes=100 * 1024)

    assert payload == {"detail": "File too large: the limit is 102400 bytes.", "status": 413}


async def test_receive_file_client_disconnect_leaves_no_part_file(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    boundary = "x" * 16
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    _, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /file HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary.encode() + b"\r\n"
        b"Content-Length: 900000\r\n\r\n" + head + os.urandom(200 * 1024)
    )
    await writer.drain()

    # Hang up only once the server has started writing the partial file.
    await _wait_for(lambda: any(p.name.startswith(".part-") for p in _files_under(media_root)))
    writer.close()
    await writer.wait_closed()

    await _wait_for(lambda: _files_under(media_root) == [])


async def _wait_for(condition: Callable[[], bool]) -> None:
    """Poll the file system (which has no events to await) for up to five seconds."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("condition not met within 5 s")
