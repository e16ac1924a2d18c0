"""Forums: who sees them, who changes them, and the changes.

A forum without groups is open to the whole tenant; one limited to groups (`group_ids`)
to their members, its creator and admins; an inactive one only to its creator and admins.
Everyone else gets 404, so a forum's existence does not leak. Visibility is one SQL
condition (`visible_forums`), used alike by lists, lookups and the posts of `posts.py`,
and computed on every request, so a member removed from a group loses access at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, delete, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.effects import ROOM_CLOSED, notify_after_commit, revoke_after_commit
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.forums.schemas import ForumCreate, ForumQuery, ForumUpdate
from models.forums.tables import Forum, ForumGroup, ForumPost
from models.groups.operations import MODERATOR, OWNER, check_groups_exist, group_ids_of
from models.groups.tables import GroupMember
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.logs.operations import record_activity_on
from models.one_of import one_of
from models.people.names import named, person_at
from models.slugs import unique_slug
from models.validation import check_changes

FORUMS = Listing(
    filters={"is_active": Forum.is_active, "is_locked": Forum.is_locked},
    search=(Forum.title,),
    ordering={"title": Forum.title, "created_at": Forum.created_at, "id": Forum.id},
    default=(Forum.created_at.desc(),),
    tiebreak=Forum.id.desc(),
)
# What a moderator of the forum's groups may change; the rest is its creator's (and admins').
MODERATED_FIELDS = frozenset({"is_locked"})


# Who sees a forum, who moderates it


def visible_forums(actor: Principal) -> ColumnElement[bool]:
    """The condition on `Forum` that the actor may see it."""
    return visible_to(is_admin=actor.is_admin, user=actor.user_id)


def visible_to(*, is_admin: bool, user: Any) -> ColumnElement[bool]:
    """`visible_forums` for a user given as a value or as a bound parameter (a statement
    built once for every reader)."""
    if is_admin:
        return true()
    in_my_groups = (
        select(ForumGroup.forum_id)
        .join(GroupMember, GroupMember.group_id == ForumGroup.group_id)
        .where(GroupMember.user_id == user)
    )
    open_to_me = or_(Forum.is_restricted.is_(False), Forum.id.in_(in_my_groups))
    return or_(Forum.created_by == user, and_(Forum.is_active.is_(True), open_to_me))


async def access_forum(session: AsyncSession, *, actor: Principal, forum_id: int) -> Forum:
    """The forum, if the actor may see it (404 otherwise)."""
    stmt = select(Forum).where(Forum.id == forum_id, visible_forums(actor))
    forum = await session.scalar(stmt)
    if forum is None:
        raise NotFound()
    return forum


async def forum_readers(
    session: AsyncSession, *, forum_id: int, actors: Sequence[Principal]
) -> set[str]:
    """Those of `actors` who see the forum (`visible_forums`, the same rule), read with one
    query for all their memberships (a big room is checked again at once)."""
    forum = await session.get(Forum, forum_id)
    if forum is None:
        return set()
    allowed = {a.user_id for a in actors if a.is_admin or forum.created_by == a.user_id}
    others = [a.user_id for a in actors if a.user_id not in allowed]
    if not forum.is_active or not others:
        return allowed
    if not forum.is_restricted:
        return allowed | set(others)
    for start in range(0, len(others), _IN_BATCH):
        stmt = (
            select(GroupMember.user_id)
            .join(ForumGroup, ForumGroup.group_id == GroupMember.group_id)
            .where(
                ForumGroup.forum_id == forum.id,
                GroupMember.user_id.in_(others[start : start + _IN_BATCH]),
            )
        )
        allowed.update((await session.scalars(stmt)).all())
    return allowed


_IN_BATCH = 500  # ids per IN (...): SQLite's bound parameters are limited


def manages(actor: Principal, forum: Forum) -> bool:
    """The forum's creator and admins change everything about it."""
    return actor.is_admin or forum.created_by == actor.user_id


async def moderates(session: AsyncSession, *, actor: Principal, forum: Forum) -> bool:
    """Whether the actor moderates the forum: lock it, pin posts, delete anyone's.

    Its managers do, and so do the owners and moderators of any of its groups.
    """
    if manages(actor, forum):
        return True
    stmt = (
        select(GroupMember.id)
        .join(ForumGroup, ForumGroup.group_id == GroupMember.group_id)
        .where(
            ForumGroup.forum_id == forum.id,
            GroupMember.user_id == actor.user_id,
            GroupMember.role.in_((OWNER, MODERATOR)),
        )
        .limit(1)
    )
    return await session.scalar(stmt) is not None


