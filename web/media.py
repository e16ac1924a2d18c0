"""Uploaded files: their public URLs, and removal tied to the request's transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from web.handlers import unit_of_work
from web.keys import SETTINGS

MEDIA_PREFIX = "/media/"


def media_url(relative_path: str | None) -> str | None:
    return MEDIA_PREFIX + relative_path if relative_path else None


def _remover(root: Path, relative_path: str):  # type: ignore[no-untyped-def]
    async def remove() -> None:
        await asyncio.to_thread((root / relative_path).unlink, missing_ok=True)

    return remove


def remove_media_later(request: web.Request, relative_path: str | None) -> None:
    """Remove a file the committed change no longer points at (a replaced thumbnail)."""
    if relative_path:
        root = request.app[SETTINGS].media_root
        unit_of_work(request).after_commit(_remover(root, relative_path))


def remove_media_on_rollback(request: web.Request, relative_path: str) -> None:
    """A file written for a row that is never stored must not stay behind."""
    root = request.app[SETTINGS].media_root
    unit_of_work(request).after_rollback(_remover(root, relative_path))
