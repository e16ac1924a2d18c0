"""Forums tables (one set per tenant): forums, the groups they are limited to, and posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime
from models.people.tables import User, person_of
from models.slugs import slug_prefix_index


class Forum(Timestamped, TenantBase):
    __tablename__ = "forums"
    __table_args__ = (slug_prefix_index("forums"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    # Room for a slug of a title whose characters decompose into several (slugify keeps 200).
    slug: Mapped[str] = mapped_column(String(220), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set whenever group_ids was given. Kept apart from the links so that a forum whose
    # groups are all deleted (the links cascade away) stays closed instead of opening to all.
    is_restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(128))

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Forum", "created_by")


class ForumGroup(TenantBase):
    """A group whose members may read and post in the forum."""

    __tablename__ = "forum_groups"
    __table_args__ = (Index("ix_forum_groups_group_id", "group_id"),)

    forum_id: Mapped[int] = mapped_column(
        ForeignKey("forums.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[int] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )


class ForumPost(Timestamped, TenantBase):
    __tablename__ = "forum_posts"
    __table_args__ = (
        # The post list: one forum, pinned first, by time.
        Index("ix_forum_posts_forum_pinned_created", "forum_id", "is_pinned", "created_at"),
        Index("ix_forum_posts_parent_id", "parent_id"),
        Index("ix_forum_posts_author_id", "author_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    forum_id: Mapped[int] = mapped_column(ForeignKey("forums.id", ondelete="CASCADE"))
    # Deleting a post deletes its replies, and theirs, in the database.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("forum_posts.id", ondelete="CASCADE"), nullable=True
    )
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str] = mapped_column(String(128))
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("author_id",)
    author_user: Mapped[User | None] = person_of("ForumPost", "author_id")
