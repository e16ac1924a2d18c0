"""Token verification: signature, registered claims, JWKS caching and claims."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from models.errors import AuthenticationFailed
from tests.tokens import b64url, hand_made_token, public_pem
from web.tokens import TokenVerifier, mint_token, principal_from_claims

# At least 32 bytes: shorter HMAC keys make PyJWT warn, and warnings are errors here.
SECRET = "unit-test-secret-0123456789abcdefghijklmnop"


# --- helpers -----------------------------------------------------------------------------


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": "user-123", "iat": now, "exp": now + 300}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class FakeJwks:
    url: str
    keys: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    status: int = 200


async def rejection(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        await verifier.verify(token)
    return caught.value.detail


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def hs_verifier() -> TokenVerifier:
    return TokenVerifier(secret=SECRET)


@pytest.fixture
def rs_verifier(rsa_key: rsa.RSAPrivateKey) -> TokenVerifier:
    return TokenVerifier(public_key=public_pem(rsa_key))


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def jwks(aiohttp_server: Callable[..., Any]) -> FakeJwks:
    state = FakeJwks(url="")

    async def serve(request: web.Request) -> web.Response:
        state.requests += 1
        if state.status != 200:
            return web.Response(status=state.status, text="unavailable")
        return web.json_response({"keys": state.keys})

    app = web.Application()
    app.router.add_get("/.well-known/jwks.json", serve)
    server = await aiohttp_server(app)
    state.url = str(server.make_url("/.well-known/jwks.json"))
    return state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_verifier(jwks: FakeJwks, http: aiohttp.ClientSession, clock: FakeClock) -> TokenVerifier:
    return TokenVerifier(jwks_url=jwks.url, http=http, clock=clock, jwks_min_refetch_seconds=30)


# --- HS256 -------------------------------------------------------------------------------


async def test_valid_hs256_token_is_accepted(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(tenant="acme"), SECRET, algorithm="HS256")
    verified = await hs_verifier.verify(token)
    assert verified["sub"] == "user-123"
    assert verified["tenant"] == "acme"


async def test_expired_token_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Token has expired."


async def test_expired_token_within_leeway_is_accepted() -> None:
    verifier = TokenVerifier(secret=SECRET, leeway_seconds=60)
    token = jwt.encode(claims(exp=int(time.time()) - 10), SECRET, algorithm="HS256")
    assert (await verifier.verify(token))["sub"] == "user-123"


async def test_token_signed_with_another_secret_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(), SECRET + "-forged", algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Invalid token signature."


async def test_token_with_tampered_payload_is_rejected(hs_verifier: TokenVerifier) -> None:
    header, _, signature = jwt.encode(claims(), SECRET, algorithm="HS256").split(".")
    payload = b64url(json.dumps(claims(roles=["admin"])).encode())
    assert await rejection(hs_verifier, f"{header}.{payload}.{signature}") == (
        "Invalid token signature."
    )


@pytest.mark.parametrize("verifier_name", ["hs_verifier", "rs_verifier"])
async def test_alg_none_token_is_rejected(
    verifier_name: str, request: pytest.FixtureRequest
) -> None:
    verifier: TokenVerifier = request.getfixturevalue(verifier_name)
    token = hand_made_token({"alg": "none", "typ": "JWT"}, claims(), key=None)
    assert await rejection(verifier, token) == "Token algorithm is not allowed."


async def test_hs256_token_signed_with_rsa_public_key_is_rejected(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = hand_made_token(
        {"alg": "HS256", "typ": "JWT"}, claims(), key=public_pem(rsa_key).encode()
    )
    assert await rejection(rs_verifier, token) == "Token algorithm is not allowed."


async def test_rs256_token_is_rejected_by_hs256_verifier(
    hs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert await rejection(hs_verifier, token) == "Token algorithm is not allowed."


async def test_token_without_exp_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(exp=None), SECRET, algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Token is missing the 'exp' claim."


async def test_token_without_sub_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(sub=None), SECRET, algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Token is missing the 'sub' claim."


async def test_token_not_yet_valid_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(nbf=int(time.time()) + 600), SECRET, algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Token is not yet valid."


async def test_token_issued_in_the_future_is_rejected(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(claims(iat=int(time.time()) + 600), SECRET, algorithm="HS256")
    assert await rejection(hs_verifier, token) == "Token is not yet valid."


@pytest.mark.parametrize(
    "garbage", ["", "not-a-token", "a.b.c", "e30", "....", "eyJhbGciOiJIUzI1NiJ9.!!!.c2ln"]
)
async def test_malformed_token_is_rejected(hs_verifier: TokenVerifier, garbage: str) -> None:
    assert await rejection(hs_verifier, garbage) == "Invalid token."


# --- audience and issuer -----------------------------------------------------------------


async def test_wrong_audience_is_rejected_when_audience_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="lms")
    token = jwt.encode(claims(aud="billing"), SECRET, algorithm="HS256")
    assert await rejection(verifier, token) == "Invalid token audience."


async def test_missing_audience_is_rejected_when_audience_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="lms")
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert await rejection(verifier, token) == "Token is missing the 'aud' claim."


async def test_matching_audience_is_accepted_when_audience_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="lms")
    token = jwt.encode(claims(aud=["billing", "lms"]), SECRET, algorithm="HS256")
    assert (await verifier.verify(token))["aud"] == ["billing", "lms"]


async def test_audience_claim_is_accepted_when_audience_not_configured(
    hs_verifier: TokenVerifier,
) -> None:
    token = jwt.encode(claims(aud="anything"), SECRET, algorithm="HS256")
    assert (await hs_verifier.verify(token))["aud"] == "anything"


async def test_wrong_issuer_is_rejected_when_issuer_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, issuer="https://auth.example")
    token = jwt.encode(claims(iss="https://evil.example"), SECRET, algorithm="HS256")
    assert await rejection(verifier, token) == "Invalid token issuer."


async def test_matching_issuer_is_accepted_when_issuer_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, issuer="https://auth.example")
    token = jwt.encode(claims(iss="https://auth.example"), SECRET, algorithm="HS256")
    assert (await verifier.verify(token))["iss"] == "https://auth.example"


# --- RS256 with a public key -------------------------------------------------------------


async def test_rs256_token_is_accepted_with_public_key(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert (await rs_verifier.verify(token))["sub"] == "user-123"


async def test_rs256_token_signed_by_another_key_is_rejected(
    rs_verifier: TokenVerifier, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(), other_rsa_key, algorithm="RS256")
    assert await rejection(rs_verifier, token) == "Invalid token signature."


async def test_public_key_takes_precedence_over_secret(rsa_key: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier(secret=SECRET, public_key=public_pem(rsa_key))
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert await rejection(verifier, token) == "Token algorithm is not allowed."


def test_verifier_without_key_source_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="required"):
        TokenVerifier()


def test_non_rsa_public_key_is_a_configuration_error(ec_key: ec.EllipticCurvePrivateKey) -> None:
    ec_pem = (
        ec_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="RSA"):
        TokenVerifier(public_key=ec_pem)


# --- JWKS --------------------------------------------------------------------------------


async def test_jwks_token_with_known_kid_is_accepted(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert (await jwks_verifier.verify(token))["sub"] == "user-123"
    assert (await jwks_verifier.verify(token))["sub"] == "user-123"
    assert jwks.requests == 1


async def test_jwks_es256_key_is_accepted(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    jwks.keys = [{**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "ec1"}]
    token = jwt.encode(claims(), ec_key, algorithm="ES256", headers={"kid": "ec1"})
    assert (await jwks_verifier.verify(token))["sub"] == "user-123"


async def test_jwks_unknown_kid_triggers_refetch(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    await jwks_verifier.verify(jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"}))
    clock.now += 31
    unknown = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "nope"})
    assert await rejection(jwks_verifier, unknown) == "Unknown signing key."
    assert jwks.requests == 2


async def test_jwks_rotated_key_is_accepted_after_refetch_interval(
    jwks: FakeJwks,
    jwks_verifier: TokenVerifier,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    await jwks_verifier.verify(jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"}))
    jwks.keys = [rsa_jwk(other_rsa_key, "k2")]
    clock.now += 31
    rotated = jwt.encode(claims(), other_rsa_key, algorithm="RS256", headers={"kid": "k2"})
    assert (await jwks_verifier.verify(rotated))["sub"] == "user-123"


async def test_jwks_refetch_is_rate_limited(
    jwks: FakeJwks,
    jwks_verifier: TokenVerifier,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    await jwks_verifier.verify(jwt.encode(claims(), rsa_key, "RS256", headers={"kid": "k1"}))
    jwks.keys.append(rsa_jwk(other_rsa_key, "k2"))
    new_key_token = jwt.encode(claims(), other_rsa_key, algorithm="RS256", headers={"kid": "k2"})

    clock.now += 10
    for _ in range(5):
        assert await rejection(jwks_verifier, new_key_token) == "Unknown signing key."
    assert jwks.requests == 1

    clock.now += 20
    assert (await jwks_verifier.verify(new_key_token))["sub"] == "user-123"
    assert jwks.requests == 2


async def test_concurrent_verifications_share_one_jwks_fetch(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    results = await asyncio.gather(*(jwks_verifier.verify(token) for _ in range(10)))
    assert all(r["sub"] == "user-123" for r in results)
    assert jwks.requests == 1


async def test_jwks_token_without_kid_is_rejected(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    assert await rejection(jwks_verifier, token) == "Unknown signing key."


async def test_jwks_hs256_token_signed_with_published_key_is_rejected(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    token = hand_made_token(
        {"alg": "HS256", "kid": "k1"}, claims(), key=json.dumps(jwks.keys[0]).encode()
    )
    assert await rejection(jwks_verifier, token) == "Token algorithm is not allowed."


async def test_jwks_symmetric_key_is_ignored(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    shared = b"published-symmetric-key-0123456789abcdef"
    jwks.keys = [rsa_jwk(rsa_key, "k1"), {"kty": "oct", "kid": "hs", "k": b64url(shared)}]
    token = hand_made_token({"alg": "HS256", "kid": "hs"}, claims(), key=shared)
    assert await rejection(jwks_verifier, token) == "Unknown signing key."


async def test_jwks_server_down_raises_authentication_failed(
    http: aiohttp.ClientSession, rsa_key: rsa.RSAPrivateKey
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verifier = TokenVerifier(jwks_url=f"http://127.0.0.1:{port}/jwks.json", http=http)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert await rejection(verifier, token) == "Signing keys are unavailable."


@pytest.mark.parametrize("status", [500, 404])
async def test_jwks_server_error_raises_authentication_failed(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey, status: int
) -> None:
    jwks.status = status
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert await rejection(jwks_verifier, token) == "Signing keys are unavailable."


async def test_jwks_failure_keeps_previously_fetched_keys(
    jwks: FakeJwks, jwks_verifier: TokenVerifier, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    await jwks_verifier.verify(token)
    jwks.status = 500
    clock.now += 31
    unknown = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k9"})
    assert await rejection(jwks_verifier, unknown) == "Signing keys are unavailable."
    assert (await jwks_verifier.verify(token))["sub"] == "user-123"


async def test_jwks_is_fetched_without_a_shared_session(
    jwks: FakeJwks, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    verifier = TokenVerifier(jwks_url=jwks.url)
    token = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert (await verifier.verify(token))["sub"] == "user-123"


async def test_jwks_url_takes_precedence_over_secret(
    jwks: FakeJwks, http: aiohttp.ClientSession, rsa_key: rsa.RSAPrivateKey
) -> None:
    jwks.keys = [rsa_jwk(rsa_key, "k1")]
    verifier = TokenVerifier(jwks_url=jwks.url, secret=SECRET, http=http)
    token = jwt.encode(claims(), SECRET, algorithm="HS256", headers={"kid": "k1"})
    assert await rejection(verifier, token) == "Token algorithm is not allowed."


# --- principal_from_claims ---------------------------------------------------------------


def test_principal_takes_sub_tenant_roles_name_and_email() -> None:
    principal = principal_from_claims(
        {
            "sub": "user-123",
            "tenant": "acme",
            "roles": ["instructor", "admin"],
            "name": "Ada",
            "email": "ada@example.com",
        },
        default_tenant="default",
    )
    assert principal.user_id == "user-123"
    assert principal.tenant == "acme"
    assert principal.roles == frozenset({"instructor", "admin"})
    assert (principal.name, principal.email) == ("Ada", "ada@example.com")


def test_principal_without_roles_is_a_student() -> None:
    principal = principal_from_claims({"sub": "u1"}, default_tenant="default")
    assert principal.roles == frozenset({"student"})


def test_principal_unknown_roles_are_ignored() -> None:
    principal = principal_from_claims(
        {"sub": "u1", "roles": ["superuser", "instructor"]}, default_tenant="default"
    )
    assert principal.roles == frozenset({"instructor"})


@pytest.mark.parametrize("roles", [[], ["superuser"]])
def test_principal_with_no_known_roles_is_a_student(roles: list[str]) -> None:
    principal = principal_from_claims({"sub": "u1", "roles": roles}, default_tenant="default")
    assert principal.roles == frozenset({"student"})


@pytest.mark.parametrize("roles", ["admin", {"admin": True}, 1, ["admin", 1]])
def test_principal_with_non_list_roles_is_rejected(roles: Any) -> None:
    with pytest.raises(AuthenticationFailed, match="roles"):
        principal_from_claims({"sub": "u1", "roles": roles}, default_tenant="default")


def test_principal_without_tenant_gets_default_tenant() -> None:
    principal = principal_from_claims({"sub": "u1"}, default_tenant="default")
    assert principal.tenant == "default"


@pytest.mark.parametrize(
    "tenant", ["", "a", "Acme", "1acme", "ac-me", "acme\n", "a" * 42, "public schema", 7]
)
def test_principal_with_malformed_tenant_is_rejected(tenant: Any) -> None:
    with pytest.raises(AuthenticationFailed, match="tenant"):
        principal_from_claims({"sub": "u1", "tenant": tenant}, default_tenant="default")


@pytest.mark.parametrize("sub", ["", "   ", "u" * 129, "user\n1", "tab\there", 123, None])
def test_principal_with_malformed_subject_is_rejected(sub: Any) -> None:
    with pytest.raises(AuthenticationFailed, match="subject"):
        principal_from_claims({"sub": sub}, default_tenant="default")


def test_principal_subject_of_128_characters_is_accepted() -> None:
    principal = principal_from_claims({"sub": "u" * 128}, default_tenant="default")
    assert principal.user_id == "u" * 128


@pytest.mark.parametrize("claim", ["name", "email"])
def test_principal_with_non_string_profile_claim_is_rejected(claim: str) -> None:
    with pytest.raises(AuthenticationFailed, match=claim):
        principal_from_claims({"sub": "u1", claim: 42}, default_tenant="default")


# --- mint_token --------------------------------------------------------------------------


async def test_minted_token_is_accepted_and_carries_its_claims(
    hs_verifier: TokenVerifier,
) -> None:
    token = mint_token(
        secret=SECRET, user="user-1", tenant="acme", roles=["admin"], ttl_seconds=120, name="A"
    )
    verified = await hs_verifier.verify(token)
    assert verified["sub"] == "user-1"
    assert verified["tenant"] == "acme"
    assert verified["roles"] == ["admin"]
    assert verified["name"] == "A"
    assert verified["exp"] - verified["iat"] == 120
    assert len(verified["jti"]) == 32
    assert "email" not in verified


async def test_minted_token_without_tenant_has_no_tenant_claim(
    hs_verifier: TokenVerifier,
) -> None:
    token = mint_token(secret=SECRET, user="user-1", tenant=None, roles=[])
    assert "tenant" not in await hs_verifier.verify(token)


def test_minted_tokens_get_distinct_jti() -> None:
    first, second = (
        jwt.decode(
            mint_token(secret=SECRET, user="u", tenant=None, roles=[]),
            SECRET,
            algorithms=["HS256"],
        )["jti"]
        for _ in range(2)
    )
    assert first != second


async def test_minted_token_with_audience_and_issuer_passes_configured_checks() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="lms", issuer="dev")
    token = mint_token(
        secret=SECRET, user="u", tenant=None, roles=[], audience="lms", issuer="dev", jti="fixed"
    )
    assert (await verifier.verify(token))["jti"] == "fixed"
