"""One row per user a tenant has seen: the name, email and picture of their latest token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

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
