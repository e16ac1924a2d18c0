"""Carts (one set per tenant): one cart per user, one line per course."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TenantBase, Timestamped
from models.courses.tables import Course


class Cart(Timestamped, TenantBase):
    __tablename__ = "carts"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128), unique=True)


class CartItem(Timestamped, TenantBase):
    __tablename__ = "cart_items"
    __table_args__ = (
        # Adding a course twice keeps one line, even when two requests race.
        UniqueConstraint("cart_id", "course_id"),
        Index("ix_cart_items_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[int] = mapped_column(ForeignKey("carts.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer, default=1)

    course: Mapped[Course] = relationship(lazy="raise")
