"""Multipart upload receivers: course thumbnails and lesson files.

Both receivers take the first part whose name is in `field_names`, count its bytes while
streaming (aiohttp's `request.multipart()` does not enforce `client_max_size`, see
https://github.com/aio-libs/aiohttp/issues/3702), and store it under `media_root/folder`
with a generated name. The client's file name never reaches the file system. A file counts
as received only once the body's closing boundary has been read: a truncated body is
refused, not stored short. Every way aiohttp reports a malformed body (ValueError,
InvalidHeader, LineTooLong, …) becomes the same 400 in `_multipart_errors`, the one place
that reads the body.

- `receive_image` keeps the (small) image in memory, decodes it fully with Pillow in a
  worker thread, and only then writes it: a refused image leaves nothing on disk.
- `receive_file` streams to a `.part-*` file next to its destination and renames it into
  place when complete; any failure, cancellation included, deletes the partial file.
- `receive_form_files` does the same for several files of one form (a submission's), with
  the form's text fields; the caller's policy, asked when the first file arrives, says
  where they go, how large each may be and which it refuses (by name, then by its first
  bytes). The files are renamed into place only once the whole body has been read: a
  refused or cut-short form leaves none.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import mimetypes
import os
import re
import tempfile
import uuid
import warnings
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO, ParamSpec, TypeVar

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BadContentDispositionHeader
from aiohttp.web_protocol import RequestPayloadError
from PIL import Image

from models.errors import (
    BadRequest,
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

__all__ = [
    "FilePolicy",
    "FormFiles",
    "FormUpload",
    "StoredFile",
    "receive_file",
    "receive_form_file",
    "receive_form_files",
    "receive_image",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

_CHUNK_SIZE = 64 * 1024
# Room for boundaries, part headers and small companion fields around the file itself.
_MULTIPART_OVERHEAD = 64 * 1024
_TEMP_PREFIX = ".part-"
# How much of a file's start a policy's content check sees (magic numbers, a text's first
# characters).
HEAD_BYTES = 512
_SAFE_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}")
# The declared type of a lesson file is echoed back in a header when it is served, so
# only a bare `type/subtype` token is kept; anything else becomes octet-stream.
_SAFE_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127}")
_DEFAULT_MEDIA_TYPE = "application/octet-stream"
# Types a browser renders or runs as part of the serving origin (see _is_active_content);
# the extensions are listed too, since the host's mime.types may not know them all.
_ACTIVE_EXTENSIONS = frozenset(
    {".htm", ".html", ".shtml", ".xht", ".xhtml", ".svg", ".svgz", ".xml", ".xsl", ".xslt"}
    | {".js", ".mjs", ".cjs", ".mht", ".mhtml"}
)
_ACTIVE_MEDIA_TYPES = frozenset(
    {
        "text/html",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "message/rfc822",
        "multipart/related",
    }
)
_MEDIA_TYPES = mimetypes.MimeTypes()

# Pillow format name -> (content type, extension). MPO is what Pillow reports for the
# multi-picture JPEGs many phone cameras write: the bytes are a plain JPEG to a browser.
_IMAGE_TYPES: dict[str, tuple[str, str]] = {
    "JPEG": ("image/jpeg", ".jpg"),
    "MPO": ("image/jpeg", ".jpg"),
    "PNG": ("image/png", ".png"),
    "WEBP": ("image/webp", ".webp"),
}
# Only these plugins may even try to open an upload, so GIF, TIFF, BMP, etc. never reach
# a decoder (the JPEG plugin is the one that yields MPO images).
_IMAGE_PLUGINS = ("JPEG", "PNG", "WEBP")
_BAD_IMAGE = "Upload a valid image: JPEG, PNG or WebP."
_MALFORMED = "Malformed multipart body."


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An upload that has been accepted and written under the media root."""

    relative_path: str  # POSIX path relative to the media root
    size: int
    content_type: str
    original_name: str | None


