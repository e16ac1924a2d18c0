"""Groups and their members: who sees them, who changes them, and the changes.

Besides the REST operations (`access_*`, `do_*`), this module is what other domains ask
about groups (forums, messaging, schedules): `is_member`, `member_role`, `group_ids_of`,
`parse_group_ref` and `check_groups_exist`. Every function takes the tenant's session, so
a group of another tenant is never seen.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import MEMBER_LEFT, ROOM_CLOSED, notify_after_commit, revoke_after_commit
from models.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    invalid_pk,
)
from models.fields import MAX_ID
from models.groups.schemas import GroupCreate, GroupQuery, MemberCreate, MemberQuery
from models.groups.tables import Group, GroupMember
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.logs.operations import record_activity_on
from models.one_of import one_of
from models.people.names import find_with_person, named, person_at
from models.slugs import unique_slug
from models.unique import add_unique

OWNER, MODERATOR, MEMBER = "owner", "moderator", "member"
ALREADY_MEMBER = "This user is already a member of this group."
LAST_OWNER = "A group must keep at least one owner."
GROUPS = Listing(
    filters={"is_active": Group.is_active},
    search=(Group.name,),
    ordering={"name": Group.name, "created_at": Group.created_at, "id": Group.id},
    default=(Group.created_at.desc(),),
    tiebreak=Group.id.desc(),
)
MEMBERS = Listing(
    filters={
        "group": GroupMember.group_id,
        "user_id": GroupMember.user_id,
        "role": GroupMember.role,
    },
    default=(GroupMember.group_id, GroupMember.joined_at, GroupMember.id),
)
_GROUP_REF = re.compile(r"group-([0-9]+)")


def group_room(group_id: int) -> str:
    """The group's live chat room."""
    return f"group:{group_id}"


# What other domains ask about groups


async def is_member(session: AsyncSession, *, group_id: int, user_id: str) -> bool:
    """Whether the user belongs to the group, in any role."""
    return await member_role(session, group_id=group_id, user_id=user_id) is not None


async def member_role(session: AsyncSession, *, group_id: int, user_id: str) -> str | None:
    """The user's role in the group (`owner`, `moderator`, `member`), None when not in it."""
    stmt = select(GroupMember.role).where(
        GroupMember.group_id == group_id, GroupMember.user_id == user_id
    )
    return await session.scalar(stmt)


async def group_ids_of(session: AsyncSession, *, user_id: str) -> set[int]:
    """The ids of every group the user belongs to."""
    stmt = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    return set((await session.scalars(stmt)).all())


def parse_group_ref(value: int | str) -> int:
    """A group id from `5` or `"group-5"`; ValueError for anything else.

    The error's message is DRF's `Invalid pk "…" - object does not exist.`, so a pydantic
    validator can raise it as is (see `models.groups.schemas.GroupRef`).
    """
    if isinstance(value, bool):
        raise ValueError(invalid_pk(value))
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _GROUP_REF.fullmatch(value)):
        number = int(match.group(1))
    else:
        raise ValueError(invalid_pk(value))
    if not 0 < number <= MAX_ID:
        raise ValueError(invalid_pk(value))
    return number


async def check_groups_exist(session: AsyncSession, *, ids: Sequence[int], field: str) -> None:
    """ValidationFailed on `field` naming the first id that is no group of this tenant."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return
    in_range = [i for i in wanted if 0 < i <= MAX_ID]
    found = set((await session.scalars(select(Group.id).where(Group.id.in_(in_range)))).all())
    for group_id in wanted:
        if group_id not in found:
            raise ValidationFailed.field(field, invalid_pk(group_id))


# Groups


@dataclass(frozen=True, slots=True)
class GroupView:
    """A group with what its response adds: its size and the actor's role in it."""

    group: Group
    member_count: int
    my_role: str | None

    def fields(self) -> dict[str, Any]:
        g = self.group
        return {
            "id": g.id,
            "name": g.name,
            "slug": g.slug,
            "description": g.description,
            "is_active": g.is_active,
            "created_by": g.created_by,
            "created_by_person": person_at(g, "created_by"),
            "created_at": g.created_at,
            "updated_at": g.updated_at,
            "member_count": self.member_count,
            "my_role": self.my_role,
        }


