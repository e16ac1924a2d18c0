"""Email digests sent to a local SMTP server: one per user, retried, never sent twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.notifications.email import (
    LEASE,
    NO_ADDRESS,
    check_unsubscribe_token,
    do_claim_digests,
    do_gather_digests,
    do_unsubscribe,
)
from models.notifications.operations import Note
from models.notifications.tables import (
    EMAIL,
    FAILED,
    PENDING,
    SENT,
    EmailDigest,
    Notification,
    NotificationPreference,
)
from models.people.tables import User
from models.settings import Settings
from models.tenancy import Databases
from tests.conftest import free_port
from tests.workers.conftest import NoTasks
from web.handlers import open_unit
from workers.context import WorkerContext
from workers.email import UNSUBSCRIBE_PATH, Smtp, send_digests
from workers.notifications import deliver

TENANT = "acme"
MAX_ATTEMPTS = 3
RETRY_SECONDS = 60


class Inbox:
    """An SMTP server's handler: keeps what it accepts; refuses the first `refuse` recipients
    with a 450 (a temporary refusal)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse = 0
        self.refused = 0
        self._lock = threading.Lock()
        self.arrived = threading.Event()  # set by each message accepted
        self.port = 0  # where the server listens, once started

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self._lock:
            if self.refuse > 0:
                self.refuse -= 1
                self.refused += 1
                return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
        self.arrived.set()
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The task alone, in this process: both backends."""
    return str(request.param)


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


@pytest.fixture
async def contexts(
    api: Any, settings: Settings, inbox: Inbox
) -> AsyncIterator[Callable[..., WorkerContext]]:
    """Worker contexts on the test's databases (`api` empties them afterwards), mailing to
    the local server unless told otherwise."""
    made: list[WorkerContext] = []

    def make(**overrides: Any) -> WorkerContext:
        changes: dict[str, Any] = {
            "smtp_url": f"smtp://127.0.0.1:{inbox.port}",
            "email_from": "LMS <lms@acme.test>",
            "email_digest_minutes": 0,
            "email_max_attempts": MAX_ATTEMPTS,
            "email_retry_seconds": RETRY_SECONDS,
        }
        changes.update(overrides)
        worker_settings = Settings.model_validate({**settings.model_dump(), **changes})
        context = WorkerContext(
            worker_settings, Databases.connect(settings.database_url), NoTasks(), None
        )
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
def ctx(contexts: Callable[..., WorkerContext]) -> WorkerContext:
    return contexts()


async def add_user(ctx: WorkerContext, user_id: str, address: str | None, *types: str) -> None:
    """A user in the directory who chose email for these types."""

    async def add(session: AsyncSession) -> None:
        session.add(User(user_id=user_id, name=user_id.title(), email=address))
        session.add_all(
            NotificationPreference(user_id=user_id, type=t, channel=EMAIL) for t in types
        )

    await ctx.in_tenant(TENANT, add)


async def notify(ctx: WorkerContext, key: str, type_: str, title: str, *users: str) -> None:
    note = Note(type_, key, title, f"About {title}.", {})
    await deliver(ctx, TENANT, note.to_json(), {"users": list(users)})


async def digests(ctx: WorkerContext) -> list[EmailDigest]:
    async def read(session: AsyncSession) -> list[EmailDigest]:
        return list((await session.scalars(select(EmailDigest).order_by(EmailDigest.id))).all())

    return await ctx.in_tenant(TENANT, read)


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None and part.get_content_type() == f"text/{subtype}"
    return str(part.get_content())


def tokens_in(text: str) -> list[str]:
    marker = UNSUBSCRIBE_PATH + "?token="
    return [chunk.split()[0].split('"')[0] for chunk in text.split(marker)[1:]]


async def test_a_user_gets_one_digest_with_a_text_and_an_html_part(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement", "mention")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    await notify(ctx, "mention:1", "mention", "Bob mentioned you", "ada")

    await send_digests(ctx, TENANT)

    [message] = inbox.messages
    assert message["To"].addresses[0].addr_spec == "ada@example.org"
    assert message["From"].addresses[0].addr_spec == "lms@acme.test"
    assert message["Subject"] == "2 new notifications"
    for subtype in ("plain", "html"):
        body = text_of(message, subtype)
        assert "Exam moved" in body and "About Exam moved." in body
        assert "Bob mentioned you" in body and "About Bob mentioned you." in body


async def test_a_digest_has_an_unsubscribe_link_per_type_and_a_one_click_header(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement", "mention")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    await notify(ctx, "mention:1", "mention", "Bob mentioned you", "ada")

    await send_digests(ctx, TENANT)

    [message] = inbox.messages
    settings = ctx.settings
    for subtype in ("plain", "html"):
        tokens = tokens_in(text_of(message, subtype).replace("&amp;", "&"))
        targets = [check_unsubscribe_token(settings, parse_qs(f"t={t}")["t"][0]) for t in tokens]
        assert [(t.tenant, t.user_id, t.type) for t in targets] == [
            (TENANT, "ada", "announcement"),
            (TENANT, "ada", "mention"),
            (TENANT, "ada", "all"),
        ]
    header = str(message["List-Unsubscribe"])
    url = urlsplit(header.strip("<>"))
    assert url.scheme == "https" and url.netloc == "acme.test" and url.path == UNSUBSCRIBE_PATH
    assert check_unsubscribe_token(settings, parse_qs(url.query)["token"][0]).type == "all"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_each_user_gets_one_digest_of_their_own_notifications(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await add_user(ctx, "bob", "bob@example.org", "announcement", "reply")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada", "bob")
    await notify(ctx, "announcement:2", "announcement", "Room changed", "ada", "bob")
    await notify(ctx, "reply:1", "reply", "Cy replied", "bob")

    await send_digests(ctx, TENANT)

    assert len(inbox.messages) == 2
    [to_ada] = inbox.to("ada@example.org")
    [to_bob] = inbox.to("bob@example.org")
    assert "Cy replied" not in text_of(to_ada, "plain")
    assert all(
        title in text_of(to_bob, "plain") for title in ("Exam moved", "Room changed", "Cy replied")
    )


async def test_notifications_delivered_in_app_are_never_mailed(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "mention")  # email for mentions only
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")

    await send_digests(ctx, TENANT)

    assert inbox.messages == []
    assert await digests(ctx) == []


async def test_a_rerun_sends_nothing_twice(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")

    await send_digests(ctx, TENANT)
    await send_digests(ctx, TENANT)

    assert len(inbox.messages) == 1
    [digest] = await digests(ctx)
    assert (digest.status, digest.attempts, digest.sent_at is not None) == (SENT, 1, True)


async def test_a_later_notification_goes_out_in_a_digest_of_its_own(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    await send_digests(ctx, TENANT)

    await notify(ctx, "announcement:2", "announcement", "Room changed", "ada")
    await send_digests(ctx, TENANT)

    assert [m["Subject"] for m in inbox.messages] == ["Exam moved", "Room changed"]


async def test_notifications_wait_for_the_digest_interval_and_go_out_together(contexts, inbox):
    ctx = contexts(email_digest_minutes=15)
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    await notify(ctx, "announcement:2", "announcement", "Room changed", "ada")

    await send_digests(ctx, TENANT)
    assert inbox.messages == []

    await send_digests(ctx, TENANT, now=utcnow() + timedelta(minutes=16))
    [message] = inbox.messages
    assert "Exam moved" in text_of(message, "plain")
    assert "Room changed" in text_of(message, "plain")


async def test_a_refused_send_is_retried_after_its_wait_then_sent(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    inbox.refuse = 1
    start = utcnow()

    await send_digests(ctx, TENANT, now=start)
    [digest] = await digests(ctx)
    assert (digest.status, digest.attempts, inbox.messages) == (PENDING, 1, [])
    assert "450" in digest.last_error and "Mailbox busy" in digest.last_error

    await send_digests(ctx, TENANT, now=start + timedelta(seconds=RETRY_SECONDS + 1))
    [digest] = await digests(ctx)
    assert (digest.status, digest.attempts, len(inbox.messages)) == (SENT, 2, 1)


async def test_a_retry_is_not_tried_before_its_wait(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    inbox.refuse = 1
    start = utcnow()
    await send_digests(ctx, TENANT, now=start)

    await send_digests(ctx, TENANT, now=start + timedelta(seconds=RETRY_SECONDS - 1))

    [digest] = await digests(ctx)
    assert (digest.status, digest.attempts, inbox.refused, inbox.messages) == (PENDING, 1, 1, [])


async def test_a_server_that_is_down_fails_the_digest_after_the_last_attempt(contexts):
    ctx = contexts(smtp_url=f"smtp://127.0.0.1:{free_port()}")  # nobody listens there
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    moment = utcnow()

    for attempt in range(1, MAX_ATTEMPTS + 1):
        await send_digests(ctx, TENANT, now=moment)
        [digest] = await digests(ctx)
        assert digest.attempts == attempt
        moment += timedelta(seconds=RETRY_SECONDS * 2 ** (attempt - 1) + 1)

    [digest] = await digests(ctx)
    assert digest.status == FAILED
    assert "connect" in digest.last_error.lower()
    await send_digests(ctx, TENANT, now=moment + timedelta(days=1))
    assert [d.attempts for d in await digests(ctx)] == [MAX_ATTEMPTS]


async def test_a_user_without_an_email_address_gets_a_failed_digest_and_no_mail(ctx, inbox):
    await add_user(ctx, "ada", None, "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")

    await send_digests(ctx, TENANT)

    [digest] = await digests(ctx)
    assert (digest.status, digest.last_error, digest.attempts) == (FAILED, NO_ADDRESS, 0)
    assert inbox.messages == []


async def test_a_digest_claimed_by_a_sender_that_died_is_sent_once_its_lease_runs_out(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    start = utcnow()
    # A sender takes the digest, then dies before it has sent it (or marked it sent).
    await ctx.in_tenant(TENANT, lambda s: gather_and_claim(s, start))

    await send_digests(ctx, TENANT, now=start + timedelta(seconds=1))
    assert inbox.messages == []

    await send_digests(ctx, TENANT, now=start + LEASE + timedelta(seconds=1))
    [digest] = await digests(ctx)
    assert (digest.status, digest.attempts, len(inbox.messages)) == (SENT, 2, 1)


async def gather_and_claim(session: AsyncSession, now: datetime) -> None:
    await do_gather_digests(session, now=now, wait=timedelta(0))
    assert len(await do_claim_digests(session, now=now)) == 1


async def test_two_senders_at_once_send_each_digest_once(contexts, inbox):
    first, second = contexts(), contexts()
    users = [f"user-{n}" for n in range(6)]
    for user in users:
        await add_user(first, user, f"{user}@example.org", "announcement")
    await notify(first, "announcement:1", "announcement", "Exam moved", *users)

    await asyncio.gather(send_digests(first, TENANT), send_digests(second, TENANT))

    assert sorted(str(m["To"].addresses[0].addr_spec) for m in inbox.messages) == sorted(
        f"{u}@example.org" for u in users
    )
    assert {d.status for d in await digests(first)} == {SENT}


async def test_without_an_smtp_url_email_notifications_stay_pending(contexts, inbox):
    ctx = contexts(smtp_url=None)
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")

    await send_digests(ctx, TENANT)

    async def ungathered(session: AsyncSession) -> list[int | None]:
        return list((await session.scalars(select(Notification.digest_id))).all())

    assert await ctx.in_tenant(TENANT, ungathered) == [None]
    assert inbox.messages == []


async def test_unsubscribing_keeps_a_type_out_of_the_digest_not_yet_gathered(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement", "mention")
    await notify(ctx, "announcement:1", "announcement", "Exam moved", "ada")
    await notify(ctx, "mention:1", "mention", "Bob mentioned you", "ada")

    await ctx.in_tenant(TENANT, lambda s: do_unsubscribe(s, user_id="ada", type_="announcement"))
    await send_digests(ctx, TENANT)

    [message] = inbox.messages
    assert "Bob mentioned you" in text_of(message, "plain")
    assert "Exam moved" not in text_of(message, "plain")


async def test_the_web_app_sends_due_digests_on_its_own(custom_api, inbox):
    api = await custom_api(
        smtp_url=SecretStr(f"smtp://127.0.0.1:{inbox.port}"),
        email_digest_minutes=0,
    )
    async with open_unit(api.client.app, TENANT) as uow:
        uow.session.add(User(user_id="ada", name="Ada", email="ada@example.org"))
        uow.session.add(
            Notification(
                user_id="ada",
                type="announcement",
                event_key="announcement:1",
                title="Exam moved",
                body="",
                data={},
                channel=EMAIL,
            )
        )

    # The app's own round (every second here) sends it; the wait only bounds a failure.
    assert await asyncio.to_thread(inbox.arrived.wait, 30)
    assert inbox.to("ada@example.org")[0]["Subject"] == "Exam moved"


def test_the_smtp_url_names_the_server_its_tls_and_its_credentials():
    plain = Smtp.from_url("smtp://mail.example.org")
    upgraded = Smtp.from_url("smtp://ada:p%40ss@mail.example.org?starttls=true")
    implicit = Smtp.from_url("smtps://mail.example.org:2465")

    assert (plain.port, plain.use_tls, plain.start_tls, plain.username) == (25, False, False, None)
    assert (upgraded.port, upgraded.start_tls, upgraded.username, upgraded.password) == (
        587,
        True,
        "ada",
        "p@ss",
    )
    assert (implicit.port, implicit.use_tls, implicit.start_tls) == (2465, True, False)


async def test_a_titles_markup_is_escaped_in_the_html_part(ctx, inbox):
    await add_user(ctx, "ada", "ada@example.org", "announcement")
    await notify(ctx, "announcement:1", "announcement", "<b>Exam</b> & more", "ada")

    await send_digests(ctx, TENANT)

    [message] = inbox.messages
    assert "&lt;b&gt;Exam&lt;/b&gt; &amp; more" in text_of(message, "html")
    assert "<b>Exam</b> & more" in text_of(message, "plain")
