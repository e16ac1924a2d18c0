"""AI tutor tables (one set per tenant): sessions, their messages, and the usage ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of

USER, ASSISTANT, SYSTEM = "user", "assistant", "system"
PENDING, STREAMING, COMPLETE, FAILED = "pending", "streaming", "complete", "failed"
UNFINISHED = (PENDING, STREAMING)


class AiChatSession(Timestamped, TenantBase):
    """A user's conversation with the tutor, optionally about one course (and lesson)."""

    __tablename__ = "ai_chat_sessions"
    __table_args__ = (
        Index("ix_ai_chat_sessions_user_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    topic: Mapped[str] = mapped_column(String(200))
    difficulty_level: Mapped[str] = mapped_column(String(20))
    # A deleted course or lesson leaves the conversation, without its context.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), nullable=True
    )
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True
    )
    message_count: Mapped[int] = mapped_column(Integer, default=0)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("AiChatSession", "user_id")


class AiChatMessage(TenantBase):
    """A user's question, or the tutor's answer to one (`reply_to`), with its progress."""

    __tablename__ = "ai_chat_messages"
    __table_args__ = (
        CheckConstraint("sender_type IN ('user', 'assistant', 'system')", name="sender_type"),
        CheckConstraint("status IN ('pending', 'streaming', 'complete', 'failed')", name="status"),
        # A session's transcript, oldest first.
        Index("ix_ai_chat_messages_session_id_id", "session_id", "id"),
        Index("ix_ai_chat_messages_reply_to_id", "reply_to_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("ai_chat_sessions.id", ondelete="CASCADE"))
    sender_type: Mapped[str] = mapped_column(String(10))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10))
    model: Mapped[str | None] = mapped_column(String(200), nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    reply_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_chat_messages.id", ondelete="CASCADE"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When a worker claimed the answer: a claim older than the timeout was interrupted.
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AiChatUsage(TenantBase):
    """One row per question asked, with the tokens its answer cost: what quotas count.

    Kept apart from the messages, so that deleting a session does not give its tokens back:
    the row stays, only its reference to the deleted question is cleared.
    """

    __tablename__ = "ai_chat_usage"
    __table_args__ = (
        Index("ix_ai_chat_usage_user_id_created_at", "user_id", "created_at"),
        Index("ix_ai_chat_usage_created_at", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("ai_chat_messages.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
