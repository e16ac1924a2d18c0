"""One row per user a tenant has seen: the name, email and picture of their latest token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Relationship, mapped_column, relationship

from models.base import TenantBase, UTCDateTime, utcnow


class User(TenantBase):
    """A person as their token last described them; never the source of who they are (the
    token is), only of how they are named to others."""

    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # None until a token carries the claim: the person is then shown by their id.
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    picture: Mapped[str | None] = mapped_column(String(2048))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def relation_for(column: str) -> str:
    """The relationship that loads the person `column` names: `author_id` -> `author_user`."""
    return (column[:-3] if column.endswith("_id") else column) + "_user"


def person_of(table: str, column: str) -> Relationship[User | None]:
    """The directory row of the user `table.column` names, joined (LEFT OUTER) wherever the
    row is loaded: declare it as `relation_for(column)`, and list `column` in the class's
    `__people__` (models/people/names.py shows it)."""
    return relationship(
        User,
        primaryjoin=f"foreign({table}.{column}) == User.user_id",
        viewonly=True,
        lazy="joined",
        innerjoin=False,
    )
