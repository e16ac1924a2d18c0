"""Verify the auth-service's tokens and turn their claims into a Principal (docs/security.md)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.exceptions import InvalidSubjectError

from models.errors import AuthenticationFailed
from models.identity import ROLES, Principal

logger = logging.getLogger(__name__)

# Only asymmetric algorithms may come from a JWKS: an `oct` key published there would let
# anyone who can read the JWKS mint tokens.
JWKS_ALGORITHMS = frozenset({"RS256", "ES256"})
JWKS_TIMEOUT = aiohttp.ClientTimeout(total=10)

_TENANT_RE = re.compile(r"[a-z][a-z0-9_]{1,40}")
_MAX_SUBJECT_LENGTH = 128


VERIFIED_MAX = 10_000
VERIFIED_SECONDS = 300.0


class TokenVerifier:
    """Checks signature and registered claims; the key source is fixed at construction."""

    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        jwks_url: str | None = None,
        audience: str | None = None,
        issuer: str | None = None,
        http: aiohttp.ClientSession | None = None,
        jwks_min_refetch_seconds: float = 30.0,
        leeway_seconds: float = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Exactly one key source, JWKS first; the others are then ignored.
        self._static_key: RSAPublicKey | str | None = None
        self._algorithm = ""
        if not jwks_url:
            self._static_key, self._algorithm = _static_key(public_key, secret)
        self._jwks_url = jwks_url
        self._audience = audience
        self._issuer = issuer
        self._http = http
        self._min_refetch = jwks_min_refetch_seconds
        self._leeway = leeway_seconds
        self._clock = clock
        self._jwks: dict[str, jwt.PyJWK] = {}
        self._jwks_fetched_at: float | None = None
        self._jwks_lock = asyncio.Lock()
        # Verified tokens, so a client's every request does not pay the signature check again.
        self._verified: dict[str, tuple[dict[str, Any], float]] = {}

    async def verify(self, token: str) -> dict[str, Any]:
        cached = self._verified.get(token)
        if cached is not None:
            claims, until = cached
            if time.time() < until:
                return claims
            del self._verified[token]
        claims = await self._verify_signature(token)
        self._remember(token, claims)
        return claims

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        """Keep a verified token until its `exp`, at most VERIFIED_SECONDS, in a bounded map."""
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)):
            return
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.pop(next(iter(self._verified)))  # the oldest
        self._verified[token] = (claims, min(exp + self._leeway, time.time() + VERIFIED_SECONDS))

    async def _verify_signature(self, token: str) -> dict[str, Any]:
        key: jwt.PyJWK | RSAPublicKey | str
        if self._jwks_url:
            jwk = await self._jwk_for(_unverified_kid(token))
            key, algorithm = jwk, jwk.algorithm_name
        else:
            assert self._static_key is not None
            key, algorithm = self._static_key, self._algorithm
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                # PyJWT rejects any `aud` when no audience is given; an unconfigured
                # audience means "not checked" here, so the check is switched off instead.
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed(_describe(exc)) from None

    async def _jwk_for(self, kid: str) -> jwt.PyJWK:
        jwk = self._jwks.get(kid)
        if jwk is not None:
            return jwk
        async with self._jwks_lock:
            # Whoever held the lock may already have fetched the key we are waiting for.
            jwk = self._jwks.get(kid)
            if jwk is None and self._may_refetch():
                await self._refresh_jwks()
                jwk = self._jwks.get(kid)
        if jwk is None:
            detail = "Unknown signing key." if self._jwks else "Signing keys are unavailable."
            raise AuthenticationFailed(detail)
        return jwk

    def _may_refetch(self) -> bool:
        # Tokens with made-up kids must not turn into a flood of requests to the JWKS.
        last = self._jwks_fetched_at
        return last is None or self._clock() - last >= self._min_refetch

    async def _refresh_jwks(self) -> None:
        # Stamped before fetching so a failing endpoint is rate-limited too.
        self._jwks_fetched_at = self._clock()
        try:
            if self._http is not None:
                document = await self._get_jwks(self._http)
            else:
                async with aiohttp.ClientSession() as http:
                    document = await self._get_jwks(http)
            jwk_set = jwt.PyJWKSet.from_dict(document)
        except (aiohttp.ClientError, TimeoutError, ValueError, jwt.PyJWTError) as exc:
            # The previous keys stay usable; only the new kid is unavailable.
            logger.warning("Fetching the JWKS from %s failed: %r", self._jwks_url, exc)
            raise AuthenticationFailed("Signing keys are unavailable.") from None
        self._jwks = {
            jwk.key_id: jwk
            for jwk in jwk_set
            if jwk.key_id
            and jwk.algorithm_name in JWKS_ALGORITHMS
            and jwk.public_key_use in (None, "sig")
        }

    async def _get_jwks(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        assert self._jwks_url is not None
        async with http.get(self._jwks_url, timeout=JWKS_TIMEOUT, raise_for_status=True) as resp:
            # Some servers label a JWKS `application/jwk-set+json` or `text/plain`.
            document = await resp.json(content_type=None)
        if not isinstance(document, dict):
            raise ValueError("The JWKS is not a JSON object.")
        return document


def _static_key(public_key: str | None, secret: str | None) -> tuple[RSAPublicKey | str, str]:
    # The allowed algorithm follows from the configured key, never from the token
    # header; that is what defeats `alg: none` and HS/RS confusion.
    if public_key:
        loaded = load_pem_public_key(public_key.encode())
        if not isinstance(loaded, RSAPublicKey):
            raise ValueError("The JWT public key must be an RSA public key.")
        return loaded, "RS256"
    if secret:
        return secret, "HS256"
    raise ValueError("A JWT secret, public key or JWKS URL is required.")


def _unverified_kid(token: str) -> str:
    # Only the kid is read before verification; the header's `alg` is never trusted.
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        raise AuthenticationFailed("Invalid token.") from None
    if not isinstance(kid, str) or not kid:
        raise AuthenticationFailed("Unknown signing key.")
    return kid


def _describe(exc: jwt.PyJWTError) -> str:
    # PyJWT's own messages can quote header values; ours are fixed strings.
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "Token has expired."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "Token is not yet valid."
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"Token is missing the '{exc.claim}' claim."
    if isinstance(exc, jwt.InvalidAudienceError):
        return "Invalid token audience."
    if isinstance(exc, jwt.InvalidIssuerError):
        return "Invalid token issuer."
    if isinstance(exc, jwt.InvalidSignatureError):
        return "Invalid token signature."
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "Token algorithm is not allowed."
    if isinstance(exc, InvalidSubjectError):
        return "Invalid token subject."
    return "Invalid token."


def principal_from_claims(claims: Mapping[str, Any], *, default_tenant: str) -> Principal:
    """Reduce verified claims to a Principal; a malformed claim fails authentication."""
    sub = claims.get("sub")
    if (
        not isinstance(sub, str)
        or not 1 <= len(sub) <= _MAX_SUBJECT_LENGTH
        or not sub.isprintable()
        or not sub.strip()
    ):
        raise AuthenticationFailed("Invalid token subject.")

    # A JSON null is treated like an absent claim, as PyJWT's `require` does.
    tenant = claims.get("tenant")
    if tenant is None:
        tenant = default_tenant
    # fullmatch, because `$` would also accept a trailing newline.
    elif not isinstance(tenant, str) or not _TENANT_RE.fullmatch(tenant):
        raise AuthenticationFailed("Invalid token tenant.")

    raw_roles = claims.get("roles")
    if raw_roles is None:
        raw_roles = []
    if not isinstance(raw_roles, list) or not all(isinstance(r, str) for r in raw_roles):
        raise AuthenticationFailed("Invalid token roles.")
    # Roles this service does not know (another app's) are not an error, just ignored.
    roles = frozenset(r for r in raw_roles if r in ROLES) or frozenset({"student"})

    return Principal(
        user_id=sub,
        tenant=tenant,
        roles=roles,
        name=_optional_str(claims, "name"),
        email=_optional_str(claims, "email"),
        picture=_optional_str(claims, "picture"),
    )


def _optional_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise AuthenticationFailed(f"Invalid token '{name}' claim.")
    return value


def mint_token(
    *,
    secret: str,
    user: str,
    tenant: str | None,
    roles: Sequence[str],
    ttl_seconds: int = 3600,
    name: str | None = None,
    email: str | None = None,
    picture: str | None = None,
    audience: str | None = None,
    issuer: str | None = None,
    jti: str | None = None,
) -> str:
    """An HS256 development token, as the auth-service would issue it."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": user,
        "roles": list(roles),
        "iat": now,
        "exp": now + ttl_seconds,
        # The audit log's `user_login` tells tokens apart by jti.
        "jti": jti or uuid.uuid4().hex,
    }
    optional = {
        "tenant": tenant,
        "name": name,
        "email": email,
        "picture": picture,
        "aud": audience,
        "iss": issuer,
    }
    claims.update({k: v for k, v in optional.items() if v is not None})
    return jwt.encode(claims, secret, algorithm="HS256")
