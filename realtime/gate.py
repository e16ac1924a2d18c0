"""What the sockets need from the web app, handed in by the app factory (realtime never
imports web): who a token names, a unit of work for a tenant, and the hub."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web

from models.identity import Principal
from models.settings import Settings
from models.unit_of_work import UnitOpener
from realtime.hub import Hub


@dataclass(frozen=True)
class SocketGate:
    settings: Settings
    hub: Hub
    authenticate: Callable[[web.Request, str], Awaitable[Principal]]
    unit_of_work: UnitOpener

    def origin_allowed(self, request: web.Request) -> bool:
        """No Origin (not a browser), an allowed one, or the page's own.

        aiohttp checks no Origin of its own: without this, any site could open a socket
        with a visitor's token (cross-site WebSocket hijacking).
        """
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        if origin in self.settings.allowed_origins:
            return True
        return urlsplit(origin).netloc.lower() == request.host.lower()


GATE = web.AppKey("socket_gate", SocketGate)
