"""Verified tokens are remembered until they expire, so repeat requests skip the signature."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from models.errors import AuthenticationFailed
from web import tokens
from web.tokens import TokenVerifier

SECRET = "unit-test-secret-0123456789abcdefghijklmnop"


def signed(**claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"sub": "user-1", "iat": now, "exp": now + 60, **claims}, SECRET, "HS256")


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the signature checks PyJWT makes."""
    calls: list[str] = []
    real = jwt.decode

    def counting(token: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(token)
        return real(token, *args, **kwargs)

    monkeypatch.setattr(tokens.jwt, "decode", counting)
    return calls


async def test_a_token_verified_once_is_not_checked_again(decodes):
    verifier = TokenVerifier(secret=SECRET)
    token = signed()

    first = await verifier.verify(token)
    second = await verifier.verify(token)

    assert first == second
    assert decodes == [token]


async def test_a_remembered_token_is_checked_again_once_its_exp_has_passed(decodes, monkeypatch):
    verifier = TokenVerifier(secret=SECRET)
    token = signed()
    await verifier.verify(token)
    later = time.time() + 120  # past the token's exp (60 s): the memory no longer vouches
    monkeypatch.setattr(tokens.time, "time", lambda: later)

    await verifier.verify(token)  # PyJWT's own clock is not moved: it passes again

    assert decodes == [token, token]


async def test_a_refused_token_is_never_remembered(decodes):
    verifier = TokenVerifier(secret=SECRET)
    forged = signed()[:-2] + "xx"

    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            await verifier.verify(forged)
    assert decodes == [forged, forged]


async def test_the_memory_is_bounded(monkeypatch):
    monkeypatch.setattr(tokens, "VERIFIED_MAX", 3)
    verifier = TokenVerifier(secret=SECRET)

    for n in range(5):
        await verifier.verify(signed(jti=str(n)))

    assert len(verifier._verified) == 3
