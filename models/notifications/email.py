"""Email digests: a user's `email` notifications gathered into one message, and its delivery.

Three steps, each its own transaction, so that no SMTP conversation ever holds a lock:

1. `do_gather_digests`: for each user whose oldest ungathered `email` notification has
   waited the digest interval, one `email_digests` row, every such notification of theirs
   pointing at it. A user with no email address in the directory gets a digest marked
   `failed` ("no email address") at once: their rows are not looked at again, and a later
   notification, once they have an address, is mailed as usual.
2. `do_claim_digests`: the digests due (`pending`, `next_attempt_at` passed), each taken
   by moving `next_attempt_at` a lease ahead and counting the attempt (`FOR UPDATE SKIP
   LOCKED` on PostgreSQL: two senders never take the same digest; SQLite has one writer).
3. The sender mails it, then `do_mark_sent`, or `do_mark_attempt_failed` (retried after a
   doubling wait, `failed` with the reason after the last attempt).

A sender that dies between sending and marking leaves the digest `pending`: once its
lease runs out it is sent again. Nothing is lost; a duplicate email is possible then.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses.file_links import _dev_material
from models.errors import ValidationFailed
from models.notifications.tables import (
    EMAIL,
    FAILED,
    IN_APP,
    PENDING,
    SENT,
    TYPES,
    EmailDigest,
    Notification,
    NotificationPreference,
)
from models.people.tables import User
from models.settings import Settings

EMAIL_DIGEST_TASK = "notifications.email_digests"
# How often each web process asks for the due digests to be sent (with LMS_SMTP_URL set).
EMAIL_TICK_SECONDS = 60.0
NO_ADDRESS = "no email address"
# A claimed digest is not taken again for this long (a send is bounded well within it).
LEASE = timedelta(minutes=10)
USERS_PER_ROUND = 200
DIGESTS_PER_CLAIM = 20


def _is_postgres(session: AsyncSession) -> bool:
    return session.bind is not None and session.bind.dialect.name == "postgresql"


async def do_gather_digests(session: AsyncSession, *, now: datetime, wait: timedelta) -> int:
    """Gather the due users' ungathered `email` notifications into one digest each (at most
    `USERS_PER_ROUND` users); how many digests were made."""
    pending = (Notification.channel == EMAIL, Notification.digest_id.is_(None))
    due = (
        select(Notification.user_id)
        .where(*pending)
        .group_by(Notification.user_id)
        .having(func.min(Notification.created_at) <= now - wait)
        .order_by(Notification.user_id)
        .limit(USERS_PER_ROUND)
    )
    users = list((await session.scalars(due)).all())
    if not users:
        return 0
    rows = select(Notification.id, Notification.user_id).where(
        *pending, Notification.user_id.in_(users)
    )
    if _is_postgres(session):
        # Another gatherer's rows are skipped, never waited for nor gathered twice.
        rows = rows.with_for_update(skip_locked=True)
    ids_of: dict[str, list[int]] = {}
    for row in await session.execute(rows.order_by(Notification.id)):
        ids_of.setdefault(row.user_id, []).append(row.id)
    if not ids_of:
        return 0
    addresses = {
        row.user_id: row.email
        for row in await session.execute(
            select(User.user_id, User.email).where(User.user_id.in_(list(ids_of)))
        )
        if row.email
    }
    values = [
        {
            "user_id": user_id,
            "address": addresses.get(user_id),
            "status": PENDING if user_id in addresses else FAILED,
            "attempts": 0,
            "last_error": "" if user_id in addresses else NO_ADDRESS,
            "created_at": now,
            "next_attempt_at": now,
        }
        for user_id in ids_of
    ]
    stmt = insert(EmailDigest).values(values).returning(EmailDigest.id, EmailDigest.user_id)
    made = (await session.execute(stmt)).all()
    empty: list[int] = []
    for digest_id, user_id in made:
        # Conditional: rows another gatherer took meanwhile (SQLite reads outside the
        # write lock) stay in its digest; a digest left with none is dropped.
        taken = await session.execute(
            update(Notification)
            .where(Notification.id.in_(ids_of[user_id]), Notification.digest_id.is_(None))
            .values(digest_id=digest_id)
            .returning(Notification.id)
            .execution_options(synchronize_session=False)
        )
        if not taken.all():
            empty.append(digest_id)
    if empty:
        await session.execute(delete(EmailDigest).where(EmailDigest.id.in_(empty)))
    return len(made) - len(empty)


@dataclass(frozen=True, slots=True)
class DigestItem:
    type: str
    title: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ClaimedDigest:
    """A digest a sender took, with what it says; `attempt` is this try's number."""

    id: int
    user_id: str
    address: str
    name: str | None
    attempt: int
    items: list[DigestItem]

    @property
    def types(self) -> list[str]:
        return list(dict.fromkeys(item.type for item in self.items))


