"""The AI tutor in the browser: the answer streams in from the fake OpenAI server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import screenshot
from tests.fakes.openai_api import FakeOpenAI


@dataclass
class PausingFakeOpenAI(FakeOpenAI):
    """Sends the first piece of the answer, then waits for `go_on`: the test can see the
    answer half-written in the page before it is finished."""

    go_on: asyncio.Event = field(default_factory=asyncio.Event)

    async def _chunks(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        pieces = 0
        async for chunk in super()._chunks(body):
            yield chunk
            pieces += 1
            if pieces == 1:
                await self.go_on.wait()


@pytest.fixture
async def fake(aiohttp_server: Any) -> AsyncIterator[PausingFakeOpenAI]:
    fake = PausingFakeOpenAI()
    server = await aiohttp_server(fake.app())
    fake.url = f"http://{server.host}:{server.port}/v1"
    yield fake
    fake.go_on.set()
    fake.done.set()


@pytest.fixture
def settings(settings: Any, fake: PausingFakeOpenAI) -> Any:
    # The fake holds the answer until the test has seen it half-written: the provider
    # timeout must outlast that on a loaded CI machine (it only bounds a failure).
    return settings.model_copy(update=fake.settings(ai_timeout_seconds=120))


async def test_the_tutors_answer_streams_into_the_page_as_it_is_written(signed_in, fake):
    page = await signed_in("student", "/lms/tutor/")
    await page.get_by_label("Topic", exact=True).fill("Python functions")
    await page.get_by_label("Level").select_option("beginner")
    await page.get_by_role("button", name="Start").click()
    await expect(page.get_by_role("heading", name="Python functions")).to_be_visible()
    await expect(page.locator("#room-status")).to_have_text("Live")

    await page.get_by_label("Your question").fill("How do I define a function?")
    await page.get_by_role("button", name="Ask").click()

    answer = page.locator("#entries .entry:not(.mine)")
    await expect(page.locator("#entries .entry.mine")).to_contain_text(
        "How do I define a function?"
    )
    async with asyncio.timeout(60):
        await fake.received.wait()  # the worker asked the provider
    await expect(answer).to_have_attribute("data-status", "streaming", timeout=60_000)
    await expect(answer.locator(".text")).to_have_text(fake.answer[0])
    await screenshot(page, "tutor-streaming")
    fake.go_on.set()
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".text")).to_have_text(fake.text)
    await expect(answer).to_have_attribute("aria-busy", "false")
    await screenshot(page, "tutor-answered")
    assert page.script_errors == []
