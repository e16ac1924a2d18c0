"""What the commerce tests share: a local Stripe the service's Stripe library talks to, the
settings that point at it, and a paid course to buy."""

from __future__ import annotations

from typing import Any

import pytest

from models.settings import Settings
from tests.fakes.commerce import commerce_settings
from tests.fakes.stripe_api import FakeStripe, start_fake_stripe


@pytest.fixture
async def fake_stripe(aiohttp_server: Any) -> FakeStripe:
    return await start_fake_stripe(aiohttp_server)


@pytest.fixture
def settings(settings: Settings, fake_stripe: FakeStripe) -> Settings:
    return commerce_settings(settings, stripe_api_base=fake_stripe.url)


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    return await make.course(title="Python Programming Fundamentals", price="99.99")
