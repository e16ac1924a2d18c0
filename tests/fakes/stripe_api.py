"""A fake of the part of Stripe's API the service uses, reached by the real `stripe` library.

It answers `POST /v1/payment_intents` (form-encoded, as the library sends it) and
`GET /v1/payment_intents/{id}`, keeps the first answer per `Idempotency-Key` (as Stripe
does, errors included), and records every request so tests can assert on them. `sign`
builds a `Stripe-Signature` header the way Stripe does.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY_PREFIXES = ("sk_", "rk_")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")


def _nest(form: dict[str, str]) -> dict[str, Any]:
    """`metadata[tenant]=acme` → {"metadata": {"tenant": "acme"}} (Stripe's form encoding)."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        parts = key.replace("]", "").split("[")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def _error(status: int, kind: str, message: str) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message}}, status=status)


@dataclass
class FakeStripe:
    """The fake's state: intents, stored answers per idempotency key, recorded requests."""

    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    # Set to make the next creates fail: (status, type, message).
    refuse_with: tuple[int, str, str] | None = None
    # When set, only these API keys are accepted (others: 401, as Stripe words it).
    known_keys: set[str] | None = None
    server: Any = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/payment_intents", self._create)
        app.router.add_get("/v1/payment_intents/{id}", self._retrieve)
        return app

    @property
    def creates(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    def _api_key(self, request: web.Request) -> str:
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        return key if scheme == "Bearer" else ""

    def _authorized(self, key: str) -> bool:
        known = self.known_keys is None or key in self.known_keys
        return key.startswith(API_KEY_PREFIXES) and known

    async def _create(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        recorded = Recorded("POST", request.path, dict(request.headers), _nest(form))
        self.requests.append(recorded)
        key = recorded.idempotency_key
        if key is not None and key in self.answers:
            status, body = self.answers[key]
            return web.json_response(body, status=status, headers={"Idempotent-Replayed": "true"})
        key_used = self._api_key(request)
        if not self._authorized(key_used):
            # Stripe masks the key it names.
            masked = f"{key_used[:8]}****{key_used[-4:]}"
            response = _error(401, "invalid_request_error", f"Invalid API Key provided: {masked}")
        elif self.refuse_with is not None:
            response = _error(*self.refuse_with)
        else:
            intent = self._new_intent(recorded.params)
            self.intents[intent["id"]] = intent
            response = web.json_response(intent)
        if key is not None:
            assert response.text is not None
            self.answers[key] = (response.status, json.loads(response.text))
        return response

    def _new_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        intent_id = f"pi_{secrets.token_hex(12)}"
        return {
            "id": intent_id,
            "object": "payment_intent",
            "amount": int(params["amount"]),
            "currency": params["currency"],
            "status": "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "livemode": False,
            "created": int(time.time()),
        }

    async def _retrieve(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded("GET", request.path, dict(request.headers), {}))
        intent = self.intents.get(request.match_info["id"])
        if intent is None:
            return _error(404, "invalid_request_error", "No such payment_intent.")
        return web.json_response(intent)


async def start_fake_stripe(aiohttp_server: Any) -> FakeStripe:
    """Serve a fresh fake on a local port (the `aiohttp_server` fixture stops it)."""
    fake = FakeStripe()
    fake.server = await aiohttp_server(fake.app())
    fake.url = f"http://{fake.server.host}:{fake.server.port}"
    return fake


# Webhooks

STATUS_AFTER = {
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "requires_payment_method",
}


def sign(payload: str | bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header: `t=<ts>,v1=<HMAC-SHA256 of "<ts>.<payload>">`."""
    text = payload.decode() if isinstance(payload, bytes) else payload
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.{text}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def event(kind: str, intent: dict[str, Any], *, event_id: str | None = None, **changes: Any) -> str:
    """A Stripe event about `intent` (with `changes` applied to it), as the JSON Stripe posts."""
    status = STATUS_AFTER.get(kind)
    obj = {**intent, **({"status": status} if status else {}), **changes}
    if kind == "payment_intent.payment_failed":
        obj.setdefault(
            "last_payment_error", {"message": "Your card was declined.", "code": "card_declined"}
        )
    body = {
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "type": kind,
        "api_version": "2025-01-01",
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }
    return json.dumps(body)
