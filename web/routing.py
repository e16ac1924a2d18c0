"""Declared endpoints: one registry drives both the router and the OpenAPI document."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# An expensive read, for the rate limiter's budget of them: always (True), or when one of
# the named query parameters is given (a schedule window's `start`/`end`, a `search`).
Expensive = bool | tuple[str, ...]
SEARCH: Expensive = ("search",)
# Paths without rate limits: health (load balancers poll it) and the web client's static
# assets (immutable files a page load fetches several of).
RATE_EXEMPT_PREFIXES = ("/health/", "/static/")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One method on one path, with the pydantic models its handler uses."""

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    paginated: bool = False
    status: int = 200
    public: bool = False
    multipart: bool = False
    # Non-JSON responses (an .ics feed, an HTML page, a media file) name their media type.
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()
    # Other success statuses with the same body: a create that finds the object answers 200.
    also: tuple[int, ...] = ()
    # The audit action of a mutating call, when the one derived from the path reads badly.
    audit: str | None = None
    # Served by a read-only unit of work (autocommit, writes refused); only `read` sets it.
    read_only: bool = False
    expensive: Expensive = False


@dataclass(slots=True)
class RouteTable:
    """Collects endpoints from every route module; `install` adds them to an app's router."""

    endpoints: list[Endpoint] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        tag: str,
        summary: str | None = None,
        body: type[BaseModel] | None = None,
        response: type[BaseModel] | None = None,
        query: type[BaseModel] | None = None,
        paginated: bool = False,
        status: int = 200,
        public: bool = False,
        multipart: bool = False,
        media_type: str = "application/json",
        errors: tuple[int, ...] = (),
        also: tuple[int, ...] = (),
        audit: str | None = None,
        read_only: bool = False,
        expensive: Expensive = False,
    ) -> Callable[[Handler], Handler]:
        """A handler of `method` on `path`, in a transaction (whatever the method)."""

        def register(handler: Handler) -> Handler:
            doc = (handler.__doc__ or "").strip().splitlines()
            self.endpoints.append(
                Endpoint(
                    method=method.upper(),
                    path=path,
                    handler=handler,
                    summary=summary or (doc[0] if doc else handler.__name__),
                    tag=tag,
                    body=body,
                    response=response,
                    query=query,
                    paginated=paginated,
                    status=status,
                    public=public,
                    multipart=multipart,
                    media_type=media_type,
                    errors=errors,
                    also=also,
                    audit=audit,
                    read_only=read_only,
                    expensive=expensive,
                )
            )
            return handler

        return register

    def read(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        """A GET shown to write nothing: no transaction, a read-only unit of work instead
        (autocommit, any write refused: models/read_only.py), retried once if the database
        drops its connection. tests/api/test_read_only_routes.py calls every one of them."""
        return self.route("GET", path, read_only=True, **options)

    def update_routes(
        self,
        path: str,
        *,
        tag: str,
        partial: type[BaseModel],
        whole: type[BaseModel],
        response: type[BaseModel],
        summary: str,
        audit: str | None = None,
    ) -> Callable[[Handler], Handler]:
        """PATCH (only the fields sent) and PUT (every required field) served by one handler."""

        def register(handler: Handler) -> Handler:
            for method, body, title in (("PATCH", partial, summary), ("PUT", whole, summary)):
                self.route(
                    method,
                    path,
                    tag=tag,
                    body=body,
                    response=response,
                    summary=title if method == "PATCH" else f"{title} (whole)",
                    audit=audit,
                )(handler)
            return handler

        return register

    def extend(self, other: RouteTable) -> None:
        self.endpoints.extend(other.endpoints)

    def read_only_handlers(self) -> frozenset[Handler]:
        """The handlers of `read` routes: they run in a read-only unit, not a transaction."""
        return frozenset(e.handler for e in self.endpoints if e.read_only)

    def expensive_reads(self) -> dict[Handler, tuple[str, ...]]:
        """Handlers of expensive reads: the query parameters that make a request one
        (empty: every request)."""
        found: dict[Handler, tuple[str, ...]] = {}
        for e in self.endpoints:
            if e.method in ("GET", "HEAD") and e.expensive is not False:
                found[e.handler] = () if e.expensive is True else e.expensive
        return found

    def install(self, app: web.Application) -> None:
        for endpoint in self.endpoints:
            app.router.add_route(endpoint.method, endpoint.path, endpoint.handler)
