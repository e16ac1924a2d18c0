"""Authentication through the API: only verified tokens get in, public pages stay open."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import SECRET, Api, token_for
from tests.tokens import hand_made_token, public_pem
from web.app import create_app
from web.config import Settings

COURSES = "/api/lms/courses/courses/"
NOT_PROVIDED = {"detail": "Authentication credentials were not provided.", "status": 401}
NEW_COURSE = {
    "title": "Auth Course",
    "code": "AUTH1",
    "level": "Beginner",
    "status": "Published",
    "price": "0.00",
}

BuildApi = Callable[..., Awaitable[Api]]


# --- helpers -----------------------------------------------------------------------------


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "student-1",
        "tenant": "acme",
        "roles": ["student"],
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def assert_rejected(reply: Any, detail: str) -> None:
    assert reply.status == 401
    assert reply.body == {"detail": detail, "status": 401}
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="lms"'


@pytest.fixture
def build_api(aiohttp_client: Any, settings: Settings) -> BuildApi:
    """An app of its own, configured like the test app except for `overrides`."""

    async def build(**overrides: Any) -> Api:
        app = create_app(settings.model_copy(update=overrides))
        return Api(await aiohttp_client(app))

    return build


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- credentials -------------------------------------------------------------------------


async def test_request_without_a_token_is_401_not_provided(api: Api) -> None:
    reply = await api.get(COURSES)
    assert reply.status == 401
    assert reply.body == NOT_PROVIDED


async def test_valid_token_is_accepted(api: Api) -> None:
    reply = await api.get(COURSES, as_="student")
    assert reply.status == 200
    assert reply.body["count"] == 0


async def test_expired_token_is_401(api: Api) -> None:
    token = token_for("student-1", "student", ttl_seconds=-60)
    assert_rejected(await api.get(COURSES, token=token), "Token has expired.")


async def test_token_signed_with_another_secret_is_401(api: Api) -> None:
    forged = jwt.encode(claims(), "another-secret-that-is-long-enough-for-hs256!", "HS256")
    assert_rejected(await api.get(COURSES, token=forged), "Invalid token signature.")


async def test_alg_none_token_is_401(api: Api) -> None:
    unsigned = hand_made_token({"alg": "none", "typ": "JWT"}, claims(roles=["admin"]), None)
    assert_rejected(await api.get(COURSES, token=unsigned), "Token algorithm is not allowed.")


async def test_token_without_exp_is_401(api: Api) -> None:
    eternal = jwt.encode(claims(exp=None), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=eternal), "Token is missing the 'exp' claim.")


async def test_basic_authorization_header_is_401(api: Api) -> None:
    basic = base64.b64encode(b"admin:password").decode()
    reply = await api.get(COURSES, headers={"Authorization": f"Basic {basic}"})
    assert_rejected(reply, "Invalid Authorization header. Expected 'Bearer <token>'.")


async def test_garbage_bearer_token_is_401(api: Api) -> None:
    assert_rejected(await api.get(COURSES, token="not-a-jwt"), "Invalid token.")


async def test_token_for_a_tenant_that_does_not_exist_is_401(api: Api) -> None:
    token = token_for("admin-1", "admin", tenant="nosuchtenant")
    assert_rejected(await api.get(COURSES, token=token), "Unknown tenant.")


# --- audience and issuer -----------------------------------------------------------------


async def test_wrong_audience_is_401_when_an_audience_is_configured(build_api: BuildApi) -> None:
    client = await build_api(jwt_audience="lms")
    token = token_for("student-1", "student", audience="billing")
    assert_rejected(await client.get(COURSES, token=token), "Invalid token audience.")


async def test_missing_audience_is_401_when_an_audience_is_configured(build_api: BuildApi) -> None:
    client = await build_api(jwt_audience="lms")
    token = token_for("student-1", "student")
    assert_rejected(await client.get(COURSES, token=token), "Token is missing the 'aud' claim.")


async def test_right_audience_is_200_when_an_audience_is_configured(build_api: BuildApi) -> None:
    client = await build_api(jwt_audience="lms")
    token = token_for("student-1", "student", audience="lms")
    reply = await client.get(COURSES, token=token)
    assert reply.status == 200
    assert reply.body["results"] == []


async def test_wrong_issuer_is_401_when_an_issuer_is_configured(build_api: BuildApi) -> None:
    client = await build_api(jwt_issuer="https://auth.example.com")
    token = token_for("student-1", "student", issuer="https://evil.example.com")
    assert_rejected(await client.get(COURSES, token=token), "Invalid token issuer.")


async def test_right_issuer_is_200_when_an_issuer_is_configured(build_api: BuildApi) -> None:
    client = await build_api(jwt_issuer="https://auth.example.com")
    token = token_for("student-1", "student", issuer="https://auth.example.com")
    assert (await client.get(COURSES, token=token)).status == 200


# --- RS256 -------------------------------------------------------------------------------


async def test_rs256_token_is_accepted_with_a_public_key(
    build_api: BuildApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    client = await build_api(jwt_secret=None, jwt_public_key=public_pem(rsa_key))
    token = jwt.encode(claims(), rsa_key, algorithm="RS256")
    reply = await client.get(COURSES, token=token)
    assert reply.status == 200
    assert reply.body["count"] == 0


async def test_hs256_token_signed_with_the_public_key_is_401(
    build_api: BuildApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = public_pem(rsa_key)
    client = await build_api(jwt_secret=None, jwt_public_key=pem)
    confused = hand_made_token({"alg": "HS256", "typ": "JWT"}, claims(), pem.encode())
    assert_rejected(await client.get(COURSES, token=confused), "Token algorithm is not allowed.")


async def test_rs256_token_signed_with_another_key_is_401(
    build_api: BuildApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    client = await build_api(jwt_secret=None, jwt_public_key=public_pem(rsa_key))
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(), other, algorithm="RS256")
    assert_rejected(await client.get(COURSES, token=token), "Invalid token signature.")


async def test_hs256_token_is_401_when_only_a_public_key_is_configured(
    build_api: BuildApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    client = await build_api(jwt_secret=None, jwt_public_key=public_pem(rsa_key))
    token = token_for("admin-1", "admin")
    assert_rejected(await client.get(COURSES, token=token), "Token algorithm is not allowed.")


# --- roles -------------------------------------------------------------------------------


async def test_token_without_roles_is_a_student_who_cannot_create_a_course(api: Api) -> None:
    token = jwt.encode(claims(sub="someone-1", roles=None), SECRET, "HS256")
    reply = await api.post(COURSES, NEW_COURSE, token=token)
    assert reply.status == 403
    assert reply.body == {
        "detail": "You do not have permission to perform this action.",
        "status": 403,
    }


async def test_token_with_only_unknown_roles_is_a_student(api: Api) -> None:
    token = jwt.encode(claims(sub="someone-1", roles=["superuser"]), SECRET, "HS256")
    reply = await api.post(COURSES, NEW_COURSE, token=token)
    assert reply.status == 403


async def test_token_with_the_instructor_role_can_create_a_course(api: Api) -> None:
    reply = await api.post(COURSES, NEW_COURSE, as_="instructor")
    assert reply.status == 201
    assert reply.body["instructor_id"] == "instructor-1"


# --- public endpoints --------------------------------------------------------------------


async def test_health_needs_no_token(api: Api) -> None:
    reply = await api.get("/health/lms/")
    assert reply.status == 200
    assert reply.body["status"] == "healthy"
    assert reply.body["database"] == "connected"


async def test_openapi_schema_needs_no_token(api: Api) -> None:
    reply = await api.get("/api/lms/schema/")
    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.1")


async def test_docs_page_needs_no_token(api: Api) -> None:
    reply = await api.get("/api/lms/docs/")
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/html")


async def test_public_endpoints_ignore_an_invalid_token(api: Api) -> None:
    reply = await api.get("/health/lms/", token="not-a-jwt")
    assert reply.status == 200


# --- registered claims -------------------------------------------------------------------


async def test_token_not_valid_before_a_future_nbf_is_401(api: Api) -> None:
    early = jwt.encode(claims(nbf=int(time.time()) + 600), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=early), "Token is not yet valid.")


async def test_token_issued_in_the_future_is_401(api: Api) -> None:
    future = jwt.encode(claims(iat=int(time.time()) + 600), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=future), "Token is not yet valid.")


async def test_token_without_sub_is_401(api: Api) -> None:
    anonymous = jwt.encode(claims(sub=None), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=anonymous), "Token is missing the 'sub' claim.")


async def test_token_with_a_malformed_tenant_claim_is_401(api: Api) -> None:
    token = jwt.encode(claims(tenant="ACME"), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=token), "Invalid token tenant.")


async def test_token_with_roles_that_are_not_a_list_is_401(api: Api) -> None:
    token = jwt.encode(claims(roles="admin"), SECRET, "HS256")
    assert_rejected(await api.get(COURSES, token=token), "Invalid token roles.")


async def test_a_jwks_configured_service_accepts_a_rotated_key(
    aiohttp_server: Any, build_api: BuildApi, rsa_key: rsa.RSAPrivateKey
) -> None:
    """The app fetches the auth-service's JWKS itself; a new `kid` is picked up on refetch."""
    newer_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    published: list[dict[str, Any]] = [
        {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key())), "kid": "k1"}
    ]

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response({"keys": published})

    jwks_app = web.Application()
    jwks_app.router.add_get("/jwks.json", jwks)
    server = await aiohttp_server(jwks_app)
    api = await build_api(
        jwks_url=str(server.make_url("/jwks.json")), jwt_secret=None, jwks_min_refetch_seconds=0
    )

    first = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert (await api.get(COURSES, token=first)).status == 200

    published.append(
        {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(newer_key.public_key())), "kid": "k2"}
    )
    rotated = jwt.encode(claims(), newer_key, algorithm="RS256", headers={"kid": "k2"})
    assert (await api.get(COURSES, token=rotated)).status == 200

    unknown = jwt.encode(claims(), newer_key, algorithm="RS256", headers={"kid": "k3"})
    assert_rejected(await api.get(COURSES, token=unknown), "Unknown signing key.")
