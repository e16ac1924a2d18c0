"""Routes: messaging."""

from __future__ import annotations

from web.routing import RouteTable

routes = RouteTable()