async def receive_image(
    request: web.Request,
    *,
    media_root: Path,
    folder: str,
    max_bytes: int,
    max_pixels: int,
    field_names: Sequence[str] = ("file", "thumbnail"),
) -> StoredFile:
    """Receive one JPEG/PNG/WebP image, verify it by decoding, and store it.

    Raises UnsupportedMediaType (415) for a non-multipart request or anything that is
    not a fully decodable JPEG, PNG or WebP; PayloadTooLarge (413) over `max_bytes` or
    `max_pixels`; ValidationFailed (400) when no file or an empty one was submitted.
    """
    folder_path = _checked_folder(folder)
    form = await _Form.open(request, max_bytes)
    part = await form.file_part(field_names)

    # Thumbnails are small (a few MB at most), so holding one in memory is fine and lets
    # us decode it before anything touches the disk.
    data = bytearray()
    while chunk := await _read_chunk(part):
        data += chunk
        if len(data) > max_bytes:
            raise _file_too_large(max_bytes)
    _check_not_empty(part, len(data))
    await form.finish()

    # Decoding is CPU-bound and may be slow for large images: keep it off the event loop.
    image_format = await asyncio.to_thread(_verify_image, data, max_pixels)
    content_type, extension = _IMAGE_TYPES[image_format]

    destination = media_root / folder_path / f"{uuid.uuid4().hex}{extension}"
    try:
        await _blocking_io(_write_new_file, destination, data)
    except BaseException:
        # Cancelled after the write finished: the caller will never record this file.
        await _blocking_io(destination.unlink, missing_ok=True)
        raise
    return StoredFile(
        relative_path=destination.relative_to(media_root).as_posix(),
        size=len(data),
        content_type=content_type,
        original_name=_original_name(part),
    )


async def receive_file(
    request: web.Request,
    *,
    media_root: Path,
    folder: str,
    max_bytes: int,
    field_names: Sequence[str] = ("file",),
) -> StoredFile:
    """Stream one file of any type to disk without holding it in memory.

    Raises UnsupportedMediaType (415) for a non-multipart request, PayloadTooLarge (413)
    over `max_bytes`, ValidationFailed (400) when no file or an empty one was submitted.
    """
    folder_path = _checked_folder(folder)
    form = await _Form.open(request, max_bytes)
    part = await form.file_part(field_names)

    directory = media_root / folder_path
    destination = directory / f"{uuid.uuid4().hex}{_safe_extension(part.filename)}"
    # Same directory as the destination, so the final os.replace is an atomic rename.
    temporary = directory / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
    await _blocking_io(directory.mkdir, parents=True, exist_ok=True)
    handle = await _blocking_io(_create_exclusive, temporary)
    try:
        size = await _copy_limited(part, handle, max_bytes)
        await form.finish()
        await _blocking_io(handle.close)
        await _blocking_io(os.replace, temporary, destination)
    except BaseException:
        # Too large, malformed, client gone or task cancelled: leave no partial file
        # behind (nor a completed one the caller will never hear about).
        await _blocking_io(_discard, handle, temporary, destination)
        raise
    return StoredFile(
        relative_path=destination.relative_to(media_root).as_posix(),
        size=size,
        content_type=_declared_media_type(part),
        original_name=_original_name(part),
    )


@dataclass(frozen=True, slots=True)
class FormUpload:
    """A form's small text fields and its file, waiting in a temporary file until
    `discard` (which the receiver's caller must call, whatever happens)."""

    fields: dict[str, str]
    path: Path
    size: int

    async def discard(self) -> None:
        await _blocking_io(self.path.unlink, missing_ok=True)


async def receive_form_file(
    request: web.Request,
    *,
    max_bytes: int,
    temp_dir: Path | None = None,
    field_names: Sequence[str] = ("file",),
) -> FormUpload:
    """A form's file streamed to a temporary file (never held in memory), with its other
    fields (small text, in any order before or after the file).

    Raises UnsupportedMediaType (415) for a non-multipart request, PayloadTooLarge (413)
    over `max_bytes` while it streams (the partial file is deleted), ValidationFailed (400)
    when no file or an empty one was submitted.
    """
    form = await _Form.open(request, max_bytes)
    if temp_dir is not None:
        await _blocking_io(temp_dir.mkdir, parents=True, exist_ok=True)
    fields: dict[str, str] = {}
    upload: FormUpload | None = None
    try:
        while (part := await form._next()) is not None:
            with _multipart_errors():
                name = part.name
            if name in field_names and upload is None:
                upload = await _stream_to_temp(part, max_bytes, temp_dir)
            elif name is not None and name not in fields and name not in field_names:
                fields[name] = await form._text(part)
            else:
                await form._skip(part)
        if upload is None:
            raise ValidationFailed.field("file", "No file was submitted.")
    except BaseException:
        if upload is not None:
            await upload.discard()
        raise
    return FormUpload(fields=fields, path=upload.path, size=upload.size)


async def _stream_to_temp(
    part: BodyPartReader, max_bytes: int, temp_dir: Path | None
) -> FormUpload:
    path, handle = await _blocking_io(_temporary_file, temp_dir)
    try:
        size = await _copy_limited(part, handle, max_bytes)
        await _blocking_io(handle.close)
    except BaseException:
        await _blocking_io(_discard, handle, path)
        raise
    return FormUpload(fields={}, path=path, size=size)