async def check_forum_changer(session: AsyncSession, *, actor: Principal, forum: Forum) -> None:
    """403 for those who may change nothing about the forum (before its body is read)."""
    if not await moderates(session, actor=actor, forum=forum):
        raise PermissionDenied()


def check_forum_creator(actor: Principal) -> None:
    """Instructors and admins create forums."""
    if not actor.can_author:
        raise PermissionDenied()


# What a response adds to a forum


@dataclass(frozen=True, slots=True)
class ForumView:
    forum: Forum
    group_ids: list[int]
    post_count: int
    last_post_at: datetime | None

    def fields(self) -> dict[str, Any]:
        f = self.forum
        return {
            "id": f.id,
            "title": f.title,
            "slug": f.slug,
            "description": f.description,
            "group_ids": self.group_ids,
            "is_active": f.is_active,
            "is_locked": f.is_locked,
            "created_by": f.created_by,
            "created_by_person": person_at(f, "created_by"),
            "created_at": f.created_at,
            "updated_at": f.updated_at,
            "post_count": self.post_count,
            "last_post_at": self.last_post_at,
        }


_LINKED_GROUPS = (
    select(ForumGroup.forum_id, ForumGroup.group_id)
    .where(one_of(ForumGroup.forum_id, "ids"))
    .order_by(ForumGroup.group_id)
)
_POST_STATS = (
    select(ForumPost.forum_id, func.count(), func.max(ForumPost.created_at))
    .where(one_of(ForumPost.forum_id, "ids"))
    .group_by(ForumPost.forum_id)
)


async def linked_group_ids(
    session: AsyncSession, *, forum_ids: Sequence[int]
) -> dict[int, list[int]]:
    rows = await session.execute(_LINKED_GROUPS, {"ids": list(forum_ids)})
    links: dict[int, list[int]] = {}
    for forum_id, group_id in rows.all():
        links.setdefault(forum_id, []).append(group_id)
    return links


async def forum_views(session: AsyncSession, *, forums: Sequence[Forum]) -> list[ForumView]:
    """The forums with their groups and post statistics (two queries for a page)."""
    ids = [f.id for f in forums]
    if not ids:
        return []
    await named(session, forums)
    links = await linked_group_ids(session, forum_ids=ids)
    stat_rows = await session.execute(_POST_STATS, {"ids": ids})
    stats = {forum_id: (int(n), last) for forum_id, n, last in stat_rows.all()}
    return [ForumView(f, links.get(f.id, []), *stats.get(f.id, (0, None))) for f in forums]


async def forum_view(session: AsyncSession, *, forum: Forum) -> ForumView:
    return (await forum_views(session, forums=[forum]))[0]


# Lists and changes


_GROUP = "lms_group"


async def forum_page(
    session: AsyncSession, *, actor: Principal, query: ForumQuery, page: PageRequest
) -> PageResult:
    """The forums I may see (`visible_forums`), of one group when `group` names one."""
    statement = functools.partial(_forums_statement, actor.is_admin, query.group is not None)
    params = {ACTOR_PARAM: actor.user_id, _GROUP: query.group}
    return await FORUMS.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _forums_statement(is_admin: bool, of_group: bool, shape: ListShape) -> Select[Any]:
    stmt = select(Forum).where(visible_to(is_admin=is_admin, user=bindparam(ACTOR_PARAM)))
    if of_group:
        limited = select(ForumGroup.forum_id).where(ForumGroup.group_id == bindparam(_GROUP))
        stmt = stmt.where(Forum.id.in_(limited))
    return FORUMS.apply_shape(counted(stmt), shape)


async def check_forum_groups(session: AsyncSession, *, actor: Principal, ids: list[int]) -> None:
    """Groups a forum is newly limited to must be groups the actor sees (members, admins).

    Both an unknown group and one the actor is not in get the same 400, so neither leaks.
    """
    await check_groups_exist(session, ids=ids, field="group_ids")
    if actor.is_admin:
        return
    mine = await group_ids_of(session, user_id=actor.user_id)
    for group_id in ids:
        if group_id not in mine:
            raise ValidationFailed.field("group_ids", invalid_pk(group_id))