async def do_claim_digests(
    session: AsyncSession, *, now: datetime, limit: int = DIGESTS_PER_CLAIM
) -> list[ClaimedDigest]:
    """Take up to `limit` due digests: each counted as attempted and leased for `LEASE`."""
    due = (
        select(EmailDigest.id)
        .where(EmailDigest.status == PENDING, EmailDigest.next_attempt_at <= now)
        .order_by(EmailDigest.next_attempt_at, EmailDigest.id)
        .limit(limit)
    )
    if _is_postgres(session):
        # Another sender's digests are skipped, never waited for.
        due = due.with_for_update(skip_locked=True)
    ids = list((await session.scalars(due)).all())
    if not ids:
        return []
    # The conditions again, in the UPDATE: on SQLite the SELECT ran outside the write lock,
    # and a digest another sender took meanwhile is no longer due.
    claim = (
        update(EmailDigest)
        .where(
            EmailDigest.id.in_(ids),
            EmailDigest.status == PENDING,
            EmailDigest.next_attempt_at <= now,
        )
        .values(attempts=EmailDigest.attempts + 1, next_attempt_at=now + LEASE)
        .returning(EmailDigest.id, EmailDigest.user_id, EmailDigest.address, EmailDigest.attempts)
        .execution_options(synchronize_session=False)
    )
    digests = sorted((await session.execute(claim)).all(), key=lambda d: ids.index(d.id))
    if not digests:
        return []
    ids = [d.id for d in digests]
    items: dict[int, list[DigestItem]] = {}
    stmt = (
        select(Notification)
        .where(Notification.digest_id.in_(ids))
        .order_by(Notification.created_at, Notification.id)
    )
    for n in await session.scalars(stmt):
        assert n.digest_id is not None
        items.setdefault(n.digest_id, []).append(DigestItem(n.type, n.title, n.body, n.created_at))
    names = {
        row.user_id: row.name
        for row in await session.execute(
            select(User.user_id, User.name).where(User.user_id.in_({d.user_id for d in digests}))
        )
    }
    return [
        ClaimedDigest(
            d.id, d.user_id, d.address or "", names.get(d.user_id), d.attempts, items.get(d.id, [])
        )
        for d in digests
    ]


def _this_attempt(digest: ClaimedDigest) -> Any:
    # Only the sender of this attempt may settle it (not one whose lease ran out).
    return (
        EmailDigest.id == digest.id,
        EmailDigest.status == PENDING,
        EmailDigest.attempts == digest.attempt,
    )


async def do_mark_sent(session: AsyncSession, *, digest: ClaimedDigest, now: datetime) -> None:
    await session.execute(
        update(EmailDigest)
        .where(*_this_attempt(digest))
        .values(status=SENT, sent_at=now, last_error="")
        .execution_options(synchronize_session=False)
    )


def retry_wait(settings: Settings, attempt: int) -> timedelta:
    """The wait after failed attempt `attempt` (1, 2, ...): doubling from the setting."""
    return timedelta(seconds=settings.email_retry_seconds * 2 ** (attempt - 1))


async def do_mark_attempt_failed(
    session: AsyncSession,
    *,
    digest: ClaimedDigest,
    error: str,
    now: datetime,
    settings: Settings,
) -> str:
    """Note why this attempt failed: tried again later, or `failed` after the last one.
    Returns the digest's status."""
    final = digest.attempt >= settings.email_max_attempts
    values: dict[str, Any] = {"last_error": error[:2000]}
    if final:
        values["status"] = FAILED
    else:
        values["next_attempt_at"] = now + retry_wait(settings, digest.attempt)
    await session.execute(
        update(EmailDigest)
        .where(*_this_attempt(digest))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return FAILED if final else PENDING


# Unsubscribe links: `<tenant>.<user>.<type>.<signature>`, each part base64url (the
# signature an HMAC-SHA256 over all three under a key derived for this use alone).

_INFO = b"lms/notification-unsubscribe/v1"
INVALID_TOKEN = "Invalid unsubscribe link."
# The type of a link that ends every email (the List-Unsubscribe header's).
ALL = "all"


@functools.lru_cache(maxsize=8)
def _derived_key(material: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        material.encode()
    )


def _key(settings: Settings) -> bytes:
    material = settings.secret_key or _dev_material(str(Path(settings.dev_secret_file)))
    return _derived_key(material)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(settings: Settings, tenant: str, user_id: str, type_: str) -> str:
    message = f"unsubscribe\n{tenant}\n{user_id}\n{type_}".encode()
    return _b64(hmac.new(_key(settings), message, hashlib.sha256).digest())


def unsubscribe_token(settings: Settings, *, tenant: str, user_id: str, type_: str) -> str:
    parts = [_b64(p.encode()) for p in (tenant, user_id, type_)]
    return ".".join([*parts, _signature(settings, tenant, user_id, type_)])


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    tenant: str
    user_id: str
    type: str


def check_unsubscribe_token(settings: Settings, token: str) -> Unsubscribe:
    """Who and what a token unsubscribes; anything this service did not sign is a 400."""
    parts = token.split(".")
    if len(token) > 1000 or len(parts) != 4:
        raise ValidationFailed.field("token", INVALID_TOKEN)
    try:
        tenant, user_id, type_ = (_unb64(p).decode() for p in parts[:3])
    except ValueError:
        raise ValidationFailed.field("token", INVALID_TOKEN) from None
    expected = _signature(settings, tenant, user_id, type_)
    if (type_ not in TYPES and type_ != ALL) or not hmac.compare_digest(
        expected.encode(), parts[3].encode("utf-8", "replace")
    ):
        raise ValidationFailed.field("token", INVALID_TOKEN)
    return Unsubscribe(tenant, user_id, type_)


async def do_unsubscribe(session: AsyncSession, *, user_id: str, type_: str) -> None:
    """No more email of this type (`all`: of any type) for this user: where they chose
    `email`, the channel becomes `in_app` (the inbox and the socket keep it; `off` stays
    off), and their rows of it not yet gathered into a digest stay in the inbox only."""
    types = list(TYPES) if type_ == ALL else [type_]
    # `in_app` is kept as no row (as `do_set_preferences` keeps it).
    await session.execute(
        delete(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.type.in_(types),
            NotificationPreference.channel == EMAIL,
        )
    )
    await session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.type.in_(types),
            Notification.channel == EMAIL,
            Notification.digest_id.is_(None),
        )
        .values(channel=IN_APP)
        .execution_options(synchronize_session=False)
    )