def _temporary_file(directory: Path | None) -> tuple[Path, BinaryIO]:
    descriptor, name = tempfile.mkstemp(prefix="lms-upload-", suffix=".part", dir=directory)
    return Path(name), os.fdopen(descriptor, "wb")


@dataclass(frozen=True, slots=True)
class FilePolicy:
    """What a form's files may be: where they go (a folder under the media root), how large
    each may be, how many, and the checks each must pass: `check_name` on the client's
    file name before any byte is read, `check_head` on its first `HEAD_BYTES` bytes (fewer
    if it is shorter). Each raises a DomainError (a 415, say) to refuse it."""

    folder: str
    max_bytes: int
    max_files: int
    check_name: Callable[[str | None], None]
    check_head: Callable[[str | None, bytes], None]


@dataclass(frozen=True, slots=True)
class FormFiles:
    """A form's small text fields and its files, stored under the media root."""

    fields: dict[str, str]
    files: list[StoredFile]


async def receive_form_files(
    request: web.Request,
    *,
    media_root: Path,
    policy: Callable[[dict[str, str]], Awaitable[FilePolicy]],
    max_total_bytes: int,
    fields_bytes: int,
    field_names: Sequence[str] = ("files", "file"),
) -> FormFiles:
    """A form's text fields and any number of files (none included), each streamed to disk.

    `policy` is called once, with the fields read so far, when the first file arrives (so
    the fields it needs must come before the files). Each file streams to a `.part-*`
    file, refused (413) as soon as it passes the policy's `max_bytes`; all are renamed into
    place only once the closing boundary has been read. Whatever fails (a refusal, a
    malformed or truncated body, a cancellation) deletes every file of the form.

    A file part without a file name is skipped when empty (a file input left blank), else
    refused (400).

    Raises UnsupportedMediaType (415) for a non-multipart request, PayloadTooLarge (413)
    for a body declared larger than `max_total_bytes`, a file over its limit or text
    fields over `fields_bytes`, ValidationFailed (400) for an empty file or too many.
    """
    form = await _Form.open(request, max_total_bytes, allowance=fields_bytes)
    fields: dict[str, str] = {}
    rules: FilePolicy | None = None
    pending: list[tuple[Path, Path, StoredFile]] = []  # (temporary, destination, stored)
    try:
        while (part := await form._next()) is not None:
            with _multipart_errors():
                name = part.name
            if name in field_names:
                if rules is None:
                    rules = await policy(dict(fields))
                    _checked_folder(rules.folder)
                if not part.filename:
                    # A file input left blank: browsers send an empty part without a name.
                    if await _read_chunk(part):
                        raise ValidationFailed.field(
                            part.name or "files", "Each file needs its file name."
                        )
                    continue
                if len(pending) >= rules.max_files:
                    raise ValidationFailed.field(
                        "files", f"Ensure there are no more than {rules.max_files} files."
                    )
                pending.append(await _stream_part(part, media_root, rules))
            elif name is not None and name not in fields:
                fields[name] = await form._text(part)
            else:
                await form._skip(part)
        for temporary, destination, _ in pending:
            await _blocking_io(os.replace, temporary, destination)
    except BaseException:
        for temporary, destination, _ in pending:
            await _blocking_io(_unlink_all, temporary, destination)
        raise
    return FormFiles(fields=fields, files=[stored for _, _, stored in pending])


async def _stream_part(
    part: BodyPartReader, media_root: Path, rules: FilePolicy
) -> tuple[Path, Path, StoredFile]:
    """One file of the form into a `.part-*` file beside its destination, checked."""
    rules.check_name(part.filename)
    directory = media_root / rules.folder
    destination = directory / f"{uuid.uuid4().hex}{_safe_extension(part.filename)}"
    temporary = directory / f"{_TEMP_PREFIX}{uuid.uuid4().hex}"
    await _blocking_io(directory.mkdir, parents=True, exist_ok=True)
    handle = await _blocking_io(_create_exclusive, temporary)
    try:
        size = await _copy_limited(
            part,
            handle,
            rules.max_bytes,
            inspect=lambda head: rules.check_head(part.filename, head),
        )
        await _blocking_io(handle.close)
    except BaseException:
        await _blocking_io(_discard, handle, temporary)
        raise
    stored = StoredFile(
        relative_path=destination.relative_to(media_root).as_posix(),
        size=size,
        content_type=_declared_media_type(part),
        original_name=_original_name(part),
    )
    return temporary, destination, stored


