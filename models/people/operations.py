"""Who may see whom in the directory: anyone of the tenant sees a name and a picture; only
the person themself and admins see an email."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.errors import NotFound
from models.identity import ROLES, Principal
from models.listing import Listing
from models.people.directory import claims_of
from models.people.schemas import UserQuery
from models.people.tables import User

# A person without a name is listed by their id, as they are shown; case aside.
_SHOWN_NAME = func.lower(func.coalesce(User.name, User.user_id))
PEOPLE = Listing(
    search=(User.name, User.user_id),
    ordering={"name": _SHOWN_NAME, "updated_at": User.updated_at},
    default=(_SHOWN_NAME,),
    tiebreak=User.user_id,
)


def people_query(query: UserQuery) -> Select[Any]:
    """Everyone this tenant has seen, by name (anyone of the tenant lists them)."""
    return PEOPLE.apply(select(User), query)


async def access_person(session: AsyncSession, *, actor: Principal, user_id: str) -> User:
    """A person this tenant has seen (404 for anyone else: the directory is per tenant)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound()
    return user


def shows_email(actor: Principal, user_id: str) -> bool:
    return actor.is_admin or actor.user_id == user_id


def person_fields(actor: Principal, user: User) -> dict[str, Any]:
    return {
        "id": user.user_id,
        "name": user.name or user.user_id,
        "picture": user.picture,
        "email": user.email if shows_email(actor, user.user_id) else None,
        "updated_at": user.updated_at,
    }


def me_fields(actor: Principal) -> dict[str, Any]:
    """The caller as their token describes them now (what the directory is being given)."""
    name, email, picture = claims_of(actor)
    return {
        "user_id": actor.user_id,
        "name": name or actor.user_id,
        "email": email,
        "picture": picture,
        "roles": [role for role in ROLES if role in actor.roles],
    }