async def do_create_forum(session: AsyncSession, *, actor: Principal, data: ForumCreate) -> Forum:
    """Create a forum; `check_forum_creator` and `check_forum_groups` have passed."""
    forum = Forum(
        title=data.title,
        slug=await unique_slug(session, Forum.slug, data.title, fallback="forum"),
        description=data.description,
        is_active=data.is_active,
        is_locked=data.is_locked,
        is_restricted=bool(data.group_ids),
        created_by=actor.user_id,
    )
    session.add(forum)
    await session.flush()
    session.add_all(ForumGroup(forum_id=forum.id, group_id=g) for g in data.group_ids)
    await session.flush()
    _forum_activity(session, actor, forum, "forum_created", f"Created forum {forum.title!r}.")
    return forum


@dataclass(frozen=True, slots=True)
class ForumChange:
    """A checked change of a forum: the columns that change, and its new groups if they do."""

    fields: dict[str, Any]
    group_ids: list[int] | None


async def check_forum_update(
    session: AsyncSession, *, actor: Principal, forum: Forum, data: ForumUpdate
) -> ForumChange:
    """What the body changes, once the actor may make each change (after
    `check_forum_changer`): its creator and admins anything, its groups' moderators
    `is_locked`.

    Only fields whose value differs count as changes, so a moderator may PUT back what they
    read with `is_locked` flipped. `group_ids` replaces the set; the slug never changes.
    """
    sent = check_changes(data)
    group_ids: list[int] | None = sent.pop("group_ids", None)
    current = (await linked_group_ids(session, forum_ids=[forum.id])).get(forum.id, [])
    changed = {f: v for f, v in sent.items() if getattr(forum, f) != v}
    # [] opens a limited forum to everyone, even one whose groups have all been deleted.
    new_groups = group_ids is not None and (
        set(group_ids) != set(current) or forum.is_restricted != bool(group_ids)
    )
    if (new_groups or changed.keys() - MODERATED_FIELDS) and not manages(actor, forum):
        raise PermissionDenied()
    if group_ids is not None and new_groups:
        await check_forum_groups(
            session, actor=actor, ids=[g for g in group_ids if g not in current]
        )
        return ForumChange(changed, group_ids)
    return ForumChange(changed, None)


async def do_update_forum(
    session: AsyncSession, *, actor: Principal, forum: Forum, change: ForumChange
) -> Forum:
    """Apply a change `check_forum_update` returned."""
    for field, value in change.fields.items():
        setattr(forum, field, value)
    if change.group_ids is not None:
        await session.execute(delete(ForumGroup).where(ForumGroup.forum_id == forum.id))
        session.add_all(ForumGroup(forum_id=forum.id, group_id=g) for g in change.group_ids)
        forum.is_restricted = bool(change.group_ids)
        # The links are not the forum's columns: updated_at must still tell of the change.
        forum.updated_at = utcnow()
    await session.flush()
    _forum_activity(session, actor, forum, "forum_updated", f"Updated forum {forum.title!r}.")
    if change.group_ids is not None or "is_active" in change.fields:
        # Who may read it has changed: its live room checks everyone in it again.
        revoke_after_commit(session, forum_room(forum.id))
    return forum


def check_forum_manager(actor: Principal, forum: Forum) -> None:
    """403 for those who may not delete the forum: anyone but its creator and admins."""
    if not manages(actor, forum):
        raise PermissionDenied()


async def do_delete_forum(session: AsyncSession, *, actor: Principal, forum: Forum) -> None:
    """Delete a forum with its posts (after `check_forum_manager`)."""
    forum_id = forum.id
    _forum_activity(session, actor, forum, "forum_deleted", f"Deleted forum {forum.title!r}.")
    room = forum_room(forum_id)
    await session.delete(forum)
    await session.flush()
    notify_after_commit(session, room, ROOM_CLOSED, {"forum": forum_id})


def forum_room(forum_id: int) -> str:
    """The forum's live chat room."""
    return f"forum:{forum_id}"


def _forum_activity(
    session: AsyncSession, actor: Principal, forum: Forum, activity_type: str, details: str
) -> None:
    record_activity_on(session, actor, ("forum", forum.id), activity_type, details)