def check_group_creator(actor: Principal) -> None:
    """Instructors and admins create groups."""
    if not actor.can_author:
        raise PermissionDenied()


async def group_page(
    session: AsyncSession, *, actor: Principal, query: GroupQuery, page: PageRequest
) -> PageResult:
    """My groups; an admin sees every group unless asking for `member=me`."""
    mine_only = query.member == "me" or not actor.is_admin
    statement = functools.partial(_groups_statement, mine_only)
    return await GROUPS.page_of(session, statement, query, page, {ACTOR_PARAM: actor.user_id})


@functools.lru_cache(maxsize=256)
def _groups_statement(mine_only: bool, shape: ListShape) -> Select[Any]:
    stmt = select(Group)
    if mine_only:
        mine = select(GroupMember.group_id).where(GroupMember.user_id == bindparam(ACTOR_PARAM))
        stmt = stmt.where(Group.id.in_(mine))
    return GROUPS.apply_shape(counted(stmt), shape)


def _counts_and_roles_statement() -> Select[int, int, str | None]:
    """Per group of `ids`: its member count and the reader's role in it (one membership
    per user and group, so `max` is that one role, or NULL)."""
    my_role = case((GroupMember.user_id == bindparam(ACTOR_PARAM), GroupMember.role))
    return (
        select(GroupMember.group_id, func.count(), func.max(my_role))
        .where(one_of(GroupMember.group_id, "ids"))
        .group_by(GroupMember.group_id)
    )


_COUNTS_AND_ROLES = _counts_and_roles_statement()


async def group_views(
    session: AsyncSession, *, actor: Principal, groups: Sequence[Group]
) -> list[GroupView]:
    """The groups with their member counts and the actor's roles (one query for a page)."""
    ids = [g.id for g in groups]
    await named(session, groups)
    counts: dict[int, int] = {}
    roles: dict[int, str] = {}
    if ids:
        rows = await session.execute(_COUNTS_AND_ROLES, {"ids": ids, ACTOR_PARAM: actor.user_id})
        for group_id, count, role in rows.all():
            counts[group_id] = int(count)
            if role is not None:
                roles[group_id] = role
    return [GroupView(g, counts.get(g.id, 0), roles.get(g.id)) for g in groups]


async def group_view(session: AsyncSession, *, actor: Principal, group: Group) -> GroupView:
    return (await group_views(session, actor=actor, groups=[group]))[0]


async def access_group(
    session: AsyncSession, *, actor: Principal, group_id: int, for_change: bool = False
) -> tuple[Group, str | None]:
    """The group and the actor's role in it, if the actor may see it: members and admins.

    Others get 404, so a group's existence does not leak. For a change (edit, delete), the
    actor must be an owner or an admin (403 otherwise).
    """
    group = await session.get(Group, group_id)
    if group is None:
        raise NotFound()
    role = await member_role(session, group_id=group.id, user_id=actor.user_id)
    if role is None and not actor.is_admin:
        raise NotFound()
    if for_change and not (actor.is_admin or role == OWNER):
        raise PermissionDenied()
    return group, role


async def do_create_group(session: AsyncSession, *, actor: Principal, data: GroupCreate) -> Group:
    """Create a group (after `check_group_creator`); its creator becomes its `owner`."""
    group = Group(
        name=data.name,
        slug=await unique_slug(session, Group.slug, data.name, fallback="group"),
        description=data.description,
        is_active=data.is_active,
        created_by=actor.user_id,
    )
    session.add(group)
    await session.flush()
    session.add(
        GroupMember(group_id=group.id, user_id=actor.user_id, role=OWNER, added_by=actor.user_id)
    )
    await session.flush()
    _group_activity(session, actor, group, "group_created", f"Created group {group.name!r}.")
    return group


