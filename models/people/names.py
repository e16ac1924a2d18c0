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
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, inspect, literal, outerjoin, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import NO_VALUE

from models.identity import Principal
from models.people.directory import claims_of
from models.people.tables import User, person_of, relation_for
from models.unit_of_work import acting

PersonFields = dict[str, Any]
T = TypeVar("T")


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


def person_at(row: Any, column: str) -> PersonFields | None:
    """The name object of `row.column`, from its loaded person (`named` made sure); never
    a lazy load: not loaded, it is the id alone."""
    user_id = getattr(row, column)
    loaded = loaded_person(row, column)
    return person_from(user_id, loaded if isinstance(loaded, User) else None)


def loaded_person(row: Any, column: str) -> Any:
    """What the row's person relation of `column` holds loaded (NO_VALUE when nothing).
    Read from the instance's state, not through `inspect(row).attrs`: those attribute
    views point back at the state, a reference cycle per row that only the garbage
    collector could free (18 objects a row, 400 a list page)."""
    return inspect(row).dict.get(relation_for(column), NO_VALUE)


def _needs(row: Any, column: str) -> bool:
    """Not loaded (a row made in this unit), or loaded for another id (its id changed)."""
    user_id = getattr(row, column)
    if user_id is None:
        return False
    loaded = loaded_person(row, column)
    if loaded is NO_VALUE:
        return True
    return isinstance(loaded, User) and loaded.user_id != user_id


def name_field(column: str) -> str:
    """Where the name object of a user-id field goes: `<x>_id` -> `<x>`, else `F_person`."""
    return column[:-3] if column.endswith("_id") else column + "_person"


def with_people(row: Any, **fields: str) -> dict[str, Any]:
    """A row's columns, and beside each of its user ids (`__people__`) the name object, as
    `name_field` names it unless `fields` says otherwise (`user_id="user_person"` where the
    schema shows the id itself as `user`)."""
    values = {attr.key: getattr(row, attr.key) for attr in inspect(row).mapper.column_attrs}
    for column in type(row).__people__:
        values[fields.get(column, name_field(column))] = person_at(row, column)
    return values


_KNOWN = "lms_people"


def _known(session: AsyncSession) -> dict[str, User | None]:
    """Directory rows (or their absence) this unit already read along with something else."""
    known: dict[str, User | None] = session.info.setdefault(_KNOWN, {})
    return known


async def find_with_person(
    session: AsyncSession, entity: type[T], conditions: Sequence[ColumnElement[bool]], user_id: str
) -> T | None:
    """The one `entity` row matching `conditions` (or None), and the directory row of
    `user_id` with it, in one statement: a check for an existing row about another user
    (their enrollment, their membership) also reads who they are, so the row then made for
    them is shown with their name at no statement of its own."""
    one = select(literal(1).label("one")).subquery("one")
    joined = outerjoin(one, User, User.user_id == user_id).outerjoin(entity, and_(*conditions))
    found, user = (await session.execute(select(entity, User).select_from(joined))).one()
    _known(session)[user_id] = user
    return found


async def named(session: AsyncSession, rows: Iterable[Any]) -> None:
    """Make sure the persons of each row's `__people__` columns are loaded: rows read from
    the database have them already; the others get the actor's (from their token) or, for
    anyone else, one statement for all."""
    actor = acting(session)
    missing: list[tuple[Any, str, str]] = []
    for row in rows:
        for column in type(row).__people__:
            if _needs(row, column):
                missing.append((row, relation_for(column), column))
    if not missing:
        return
    wanted = {getattr(row, column) for row, _, column in missing}
    found: dict[str, User | None] = {}
    known = _known(session)
    for user_id in wanted & known.keys():
        found[user_id] = known[user_id]
    wanted -= known.keys()
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
    """The name objects of these ids: the actor's from their token, the others' in one
    statement (none when there are no others)."""
    ids = {i for i in user_ids if i is not None}
    found: dict[str, PersonFields] = {}
    actor = acting(session)
    if actor is not None and actor.user_id in ids:
        found[actor.user_id] = actor_person(actor)
        ids.discard(actor.user_id)
    if ids:
        result = await session.execute(
            select(User.user_id, User.name, User.picture).where(User.user_id.in_(sorted(ids)))
        )
        for uid, name, picture in result.all():
            found[uid] = {"id": uid, "name": name or uid, "picture": picture}
    for uid in ids:
        found.setdefault(uid, {"id": uid, "name": uid, "picture": None})
    return found


__all__ = [
    "actor_person",
    "find_with_person",
    "name_field",
    "named",
    "people",
    "person",
    "person_at",
    "person_from",
    "person_of",
    "relation_for",
    "with_people",
]
