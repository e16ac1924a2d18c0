"""A fake OpenAI-compatible server, reached by the real `openai` library.

It answers `POST /v1/chat/completions`, streaming (server-sent events, with a final usage
chunk when `stream_options.include_usage` asks for one) or not, and records every request
body so tests can read the prompt it was sent. Modes: `answer` (the chunks of `answer`),
`error` (HTTP 500), `hang` (never answers until the test ends).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from pydantic import SecretStr

API_KEY = "sk-test-fake-openai-key"
MODEL = "tutor-test-model"
ANSWER = ("Functions ", "are defined ", "with `def`.")
USAGE = {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}

Mode = Literal["answer", "error", "hang"]


@dataclass
class FakeOpenAI:
    url: str = ""
    mode: Mode = "answer"
    answer: tuple[str, ...] = ANSWER
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    # Set on each request: the test knows a worker is now waiting on the provider.
    received: asyncio.Event = field(default_factory=asyncio.Event)
    # While set, answers wait for `release` (a test can look at an unfinished answer).
    hold: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the test ends: a hanging request lets go.
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def text(self) -> str:
        return "".join(self.answer)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        return app

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """Settings pointing the service at this fake."""
        return {
            "ai_base_url": self.url,
            "ai_api_key": SecretStr(API_KEY),
            "ai_model": MODEL,
            "ai_timeout_seconds": 5.0,
            "ai_max_retries": 0,
            **overrides,
        }

    def prompt_text(self, index: int = -1) -> str:
        """Everything one request asked, its system prompt included."""
        return "\n".join(m["content"] for m in self.requests[index]["messages"])

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.headers.append(dict(request.headers))
        self.received.set()
        if self.mode == "hang":
            await self.done.wait()
            return web.Response(status=503)
        if self.mode == "error":
            error = {"message": "The fake provider broke.", "type": "server_error"}
            return web.json_response({"error": error}, status=500)
        if self.hold:
            await self.release.wait()
        if body.get("stream"):
            return await self._stream(request, body)
        return web.json_response(self._completion(body))

    def _completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": USAGE,
        }

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        async for chunk in self._chunks(body):
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _chunks(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        base = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body["model"],
        }
        for i, piece in enumerate(self.answer):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await asyncio.sleep(0)  # each piece its own write, as a real server sends them
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        if (body.get("stream_options") or {}).get("include_usage"):
            yield {**base, "choices": [], "usage": USAGE}


async def start_fake_openai(aiohttp_server: Any) -> FakeOpenAI:
    """Serve a fresh fake on a local port (the `aiohttp_server` fixture stops it)."""
    fake = FakeOpenAI()
    server = await aiohttp_server(fake.app())
    fake.url = f"http://{server.host}:{server.port}/v1"
    return fake