async def do_update_group(
    session: AsyncSession, *, actor: Principal, group: Group, changes: dict[str, Any]
) -> Group:
    """Change a group's name, description or is_active (`access_group(for_change=True)`, then
    `check_changes`); the slug stays."""
    for field, value in changes.items():
        setattr(group, field, value)
    await session.flush()
    _group_activity(session, actor, group, "group_updated", f"Updated group {group.name!r}.")
    return group


async def do_delete_group(session: AsyncSession, *, actor: Principal, group: Group) -> None:
    """Delete a group and its memberships (after `access_group(for_change=True)`)."""
    group_id = group.id
    _group_activity(session, actor, group, "group_deleted", f"Deleted group {group.name!r}.")
    forum_rooms = await _forum_rooms_of(session, group_id)
    await session.delete(group)
    await session.flush()
    notify_after_commit(session, group_room(group_id), ROOM_CLOSED, {"group_id": group_id})
    # Its members may have read its forums through it alone.
    for room in forum_rooms:
        revoke_after_commit(session, room)


async def _forum_rooms_of(session: AsyncSession, group_id: int) -> list[str]:
    """The live rooms of the forums limited to the group (their readers may be its members)."""
    from models.forums.operations import forum_room
    from models.forums.tables import ForumGroup

    stmt = select(ForumGroup.forum_id).where(ForumGroup.group_id == group_id)
    return [forum_room(forum_id) for forum_id in (await session.scalars(stmt)).all()]


def _group_activity(
    session: AsyncSession, actor: Principal, group: Group, activity_type: str, details: str
) -> None:
    record_activity_on(session, actor, ("group", group.id), activity_type, details)


# Members


async def member_page(
    session: AsyncSession, *, actor: Principal, query: MemberQuery, page: PageRequest
) -> PageResult:
    """Members of the groups I belong to; an admin sees every membership."""
    statement = functools.partial(_members_statement, actor.is_admin)
    return await MEMBERS.page_of(session, statement, query, page, {ACTOR_PARAM: actor.user_id})


@functools.lru_cache(maxsize=256)
def _members_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    stmt = select(GroupMember)
    if not is_admin:
        mine = select(GroupMember.group_id).where(GroupMember.user_id == bindparam(ACTOR_PARAM))
        stmt = stmt.where(GroupMember.group_id.in_(mine))
    return MEMBERS.apply_shape(counted(stmt), shape)


async def find_member(session: AsyncSession, *, group_id: int, user_id: str) -> GroupMember | None:
    stmt = select(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.user_id == user_id
    )
    return (await session.scalars(stmt)).one_or_none()


async def access_member(
    session: AsyncSession, *, actor: Principal, member_id: int
) -> tuple[GroupMember, Group, str | None]:
    """A membership, its group and the actor's role there, if the actor may see the group."""
    member = await session.get(GroupMember, member_id)
    if member is None:
        raise NotFound()
    group, role = await access_group(session, actor=actor, group_id=member.group_id)
    return member, group, role


async def access_new_member_group(
    session: AsyncSession, *, actor: Principal, group_id: int
) -> tuple[Group, str | None]:
    """The group a new membership names and the actor's role there (`access_group`); a
    group the actor cannot see is a 400 on `group`."""
    try:
        return await access_group(session, actor=actor, group_id=group_id)
    except NotFound:
        raise ValidationFailed.field("group", invalid_pk(group_id)) from None


async def check_new_member(
    session: AsyncSession, *, actor: Principal, group: Group, role: str | None, data: MemberCreate
) -> None:
    """Owners and admins add in any role, moderators only `member`s (403); a user already
    in the group is a 409."""
    if not (actor.is_admin or role == OWNER or (role == MODERATOR and data.role == MEMBER)):
        raise PermissionDenied()
    # Who the user is comes with it: the membership made for them shows their name.
    conditions = (GroupMember.group_id == group.id, GroupMember.user_id == data.user_id)
    if await find_with_person(session, GroupMember, conditions, data.user_id) is not None:
        raise Conflict(ALREADY_MEMBER)


