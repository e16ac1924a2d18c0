"""One error hierarchy for the domain; the web layer renders it in the contract's shapes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base of every error a domain operation may raise on purpose."""

    status: int = 400
    default_detail: str = "Invalid request."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.default_detail
        super().__init__(self.detail)


class ValidationFailed(DomainError):
    """400 with per-field messages: {"field": ["message"], "status": 400}."""

    status = 400

    def __init__(self, errors: Mapping[str, Sequence[str]] | str) -> None:
        if isinstance(errors, str):
            errors = {"non_field_errors": [errors]}
        self.errors: dict[str, list[str]] = {k: list(v) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in self.errors.items()))

    @classmethod
    def field(cls, name: str, message: str) -> ValidationFailed:
        return cls({name: [message]})


def invalid_pk(value: object) -> str:
    """DRF's message for an id that names no row (or none the actor may see)."""
    return f'Invalid pk "{value}" - object does not exist.'


class BadRequest(DomainError):
    """400 with a detail message (malformed body, bad header)."""

    status = 400
    default_detail = "Malformed request."


class NotAuthenticated(DomainError):
    status = 401
    default_detail = "Authentication credentials were not provided."


class AuthenticationFailed(DomainError):
    status = 401
    default_detail = "Incorrect authentication credentials."


class PaymentRequired(DomainError):
    status = 402
    default_detail = "Payment required."


class PermissionDenied(DomainError):
    status = 403
    default_detail = "You do not have permission to perform this action."


class NotFound(DomainError):
    status = 404
    default_detail = "Not found."


class Conflict(DomainError):
    status = 409
    default_detail = "Conflict."


class PayloadTooLarge(DomainError):
    status = 413
    default_detail = "Request entity too large."


class UnsupportedMediaType(DomainError):
    status = 415
    default_detail = "Unsupported media type."


class Throttled(DomainError):
    status = 429
    default_detail = "Request was throttled."

    def __init__(self, detail: str | None = None, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(detail)
