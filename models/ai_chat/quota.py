"""Quotas of the AI tutor, counted from the usage ledger: questions per hour, tokens per day.

Both are rolling windows, per user and per tenant. Two questions sent at the same instant
may both pass a limit they reach together: a quota is a budget, not a lock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.ai_chat.tables import AiChatUsage
from models.base import utcnow
from models.errors import Throttled
from models.settings import Settings

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Quotas:
    """Limits; 0 means none."""

    user_messages_per_hour: int = 0
    tenant_messages_per_hour: int = 0
    user_tokens_per_day: int = 0
    tenant_tokens_per_day: int = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> Quotas:
        return cls(
            user_messages_per_hour=settings.ai_user_messages_per_hour,
            tenant_messages_per_hour=settings.ai_tenant_messages_per_hour,
            user_tokens_per_day=settings.ai_user_tokens_per_day,
            tenant_tokens_per_day=settings.ai_tenant_tokens_per_day,
        )


def _throttled(what: str, free_at: datetime, now: datetime) -> Throttled:
    wait = max(1, math.ceil((free_at - now).total_seconds()))
    return Throttled(
        f"AI tutor quota reached ({what}). Expected available in {wait} seconds.",
        retry_after=wait,
    )


async def _check_messages(
    session: AsyncSession, scope: ColumnElement[bool], limit: int, what: str, now: datetime
) -> None:
    since = now - HOUR
    in_window = (AiChatUsage.created_at > since) & scope
    count = int(await session.scalar(select(func.count()).where(in_window)) or 0)
    if count < limit:
        return
    # Room for one more once the (count - limit + 1) oldest questions leave the window.
    oldest_to_leave = await session.scalar(
        select(AiChatUsage.created_at)
        .where(in_window)
        .order_by(AiChatUsage.created_at, AiChatUsage.id)
        .offset(count - limit)
        .limit(1)
    )
    raise _throttled(what, (oldest_to_leave or now) + HOUR, now)


async def _check_tokens(
    session: AsyncSession, scope: ColumnElement[bool], limit: int, what: str, now: datetime
) -> None:
    since = now - DAY
    in_window = (AiChatUsage.created_at > since) & (AiChatUsage.tokens > 0) & scope
    used = int(await session.scalar(select(func.sum(AiChatUsage.tokens)).where(in_window)) or 0)
    if used < limit:
        return
    rows = await session.execute(
        select(AiChatUsage.created_at, AiChatUsage.tokens)
        .where(in_window)
        .order_by(AiChatUsage.created_at, AiChatUsage.id)
    )
    # Room again once enough of the oldest usage has left the window.
    free_at = now
    for created_at, tokens in rows:
        used -= tokens
        free_at = created_at
        if used < limit:
            break
    raise _throttled(what, free_at + DAY, now)


async def check_quota(session: AsyncSession, *, user_id: str, quotas: Quotas) -> None:
    """Throttled (429 with Retry-After) when the user or the tenant may not ask now."""
    now = utcnow()
    mine = AiChatUsage.user_id == user_id
    if quotas.user_messages_per_hour > 0:
        limit = quotas.user_messages_per_hour
        await _check_messages(session, mine, limit, f"{limit} messages per hour", now)
    if quotas.tenant_messages_per_hour > 0:
        limit = quotas.tenant_messages_per_hour
        what = f"{limit} messages per hour for this organisation"
        await _check_messages(session, true(), limit, what, now)
    if quotas.user_tokens_per_day > 0:
        limit = quotas.user_tokens_per_day
        await _check_tokens(session, mine, limit, f"{limit} tokens per day", now)
    if quotas.tenant_tokens_per_day > 0:
        limit = quotas.tenant_tokens_per_day
        what = f"{limit} tokens per day for this organisation"
        await _check_tokens(session, true(), limit, what, now)
