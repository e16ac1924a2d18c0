"""Who is acting: the verified claims of a token, reduced to what the domain needs."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("admin", "instructor", "student")


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified user of one tenant."""

    user_id: str
    tenant: str
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"student"}))
    name: str | None = None
    email: str | None = None
    picture: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @property
    def is_instructor(self) -> bool:
        return "instructor" in self.roles

    @property
    def can_author(self) -> bool:
        """Instructors and admins create courses, categories, forums and groups."""
        return self.is_admin or self.is_instructor