def _unlink_all(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


# --- request and multipart parsing -------------------------------------------------------


def _checked_folder(folder: str) -> PurePosixPath:
    """The caller builds `folder` itself; an unsafe one is a bug, not a client error."""
    path = PurePosixPath(folder)
    if not folder or path.is_absolute() or "\\" in folder or ".." in path.parts:
        raise ValueError(f"Upload folder must be a relative path without '..': {folder!r}")
    return path


@contextlib.contextmanager
def _multipart_errors() -> Iterator[None]:
    """Whatever aiohttp raises on a malformed body is the client's error: a 400.

    The multipart reader reports bad boundaries and encodings as ValueError, bad part
    headers (a control character in a name, a line without a colon) as InvalidHeader or
    LineTooLong, and a body the connection cut short as RequestPayloadError. A disposition
    it cannot parse is only a warning (the part then has no name), unless warnings are
    errors, as under the tests.
    """
    try:
        yield
    except (
        ValueError,
        HttpProcessingError,
        RequestPayloadError,
        BadContentDispositionHeader,
    ) as exc:
        raise BadRequest(_MALFORMED) from exc


class _Form:
    """A multipart/form-data body read part by part, with a shared bound on what is skipped."""

    def __init__(self, reader: MultipartReader, allowance: int = _MULTIPART_OVERHEAD) -> None:
        self._reader = reader
        self._skipped = 0
        self._allowance = allowance

    @classmethod
    async def open(
        cls, request: web.Request, max_bytes: int, *, allowance: int = _MULTIPART_OVERHEAD
    ) -> _Form:
        if request.content_type != "multipart/form-data":
            declared = request.headers.get("Content-Type", "")
            raise UnsupportedMediaType(f'Unsupported media type "{declared}" in request.')
        # Fail before reading anything when the client tells us up front it is too big.
        if request.content_length is not None and (request.content_length > max_bytes + allowance):
            raise _file_too_large(max_bytes)
        with _multipart_errors():
            return cls(await request.multipart(), allowance)

    async def file_part(self, field_names: Sequence[str]) -> BodyPartReader:
        """The first part named in `field_names`, skipping (boundedly) any before it."""
        while (part := await self._next()) is not None:
            with _multipart_errors():
                name = part.name
            if name in field_names:
                return part
            await self._skip(part)
        raise ValidationFailed.field("file", "No file was submitted.")

    async def finish(self) -> None:
        """Read the rest of the body: later fields (bounded) and the closing boundary.

        Only a body that ends as multipart says it must proves the file was not cut short.
        """
        while (part := await self._next()) is not None:
            await self._skip(part)

    async def _next(self) -> BodyPartReader | None:
        with _multipart_errors():
            part = await self._reader.next()
        if part is not None and not isinstance(part, BodyPartReader):
            # Nested multipart/mixed is obsolete in form-data (RFC 7578) and draining it
            # would be unbounded.
            raise BadRequest("Nested multipart bodies are not supported.")
        return part

    async def _text(self, part: BodyPartReader) -> str:
        """A small text field, sharing the overhead allowance with skipped parts."""
        data = bytearray()
        while chunk := await _read_chunk(part):
            self._skipped += len(chunk)
            if self._skipped > self._allowance:
                raise PayloadTooLarge()
            data += chunk
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise BadRequest(_MALFORMED) from None

    async def _skip(self, part: BodyPartReader) -> None:
        # aiohttp would drain a skipped part without limit; read it ourselves so other
        # fields share the overhead allowance instead of being free.
        while chunk := await _read_chunk(part):
            self._skipped += len(chunk)
            if self._skipped > self._allowance:
                raise PayloadTooLarge()


async def _copy_limited(
    part: BodyPartReader,
    handle: BinaryIO,
    max_bytes: int,
    *,
    inspect: Callable[[bytes], None] | None = None,
) -> int:
    """The part into the open file, refused (413) once it passes `max_bytes` and (400)
    when it is empty; each write off the event loop. Returns its size.

    `inspect`, if given, sees the file's first `HEAD_BYTES` bytes (all of it if shorter)
    once, before they are written, and may refuse them by raising."""
    size = 0
    head = b""
    while chunk := await _read_chunk(part):
        size += len(chunk)
        if size > max_bytes:
            raise _file_too_large(max_bytes)
        if inspect is not None and len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
            if len(head) == HEAD_BYTES:
                inspect(head)
        await _blocking_io(handle.write, chunk)
    _check_not_empty(part, size)
    if inspect is not None and len(head) < HEAD_BYTES:
        inspect(head)
    return size


async def _read_chunk(part: BodyPartReader) -> bytes:
    with _multipart_errors():
        return await part.read_chunk(_CHUNK_SIZE)


def _check_not_empty(part: BodyPartReader, size: int) -> None:
    if size:
        return
    # Browsers send an empty, unnamed part when the file input was left blank.
    if not part.filename:
        raise ValidationFailed.field("file", "No file was submitted.")
    raise ValidationFailed.field("file", "The submitted file is empty.")


def _file_too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"File too large: the limit is {max_bytes} bytes.")


