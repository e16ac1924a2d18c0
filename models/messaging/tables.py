"""Messaging tables (one set per tenant): messages and who has read them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of

DIRECT, GROUP = "direct", "group"


class Message(Timestamped, TenantBase):
    """A direct message (to `recipient_id`) or a group message (to the members of `group_id`)."""

    __tablename__ = "messages"
    __table_args__ = (
        # Exactly one addressee, matching the type: the rules hold even for rows written
        # outside the operations (a script, a future worker).
        CheckConstraint(
            "(message_type = 'direct' AND recipient_id IS NOT NULL AND group_id IS NULL)"
            " OR (message_type = 'group' AND group_id IS NOT NULL AND recipient_id IS NULL)",
            name="addressee",
        ),
        Index("ix_messages_sender_id", "sender_id"),
        Index("ix_messages_recipient_id", "recipient_id"),
        Index("ix_messages_group_id", "group_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    recipient_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # A group's messages go with it.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), nullable=True
    )
    message_type: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("sender_id", "recipient_id")
    sender_user: Mapped[User | None] = person_of("Message", "sender_id")
    recipient_user: Mapped[User | None] = person_of("Message", "recipient_id")


class ReadReceipt(TenantBase):
    """A read receipt: one per message and reader, for direct and group messages alike."""

    __tablename__ = "message_reads"
    __table_args__ = (UniqueConstraint("message_id", "user_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
