"""Uploaded files: public thumbnails under /media/, lesson files as downloads, and removal
tied to the request's transaction.

Only course thumbnails are public: `/media/` serves nothing else, whatever lies under the
media root, so lesson files (paid material, stored beside them) are reached only through
the authorised download routes (web/course_content.py), never by their path.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from models.errors import NotFound
from web.handlers import unit_of_work
from web.keys import SETTINGS
from web.routing import RouteTable

MEDIA_PREFIX = "/media/"
routes = RouteTable()

# What web/courses.py stores as a thumbnail: <tenant>/courses/<id>/thumbnails/<uuid>.<ext>.
_PUBLIC_MEDIA = re.compile(r"[a-z][a-z0-9_]{1,40}/courses/[0-9]{1,10}/thumbnails/[0-9a-f]{32}")
_PUBLIC_EXTENSIONS = frozenset({".jpg", ".png", ".webp"})
# RFC 8187 attr-char beyond letters and digits: everything else in a name is %-encoded.
_ATTR_CHARS = "!#$&+-.^_`|~"
_NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def _existing_file(root: Path, relative_path: str) -> Path | None:
    """The file under root, if it is one; `..` or a link can never lead outside root."""
    base = root.resolve()
    target = (base / relative_path).resolve()
    return target if target.is_relative_to(base) and target.is_file() else None


def _is_public(relative_path: str) -> bool:
    stem, dot, extension = relative_path.rpartition(".")
    return (
        bool(dot) and f".{extension}" in _PUBLIC_EXTENSIONS and bool(_PUBLIC_MEDIA.fullmatch(stem))
    )


@routes.route(
    "GET",
    MEDIA_PREFIX + "{path:.+}",
    tag="media",
    public=True,
    media_type="application/octet-stream",
)
async def serve_media(request: web.Request) -> web.StreamResponse:
    """A course thumbnail; names are generated. Nothing else is served here (404)."""
    relative_path = request.match_info["path"]
    if not _is_public(relative_path):
        raise NotFound()
    root = request.app[SETTINGS].media_root
    target = await asyncio.to_thread(_existing_file, root, relative_path)
    if target is None:
        raise NotFound()
    # Stored extensions are never active content (see web/uploads.py); nosniff keeps
    # browsers from guessing otherwise.
    return web.FileResponse(target, headers=_NOSNIFF)


def media_url(relative_path: str | None) -> str | None:
    return MEDIA_PREFIX + relative_path if relative_path else None


def content_disposition(file_name: str) -> str:
    """`attachment` with the name twice: %-encoded UTF-8 (RFC 6266/8187), which browsers
    use, and an ASCII stand-in for older clients; neither can break out of the header."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in file_name)
    encoded = quote(file_name, safe=_ATTR_CHARS)
    return f"attachment; filename=\"{fallback or 'download'}\"; filename*=UTF-8''{encoded}"


async def download_response(
    request: web.Request, relative_path: str, file_name: str
) -> web.StreamResponse:
    """A stored file sent as a download under `file_name`, kept out of shared caches."""
    root = request.app[SETTINGS].media_root
    target = await asyncio.to_thread(_existing_file, root, relative_path)
    if target is None:
        raise NotFound()
    headers = {
        **_NOSNIFF,
        "Content-Disposition": content_disposition(file_name),
        "Cache-Control": "private, no-store",
    }
    return web.FileResponse(target, headers=headers)


def _remover(root: Path, relative_path: str):  # type: ignore[no-untyped-def]
    async def remove() -> None:
        await asyncio.to_thread((root / relative_path).unlink, missing_ok=True)

    return remove


def remove_media_later(request: web.Request, *relative_paths: str | None) -> None:
    """Remove files the committed change no longer points at (a replaced thumbnail)."""
    root = request.app[SETTINGS].media_root
    for relative_path in relative_paths:
        if relative_path:
            unit_of_work(request).after_commit(_remover(root, relative_path))


def remove_media_on_rollback(request: web.Request, relative_path: str) -> None:
    """A file written for a row that is never stored must not stay behind."""
    root = request.app[SETTINGS].media_root
    unit_of_work(request).after_rollback(_remover(root, relative_path))