async def do_add_member(
    session: AsyncSession, *, actor: Principal, group: Group, data: MemberCreate
) -> GroupMember:
    """Add a user to a group, once `check_new_member` passed."""
    member = GroupMember(
        group_id=group.id, user_id=data.user_id, role=data.role, added_by=actor.user_id
    )
    # A concurrent add of the same user loses the race on the unique key: the same 409.
    member, created = await add_unique(
        session, member, lambda: find_member(session, group_id=group.id, user_id=data.user_id)
    )
    if not created:
        raise Conflict(ALREADY_MEMBER)
    await named(session, [member])
    _group_activity(
        session,
        actor,
        group,
        "group_member_added",
        f"Added {member.user_id!r} to group {group.name!r} as {member.role}.",
    )
    joined = {
        "group_id": group.id,
        "user_id": member.user_id,
        "user": person_at(member, "user_id"),
        "role": member.role,
    }
    notify_after_commit(session, group_room(group.id), "member_joined", joined)
    return member


async def _owner_count(session: AsyncSession, group_id: int) -> int:
    """How many owners the group has, counted under a lock of its row (PostgreSQL)."""
    # The lock: two owners stepping down at once cannot both pass the last-owner check.
    await session.execute(select(Group.id).where(Group.id == group_id).with_for_update())
    stmt = select(func.count()).where(GroupMember.group_id == group_id, GroupMember.role == OWNER)
    return int(await session.scalar(stmt) or 0)


def check_role_changer(actor: Principal, actor_role: str | None) -> None:
    """Roles are changed by the group's owners and admins (403 for the others who see it)."""
    if not (actor.is_admin or actor_role == OWNER):
        raise PermissionDenied()


async def check_role_change(
    session: AsyncSession, *, member: GroupMember, group: Group, role: str | None
) -> str | None:
    """The member's new role, None when the body changes nothing (after
    `check_role_changer`); the last owner cannot be demoted (400)."""
    if role is None or role == member.role:
        return None
    if member.role == OWNER and await _owner_count(session, group.id) <= 1:
        raise ValidationFailed.field("role", LAST_OWNER)
    return role


async def do_change_member_role(
    session: AsyncSession, *, actor: Principal, member: GroupMember, group: Group, role: str | None
) -> GroupMember:
    """Give the member the role `check_role_change` returned (None: nothing changes)."""
    if role is None:
        return member
    old, member.role = member.role, role
    await session.flush()
    _group_activity(
        session,
        actor,
        group,
        "group_member_role_changed",
        f"Changed {member.user_id!r} in group {group.name!r} from {old} to {role}.",
    )
    return member


async def check_member_remover(
    session: AsyncSession,
    *,
    actor: Principal,
    member: GroupMember,
    group: Group,
    actor_role: str | None,
) -> None:
    """Owners and admins remove anyone, moderators `member`s, anyone themself (403 else).

    The last owner can be neither removed nor leave (400): delete the group instead.
    """
    allowed = (
        member.user_id == actor.user_id
        or actor.is_admin
        or actor_role == OWNER
        or (actor_role == MODERATOR and member.role == MEMBER)
    )
    if not allowed:
        raise PermissionDenied()
    if member.role == OWNER and await _owner_count(session, group.id) <= 1:
        raise BadRequest(LAST_OWNER)


async def do_remove_member(
    session: AsyncSession, *, actor: Principal, member: GroupMember, group: Group
) -> None:
    """Remove a member (after `check_member_remover`); access ends at once."""
    leaving = member.user_id == actor.user_id
    _group_activity(
        session,
        actor,
        group,
        "group_member_removed",
        (
            f"Left group {group.name!r}."
            if leaving
            else f"Removed {member.user_id!r} from group {group.name!r}."
        ),
    )
    left = {"group_id": group.id, "user_id": member.user_id, "user": person_at(member, "user_id")}
    await session.delete(member)
    await session.flush()
    # The room also closes the sockets this user holds there: access ends at once; so do
    # the rooms of forums they may have read through this group alone.
    notify_after_commit(session, group_room(group.id), MEMBER_LEFT, left)
    for room in await _forum_rooms_of(session, group.id):
        revoke_after_commit(session, room, member.user_id)
