"""Uploaded files: their public URLs, and removal tied to the request's transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from models.errors import NotFound
from web.handlers import unit_of_work
from web.keys import SETTINGS
from web.routing import RouteTable

MEDIA_PREFIX = "/media/"
routes = RouteTable()


def _existing_file(root: Path, relative_path: str) -> Path | None:
    """The file under root, if it is one; `..` or a link can never lead outside root."""
    base = root.resolve()
    target = (base / relative_path).resolve()
    return target if target.is_relative_to(base) and target.is_file() else None


@routes.route(
    "GET",
    MEDIA_PREFIX + "{path:.+}",
    tag="media",
    public=True,
    media_type="application/octet-stream",
)
async def serve_media(request: web.Request) -> web.StreamResponse:
    """An uploaded file (thumbnails, lesson files); names are generated and unguessable."""
    root = request.app[SETTINGS].media_root
    target = await asyncio.to_thread(_existing_file, root, request.match_info["path"])
    if target is None:
        raise NotFound()
    # Stored extensions are never active content (see web/uploads.py); nosniff keeps
    # browsers from guessing otherwise.
    return web.FileResponse(target, headers={"X-Content-Type-Options": "nosniff"})


def media_url(relative_path: str | None) -> str | None:
    return MEDIA_PREFIX + relative_path if relative_path else None


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
