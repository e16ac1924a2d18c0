"""Filling the directory from tokens: a person's row follows the claims of their latest token.

Every authenticated request carries `name`, `email` and `picture` claims; writing them on
each request would cost a statement per request. `Seen` remembers, per process, the claims
last stored for each (tenant, user): a request whose claims are unchanged writes nothing
and runs nothing; one whose claims are new or changed runs one upsert, which itself writes
only when the stored row differs (another process may have stored them already).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.dialects import conflict_insert, dialect_of
from models.identity import Principal
from models.people.tables import User

# (name, email, picture), as the directory stores them.
Claims = tuple[str | None, str | None, str | None]

SEEN_MAX = 50_000
# The columns' lengths (models/people/tables.py).
_NAME_MAX, _EMAIL_MAX, _PICTURE_MAX = 255, 254, 2048
# Shown to other users as an image: a `javascript:` or `data:` URL is not kept.
_WEB_URL = ("https://", "http://")


def claims_of(principal: Principal) -> Claims:
    """The claims as stored: a name cut to the column's length; an email too long for its
    column, or a picture that is not an http(s) URL that fits, is left out (never a failed
    request: the token is valid, only its description is not kept)."""
    name = principal.name[:_NAME_MAX] if principal.name else None
    email = principal.email if principal.email and len(principal.email) <= _EMAIL_MAX else None
    picture = principal.picture
    if not picture or len(picture) > _PICTURE_MAX or not picture.startswith(_WEB_URL):
        picture = None
    return (name, email, picture)


class Seen:
    """The claims last stored per (tenant, user) by this process: a bounded LRU."""

    def __init__(self, size: int = SEEN_MAX) -> None:
        self._size = size
        self._claims: OrderedDict[tuple[str, str], Claims] = OrderedDict()

    def changed(self, principal: Principal) -> Claims | None:
        """The claims to store, or None when this process stored exactly these already."""
        key = (principal.tenant, principal.user_id)
        claims = claims_of(principal)
        if self._claims.get(key) == claims:
            self._claims.move_to_end(key)
            return None
        return claims

    def stored(self, principal: Principal, claims: Claims) -> None:
        key = (principal.tenant, principal.user_id)
        self._claims[key] = claims
        self._claims.move_to_end(key)
        while len(self._claims) > self._size:
            self._claims.popitem(last=False)

    def forget(self) -> None:
        self._claims.clear()

    def __len__(self) -> int:
        return len(self._claims)


@functools.lru_cache(maxsize=4)
def upsert_statement(dialect: str) -> Any:
    """Insert the person, or update their row only where a claim differs: a row already
    holding these claims is not written again (no dead tuple, no trigger, no lock wait)."""
    insert = conflict_insert(dialect)
    stmt = insert(User)
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=[User.user_id],
        set_={
            "name": new.name,
            "email": new.email,
            "picture": new.picture,
            "updated_at": new.updated_at,
        },
        where=or_(
            User.name.is_distinct_from(new.name),
            User.email.is_distinct_from(new.email),
            User.picture.is_distinct_from(new.picture),
        ),
    )


async def do_store_person(session: AsyncSession, *, user_id: str, claims: Claims) -> None:
    """One statement: the person's row now holds these claims."""
    dialect = dialect_of(session)
    name, email, picture = claims
    values = {
        "user_id": user_id,
        "name": name,
        "email": email,
        "picture": picture,
        "updated_at": utcnow(),
    }
    await session.execute(upsert_statement(dialect), values)
