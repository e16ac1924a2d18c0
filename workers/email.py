"""The email digest task: gather each due user's `email` notifications into one message and
send it over SMTP (LMS_SMTP_URL), retrying a refused or failed send later.

Periodic: every web process asks for it per tenant (`web/app.py: email_digest_ctx`); the
claims in `models/notifications/email.py` keep two runs at once from sending a digest twice.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import aiosmtplib
import jinja2
from sqlalchemy import select

from models.base import utcnow
from models.notifications.email import (
    ALL,
    ClaimedDigest,
    do_claim_digests,
    do_gather_digests,
    do_mark_attempt_failed,
    do_mark_sent,
    unsubscribe_token,
)
from models.settings import Settings
from models.tenancy import Tenant, TenantDomain
from workers.context import WorkerContext

log = logging.getLogger(__name__)

UNSUBSCRIBE_PATH = "/api/lms/notifications/unsubscribe/"
SMTP_TIMEOUT = 60.0
# How the unsubscribe links name each type ("Stop emails about ...").
LABELS = {
    "announcement": "announcements",
    "lesson_created": "new lessons",
    "direct_message": "direct messages",
    "mention": "mentions",
    "reply": "replies",
    "schedule_invitation": "schedule invitations",
    "schedule_changed": "schedule changes",
    "schedule_cancelled": "cancelled schedules",
    "grade": "grades",
    "certificate": "certificates",
    ALL: "any notification",
}

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates" / "email"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Smtp:
    """Where mail goes, from LMS_SMTP_URL."""

    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # smtps://: TLS from the first byte
    start_tls: bool  # ?starttls=true: upgrade a plain connection

    @classmethod
    def from_url(cls, url: str) -> Smtp:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("LMS_SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://...")
        query = parse_qs(parts.query)
        start_tls = query.get("starttls", ["false"])[-1].lower() in ("1", "true", "yes", "on")
        use_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if use_tls else 587 if start_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=start_tls,
        )

    async def send(self, message: EmailMessage) -> None:
        """Raises on any refusal (of the sender, the recipient or the data) or failure."""
        await aiosmtplib.send(
            message,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            start_tls=self.start_tls,
            timeout=SMTP_TIMEOUT,
        )


def unsubscribe_url(
    settings: Settings, base_url: str, tenant: str, user_id: str, type_: str
) -> str:
    token = unsubscribe_token(settings, tenant=tenant, user_id=user_id, type_=type_)
    return f"{base_url.rstrip('/')}{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"


def render_digest(
    settings: Settings, *, tenant: str, base_url: str, digest: ClaimedDigest
) -> EmailMessage:
    """The digest as a plain-text and HTML message, an unsubscribe link per type in it and
    the one-click List-Unsubscribe (every type) in its headers."""
    count = len(digest.items)
    subject = digest.items[0].title if count == 1 else f"{count} new notifications"
    link = functools.partial(unsubscribe_url, settings, base_url, tenant, digest.user_id)
    context = {
        "name": digest.name or digest.user_id,
        "subject": subject,
        "items": digest.items,
        "unsubscribe": [(t, link(t)) for t in [*digest.types, ALL]],
        "labels": LABELS,
    }
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.email_from
    message["To"] = formataddr((digest.name or "", digest.address))
    message["Message-ID"] = make_msgid(idstring=f"digest-{tenant}-{digest.id}")
    message["List-Unsubscribe"] = f"<{link(ALL)}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(_TEMPLATES.get_template("digest.txt").render(context))
    message.add_alternative(_TEMPLATES.get_template("digest.html").render(context), subtype="html")
    return message


async def link_base(ctx: WorkerContext, tenant: str) -> str:
    """The tenant's own domain (its first, over https), else LMS_PUBLIC_URL."""
    async with ctx.databases.core_sessions()() as session:
        domain = await session.scalar(
            select(TenantDomain.domain)
            .join(Tenant, Tenant.id == TenantDomain.tenant_id)
            .where(Tenant.slug == tenant)
            .order_by(TenantDomain.domain)
            .limit(1)
        )
    return f"https://{domain}" if domain else ctx.settings.public_url


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".strip()
    return f"{type(exc).__name__}: {exc}".strip()


async def send_digests(ctx: WorkerContext, tenant: str, now: datetime | None = None) -> None:
    """Gather what is due into digests and send every digest due; a no-op without SMTP."""
    settings = ctx.settings
    if settings.smtp_url is None:
        return
    smtp = Smtp.from_url(settings.smtp_url.get_secret_value())
    moment = now or utcnow()
    wait = timedelta(minutes=settings.email_digest_minutes)
    while await ctx.in_tenant(tenant, functools.partial(do_gather_digests, now=moment, wait=wait)):
        pass
    base_url: str | None = None
    while claimed := await ctx.in_tenant(tenant, functools.partial(do_claim_digests, now=moment)):
        base_url = base_url or await link_base(ctx, tenant)
        for digest in claimed:
            await _send_one(ctx, smtp, tenant, base_url, digest, now)


async def _send_one(
    ctx: WorkerContext,
    smtp: Smtp,
    tenant: str,
    base_url: str,
    digest: ClaimedDigest,
    now: datetime | None,
) -> None:
    try:
        message = render_digest(ctx.settings, tenant=tenant, base_url=base_url, digest=digest)
        await smtp.send(message)
    except Exception as exc:
        reason = _reason(exc)
        mark_failed = functools.partial(
            do_mark_attempt_failed,
            digest=digest,
            error=reason,
            now=now or utcnow(),
            settings=ctx.settings,
        )
        status = await ctx.in_tenant(tenant, mark_failed)
        log.warning(
            "email digest %s of %s (attempt %s): %s; now %s",
            digest.id,
            tenant,
            digest.attempt,
            reason,
            status,
        )
        return
    await ctx.in_tenant(tenant, functools.partial(do_mark_sent, digest=digest, now=now or utcnow()))
