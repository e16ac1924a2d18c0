"""Errors found by aiohttp's HTTP parser, answered in the contract's JSON shape.

A request line or header over aiohttp's limits (8190 bytes: a bearer token of 20 KB), or a
header line that is not one, is refused by the parser before any middleware runs; aiohttp
then answers from its connection handler, in plain text. aiohttp offers no public hook for
that answer, so the app's server makes connection handlers of a subclass whose
`handle_error` renders `{"detail", "status"}`: 431 for what is too large, 400 for anything
else malformed. It is installed on the app itself, so every runner that serves the app
(`web.run_app` in `lms serve`, the test server) uses it; tests on both guard it.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_server import Server

from web.errors import HTTP_DETAILS, error_body
from web.jsonio import json_response

__all__ = ["answer_protocol_errors_in_json"]

log = logging.getLogger(__name__)

_TOO_LARGE = (431, "Request header fields too large.")


def _status_and_detail(status: int, exc: BaseException | None) -> tuple[int, str]:
    if isinstance(exc, LineTooLong):
        return _TOO_LARGE
    if status == 500:
        return 500, "A server error occurred."
    if status in HTTP_DETAILS:
        return status, HTTP_DETAILS[status]
    try:
        return status, f"{HTTPStatus(status).phrase}."
    except ValueError:
        return status, "Error."


class _JsonErrorsHandler(RequestHandler):
    # Same layout as RequestHandler (which has __slots__), so a handler can become one.
    __slots__ = ()

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        status, detail = _status_and_detail(status, exc)
        if status >= 500:
            log.error("error handling a request from %s", request.remote, exc_info=exc)
        else:
            # A client's malformed request: a line, not a traceback, and not aiohttp's
            # message either, which quotes the line (a bearer token's first 100 bytes).
            log.info(
                "refused a malformed request from %s: %d (%s)",
                request.remote,
                status,
                type(exc).__name__,
            )
        if request.writer.output_size > 0:
            # As aiohttp's own: part of a response is out, the connection is beyond saving.
            raise ConnectionError("a response was partly sent; no error response can follow")
        response = json_response(error_body(status, detail), status=status)
        response.force_close()
        return response


class _JsonErrorsServer(Server):
    def __call__(self) -> RequestHandler:
        handler = super().__call__()
        handler.__class__ = _JsonErrorsHandler
        return handler


def answer_protocol_errors_in_json(app: web.Application) -> None:
    """Make every server the app is run on answer parser errors in JSON."""
    make_handler = app._make_handler

    def make_json_errors_server(**kwargs: Any) -> Server:
        server = make_handler(**kwargs)
        server.__class__ = _JsonErrorsServer
        return server

    # object.__setattr__: aiohttp's debug mode warns on any attribute set on an Application.
    object.__setattr__(app, "_make_handler", make_json_errors_server)