def _original_name(part: BodyPartReader) -> str | None:
    """The client's base name, for display and downloads (some clients send a full path).

    Browsers send the name as typed, escaping only `"`, CR and LF (as %22, %0D, %0A: the
    HTML standard's form-data encoding); those three are unescaped, nothing else is.
    """
    if not part.filename:
        return None
    name = part.filename.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
    return PureWindowsPath(name).name or None  # splits on both / and \


def _safe_extension(filename: str | None) -> str:
    if not filename:
        return ""
    extension = os.path.splitext(PureWindowsPath(filename).name)[1].lower()
    if not _SAFE_EXTENSION.fullmatch(extension) or _is_active_content(extension):
        return ""
    return extension


def _is_active_content(extension: str) -> bool:
    """Would a browser run a file of this extension, served from this service's origin?

    Media are served by extension: a lesson file named `.html` or `.svg` would be a page
    (scripts included) of this origin. Stored without an extension it is served as
    application/octet-stream, which browsers download instead.
    """
    if extension in _ACTIVE_EXTENSIONS:
        return True
    guessed = _MEDIA_TYPES.guess_type(f"file{extension}", strict=False)[0] or ""
    return guessed in _ACTIVE_MEDIA_TYPES or guessed.endswith(("+xml", "/xml"))


def _declared_media_type(part: BodyPartReader) -> str:
    declared = part.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return declared if _SAFE_MEDIA_TYPE.fullmatch(declared) else _DEFAULT_MEDIA_TYPE


# --- image verification (runs in a worker thread) ----------------------------------------


def _verify_image(data: bytearray, max_pixels: int) -> str:
    """Return the Pillow format of a fully decodable, small-enough image, or raise."""
    # Pillow's global MAX_IMAGE_PIXELS still applies; our own limit can only lower it.
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    # Pillow only *warns* between MAX_IMAGE_PIXELS and twice that; make it an error.
    # (catch_warnings is process-wide, not per thread, so the explicit pixel check below
    # is what guarantees the limit; this only catches bombs before we get there.)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _decoding_errors(limit), Image.open(io.BytesIO(data), formats=_IMAGE_PLUGINS) as img:
            # Opening reads only the header: check the size before decoding any pixels.
            width, height = img.size
            if width * height > limit:
                raise PayloadTooLarge(f"Image too large: at most {limit} pixels.")
            image_format = img.format
            img.verify()  # checksums and structure; leaves the image unusable
        # verify() does not decode pixel data; a truncated or corrupt body only fails here.
        with _decoding_errors(limit), Image.open(io.BytesIO(data), formats=_IMAGE_PLUGINS) as img:
            img.load()
    if image_format is None or image_format not in _IMAGE_TYPES:
        raise UnsupportedMediaType(_BAD_IMAGE)
    return image_format


@contextlib.contextmanager
def _decoding_errors(limit: int) -> Iterator[None]:
    """Map whatever Pillow raises on hostile input to 413 (bomb) or 415 (not an image)."""
    try:
        yield
    except DomainError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise PayloadTooLarge(f"Image too large: at most {limit} pixels.") from exc
    except Exception as exc:  # decoders raise OSError, SyntaxError, ValueError, struct.error…
        raise UnsupportedMediaType(_BAD_IMAGE) from exc


# --- file system (every call runs in a worker thread) ------------------------------------


async def _blocking_io(func: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run blocking file I/O in a thread; when cancelled, wait for it before re-raising.

    A thread cannot be interrupted, so without the wait a cancelled upload's cleanup could
    run while a write or rename is still in flight and miss the file it produces.
    """
    task = asyncio.ensure_future(asyncio.to_thread(func, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # mark it retrieved; the cancellation is what propagates
        raise


def _create_exclusive(path: Path) -> BinaryIO:
    return path.open("xb")


def _write_new_file(path: Path, data: bytearray) -> None:
    """Write `data` to `path` atomically: readers see the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{_TEMP_PREFIX}{uuid.uuid4().hex}")
    try:
        with temporary.open("xb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _discard(handle: BinaryIO, *paths: Path) -> None:
    handle.close()
    for path in paths:
        path.unlink(missing_ok=True)
