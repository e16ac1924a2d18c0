"""Names beside ids: every response that names a user by id shows their name object too.

The rule (docs/api.md, "Names beside ids"): beside a user-id field `<x>_id` sits `<x>`;
beside any other user-id field `F` (`created_by`, an enrollment's `user`) sits
`F_person`; beside a list of user ids `users` sits `people`. The object is
`{"id", "name", "picture"}`: the directory's name, or the id when the directory has none.

Tables that hold a user id declare a view-only `person_of(...)` relationship, loaded by
a LEFT OUTER JOIN in the very statement that loads the row (lists and details alike: no
statement of its own). A row made or changed in this unit has no loaded person: `named`
fills those, the actor from their token, anyone else in one statement for all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Relationship, relationship
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from models.identity import Principal
from models.people.directory import claims_of
from models.people.tables import User

PersonFields = dict[str, Any]


def person_of(column: str, table: str) -> Relationship[User | None]:
    """The directory row of the user `table.column` names, joined wherever the row is loaded."""
    return relationship(
        User,
        primaryjoin=f"foreign({table}.{column}) == User.user_id",
        viewonly=True,
        lazy="joined",
        innerjoin=False,
    )


def person(
    user_id: str | None, name: str | None = None, picture: str | None = None
) -> PersonFields | None:
    """The name object of a user id (None for no user): the id stands in for a missing name."""
    if user_id is None:
        return None
    return {"id": user_id, "name": name or user_id, "picture": picture}


def person_from(user_id: str | None, user: User | None) -> PersonFields | None:
    if user is None or user_id is None or user.user_id != user_id:
        return person(user_id)
    return person(user_id, user.name, user.picture)


def actor_person(actor: Principal) -> PersonFields:
    name, _, picture = claims_of(actor)
    return {"id": actor.user_id, "name": name or actor.user_id, "picture": picture}


def loaded_person(row: Any, relation: str, column: str) -> PersonFields | None:
    """The name object of `row.column`, from its loaded `relation` (`named` made sure)."""
    user_id = getattr(row, column)
    state = inspect(row)
    loaded = state.attrs[relation].loaded_value
    user = loaded if isinstance(loaded, User) else None
    return person_from(user_id, user)


def _needs(row: Any, relation: str, column: str) -> bool:
    """Not loaded (a row made in this unit), or loaded for another id (its id changed)."""
    user_id = getattr(row, column)
    if user_id is None:
        return False
    loaded = inspect(row).attrs[relation].loaded_value
    if loaded is NO_VALUE:
        return True
    return isinstance(loaded, User) and loaded.user_id != user_id


async def named(
    session: AsyncSession,
    rows: Iterable[Any],
    relations: Sequence[tuple[str, str]],
    actor: Principal | None = None,
) -> None:
    """Make sure each row's `(relation, column)` person is loaded without a lazy load:
    rows read from the database have them already; the others get the actor's (from their
    token) or, for anyone else, one statement for all."""
    missing: list[tuple[Any, str, str]] = []
    for row in rows:
        for relation, column in relations:
            if _needs(row, relation, column):
                missing.append((row, relation, column))
    if not missing:
        return
    wanted = {getattr(row, column) for row, _, column in missing}
    found: dict[str, User] = {}
    if actor is not None and actor.user_id in wanted:
        name, email, picture = claims_of(actor)
        found[actor.user_id] = User(user_id=actor.user_id, name=name, email=email, picture=picture)
        wanted.discard(actor.user_id)
    if wanted:
        result = await session.scalars(select(User).where(User.user_id.in_(sorted(wanted))))
        found.update({user.user_id: user for user in result})
    for row, relation, column in missing:
        set_committed_value(row, relation, found.get(getattr(row, column)))


async def people(session: AsyncSession, user_ids: Iterable[str | None]) -> dict[str, PersonFields]:
    """The name objects of these ids, in one statement (none for no ids)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    result = await session.execute(
        select(User.user_id, User.name, User.picture).where(User.user_id.in_(ids))
    )
    known = {uid: person(uid, name, picture) for uid, name, picture in result.all()}
    return {uid: known.get(uid) or {"id": uid, "name": uid, "picture": None} for uid in ids}


__all__ = [
    "actor_person",
    "loaded_person",
    "named",
    "people",
    "person",
    "person_from",
    "person_of",
]
