"""Groups tables (one set per tenant): groups and their members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of
from models.slugs import slug_prefix_index


class Group(Timestamped, TenantBase):
    __tablename__ = "groups"
    __table_args__ = (slug_prefix_index("groups"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # Room for a slug of a name whose characters decompose into several (slugify keeps 200).
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Group", "created_by")


class GroupMember(TenantBase):
    __tablename__ = "group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_group_members_user_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(20))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by: Mapped[str | None] = mapped_column(String(128), nullable=True)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id", "added_by")
    user_user: Mapped[User | None] = person_of("GroupMember", "user_id")
    added_by_user: Mapped[User | None] = person_of("GroupMember", "added_by")
