"""`receive_form_files`: a form's fields and files, each file refused while it streams, and
nothing left behind by a form that is refused or cut short."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import FormData, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from models.errors import DomainError, UnsupportedMediaType
from web.uploads import HEAD_BYTES, FilePolicy, receive_form_files

FOLDER = "acme/submissions/7"
MakeClient = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]


def _files_under(root: Path) -> list[Path]:
    return [Path(d, name) for d, _, names in os.walk(root) for name in names]


def _refuse_exe(name: str | None) -> None:
    if (name or "").endswith(".exe"):
        raise UnsupportedMediaType("No programs.")


def _refuse_mz(name: str | None, head: bytes) -> None:
    if head.startswith(b"MZ"):
        raise UnsupportedMediaType("A program in disguise.")


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def make_client(aiohttp_client: AiohttpClient, media_root: Path) -> MakeClient:
    async def make(*, max_bytes: int = 1_000_000) -> TestClient[web.Request, web.Application]:
        seen: list[dict[str, str]] = []

        async def policy(fields: dict[str, str]) -> FilePolicy:
            seen.append(fields)
            return FilePolicy(
                folder=FOLDER,
                max_bytes=max_bytes,
                max_files=3,
                check_name=_refuse_exe,
                check_head=_refuse_mz,
            )

        async def handler(request: web.Request) -> web.Response:
            try:
                form = await receive_form_files(
                    request,
                    media_root=media_root,
                    policy=policy,
                    max_total_bytes=max_bytes * 3,
                    fields_bytes=64 * 1024,
                )
            except DomainError as e:
                return web.json_response({"detail": e.detail, "status": e.status}, status=e.status)
            return web.json_response(
                {
                    "fields": form.fields,
                    "files": [dataclasses.asdict(f) for f in form.files],
                    "policy_saw": seen,
                },
                status=201,
            )

        app = web.Application()
        app.router.add_post("/form", handler)
        return await aiohttp_client(app)

    return make


def _form(*files: tuple[str, bytes], first: str = "7") -> FormData:
    form = FormData(quote_fields=False, default_to_multipart=True)
    form.add_field("assignment", first)
    for name, content in files:
        form.add_field("files", content, filename=name, content_type="application/pdf")
    form.add_field("text", "after the files")
    return form


async def test_fields_and_files_are_received_and_stored(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    response = await client.post("/form", data=_form(("a.pdf", b"one"), ("b.txt", b"two")))
    body = await response.json()
    assert response.status == 201, body
    assert body["fields"] == {"assignment": "7", "text": "after the files"}
    assert body["policy_saw"] == [{"assignment": "7"}]  # the fields before the first file
    stored = [(f["original_name"], f["size"]) for f in body["files"]]
    assert stored == [("a.pdf", 3), ("b.txt", 3)]
    contents = sorted(p.read_bytes() for p in _files_under(media_root))
    assert contents == [b"one", b"two"]
    assert not any(p.name.startswith(".part-") for p in _files_under(media_root))


async def test_a_form_without_files_asks_no_policy(make_client: MakeClient) -> None:
    client = await make_client()
    response = await client.post("/form", data=_form())
    body = await response.json()
    assert (response.status, body["files"], body["policy_saw"]) == (201, [], [])


async def test_a_refused_name_is_415_and_drops_the_files_before_it(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    response = await client.post("/form", data=_form(("a.pdf", b"one"), ("tool.exe", b"x")))
    assert (response.status, (await response.json())["detail"]) == (415, "No programs.")
    assert _files_under(media_root) == []


async def test_the_head_check_sees_the_first_bytes_and_refuses_them(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    disguised = b"MZ" + b"\x00" * (3 * HEAD_BYTES)
    response = await client.post("/form", data=_form(("a.pdf", b"one"), ("b.pdf", disguised)))
    assert (response.status, (await response.json())["detail"]) == (415, "A program in disguise.")
    assert _files_under(media_root) == []


async def test_a_file_over_the_limit_is_413_and_drops_every_file(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client(max_bytes=100 * 1024)
    body = _form(("a.pdf", b"one"), ("big.pdf", os.urandom(150 * 1024)))
    response = await client.post("/form", data=body)
    assert response.status == 413
    assert (await response.json())["detail"] == "File too large: the limit is 102400 bytes."
    assert _files_under(media_root) == []


async def test_the_413_comes_while_the_file_streams_not_after_the_body(
    make_client: MakeClient, media_root: Path
) -> None:
    """The body announces 250 KB but only 150 KB are sent, and the connection stays open:
    the answer can only come from the counter passing the 100 KB limit."""
    client = await make_client(max_bytes=100 * 1024)
    boundary = "x" * 16
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="assignment"\r\n\r\n7\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /form HTTP/1.1\r\nHost: test\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary.encode() + b"\r\n"
        b"Content-Length: 256000\r\n\r\n" + head + os.urandom(150 * 1024)
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413")
    assert _files_under(media_root) == []


async def test_too_many_files_is_400_and_drops_them(
    make_client: MakeClient, media_root: Path
) -> None:
    client = await make_client()
    files = [(f"{i}.pdf", b"x") for i in range(4)]
    response = await client.post("/form", data=_form(*files))
    assert response.status == 400
    assert _files_under(media_root) == []
