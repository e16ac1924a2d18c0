"""Forum posts and their replies: who reads, writes, edits, pins and deletes them.

A post is visible exactly when its forum is (`visible_forums`). Anyone who sees an active,
unlocked forum posts in it; authors edit their own content; the forum's moderators (its
creator, admins, owners and moderators of its groups) pin and delete any post.
A WebSocket `post` frame calls the same `access_post_forum`, `check_new_post` and
`do_create_post` as REST, with the same body model.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models.base import utcnow
from models.effects import notify_after_commit
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.forums.operations import (
    access_forum,
    forum_readers,
    forum_room,
    moderates,
    visible_forums,
    visible_to,
)
from models.forums.schemas import PostCreate, PostQuery, PostRead, PostUpdate
from models.forums.tables import Forum, ForumPost
from models.identity import Principal
from models.listing import Listing, ListShape, PageRequest, PageResult, count_on_rows, read_rows
from models.logs.operations import record_activity_on
from models.notifications.operations import notify_users
from models.people.names import named, person_at
from models.people.tables import User
from models.rendering import dump
from models.validation import check_changes

LOCKED = "This forum is locked."
INACTIVE = "This forum is not active."
OTHER_FORUM = "The parent post belongs to another forum."


@dataclass(frozen=True, slots=True)
class PostView:
    post: ForumPost
    reply_count: int

    def fields(self) -> dict[str, Any]:
        p = self.post
        return {
            "id": p.id,
            "forum": p.forum_id,
            "parent": p.parent_id,
            "content": p.content,
            "author_id": p.author_id,
            "author": person_at(p, "author_id"),
            "is_pinned": p.is_pinned,
            "is_edited": p.edited_at is not None,
            "edited_at": p.edited_at,
            "reply_count": self.reply_count,
            "created_at": p.created_at,
            "updated_at": p.updated_at,
        }


async def post_views(session: AsyncSession, *, posts: Sequence[ForumPost]) -> list[PostView]:
    """The posts with their direct reply counts (one query for a page)."""
    ids = [p.id for p in posts]
    await named(session, posts)
    counts: dict[int, int] = {}
    if ids:
        rows = await session.execute(
            select(ForumPost.parent_id, func.count())
            .where(ForumPost.parent_id.in_(ids))
            .group_by(ForumPost.parent_id)
        )
        counts = {parent: int(n) for parent, n in rows.all() if parent is not None}
    return [PostView(p, counts.get(p.id, 0)) for p in posts]


async def post_view(session: AsyncSession, *, post: ForumPost) -> PostView:
    return (await post_views(session, posts=[post]))[0]


POSTS = Listing(
    filters={
        "forum": ForumPost.forum_id,
        "parent": ForumPost.parent_id,
        "author_id": ForumPost.author_id,
        "is_pinned": ForumPost.is_pinned,
    },
    # Ties in time go by id, in the same direction.
    ordering={"created_at": (ForumPost.created_at, ForumPost.id)},
    default=(ForumPost.created_at.desc(), ForumPost.id.desc()),
    first=(ForumPost.is_pinned.desc(),),
)


_ACTOR = "lms_actor"
_FORUM = "lms_forum"
_REPLIES = ForumPost.__table__.alias("replies")
# A page row, in PostRead's order (`post_row`, web/forums.py, unpacks it by position): the
# post, its direct reply count, its author's name and picture (the directory, LEFT OUTER
# JOINed), the total of the list last.
PAGE_COLUMNS = (
    ForumPost.id,
    ForumPost.forum_id,
    ForumPost.parent_id,
    ForumPost.content,
    ForumPost.author_id,
    ForumPost.is_pinned,
    ForumPost.edited_at,
    select(func.count())
    .select_from(_REPLIES)
    .where(_REPLIES.c.parent_id == ForumPost.id)
    .scalar_subquery(),
    ForumPost.created_at,
    ForumPost.updated_at,
    User.name,
    User.picture,
    func.count().over(),
)


@functools.lru_cache(maxsize=256)
def _page_statement(
    is_admin: bool, in_forum: bool, top_level: bool | None, shape: ListShape
) -> Select[Any]:
    """Posts of the forums I see, pinned first, then newest first unless
    `ordering=created_at`, as rows of PAGE_COLUMNS on bound parameters: built once per
    shape, so SQLAlchemy's compiled cache and the driver's prepared statements hit.

    A forum filter naming a forum I cannot see lists nothing, as an unknown one does.
    """
    stmt = (
        select(*PAGE_COLUMNS)
        .join(Forum, Forum.id == ForumPost.forum_id)
        .outerjoin(User, User.user_id == ForumPost.author_id)
        .where(visible_to(is_admin=is_admin, user=bindparam(_ACTOR)))
    )
    if in_forum:
        stmt = stmt.where(ForumPost.forum_id == bindparam(_FORUM))
    if top_level is not None:
        parent = ForumPost.parent_id
        stmt = stmt.where(parent.is_(None) if top_level else parent.is_not(None))
    return POSTS.apply_shape(stmt, shape)


async def post_page(
    reads: AsyncEngine,
    session: AsyncSession,
    *,
    actor: Principal,
    query: PostQuery,
    page: PageRequest,
    forum_id: int | None = None,
) -> PageResult:
    """A page of posts as rows of PAGE_COLUMNS, in one statement on the tenant's
    autocommit engine (`read_rows`), the forum's access check folded in: only a page with
    no rows asks whether the forum is one the actor sees (404 if not), before the empty
    first page or the 404 "Invalid page." of a page past the end."""
    rows: Sequence[Any] = ()
    if not page.past_any_database:
        shape = POSTS.shape(query)
        params = POSTS.values(query, shape)
        params.update(page.params())
        params[_ACTOR], params[_FORUM] = actor.user_id, forum_id
        stmt = _page_statement(actor.is_admin, forum_id is not None, query.top_level, shape)
        rows = await read_rows(reads, stmt, params)
    if not rows and forum_id is not None:
        await access_forum(session, actor=actor, forum_id=forum_id)
    return count_on_rows(rows, page)


async def access_post(
    session: AsyncSession, *, actor: Principal, post_id: int
) -> tuple[ForumPost, Forum]:
    """The post and its forum, if the actor may see the forum (404 otherwise)."""
    post = await session.get(ForumPost, post_id)
    if post is None:
        raise NotFound()
    return post, await access_forum(session, actor=actor, forum_id=post.forum_id)


async def access_post_forum(session: AsyncSession, *, actor: Principal, forum_id: int) -> Forum:
    """The forum a new post names, if the actor may see it (else a 400 on `forum`)."""
    try:
        return await access_forum(session, actor=actor, forum_id=forum_id)
    except NotFound:
        raise ValidationFailed.field("forum", invalid_pk(forum_id)) from None


def check_open_for_posts(forum: Forum) -> None:
    """No new posts in an inactive or locked forum, whoever asks (403)."""
    if not forum.is_active:
        raise PermissionDenied(INACTIVE)
    if forum.is_locked:
        raise PermissionDenied(LOCKED)


async def check_new_post(
    session: AsyncSession, *, actor: Principal, forum: Forum, data: PostCreate
) -> None:
    """The forum takes posts (403), and the `parent` replied to is a post of it (400)."""
    check_open_for_posts(forum)
    if data.parent is None:
        return
    stmt = (
        select(ForumPost.forum_id)
        .join(Forum, Forum.id == ForumPost.forum_id)
        .where(ForumPost.id == data.parent, visible_forums(actor))
    )
    parent_forum = await session.scalar(stmt)
    if parent_forum is None:
        raise ValidationFailed.field("parent", invalid_pk(data.parent))
    if parent_forum != forum.id:
        raise ValidationFailed.field("parent", OTHER_FORUM)


async def do_create_post(
    session: AsyncSession, *, actor: Principal, forum: Forum, data: PostCreate
) -> PostView:
    """Post in a forum, or reply to a post of it (`parent`), once `check_new_post` passed;
    a new post has no replies, so its view needs no count."""
    post = ForumPost(
        forum_id=forum.id, parent_id=data.parent, content=data.content, author_id=actor.user_id
    )
    session.add(post)
    await session.flush()
    await named(session, [post])  # the actor: from their token, no statement
    _post_activity(session, actor, post, "forum_post_created", f"Posted in forum {forum.title!r}.")
    view = PostView(post, 0)
    _notify(session, post, "post", view)
    if post.parent_id is not None:
        await _notify_replied_to(session, actor, post)
    return view


async def _notify_replied_to(session: AsyncSession, actor: Principal, post: ForumPost) -> None:
    """The author of the post replied to finds the reply in their inbox, if they still read
    the forum (read as a member would: an admin outside a restricted forum is not told)."""
    author = await session.scalar(select(ForumPost.author_id).where(ForumPost.id == post.parent_id))
    if author is None or author == actor.user_id:
        return
    readers = await forum_readers(
        session, forum_id=post.forum_id, actors=[Principal(author, actor.tenant)]
    )
    if author not in readers:
        return
    notify_users(
        session,
        actor_id=actor.user_id,
        event_key=f"reply:{post.id}",
        type_="reply",
        recipients=[author],
        title=f"{actor.user_id} replied to your post",
        body=post.content[:500],
        data={"forum_id": post.forum_id, "post_id": post.id, "parent_id": post.parent_id},
    )


async def check_post_changer(
    session: AsyncSession, *, actor: Principal, post: ForumPost, forum: Forum
) -> None:
    """403 for those who may change nothing about the post: neither author nor moderator."""
    if post.author_id != actor.user_id and not await moderates(session, actor=actor, forum=forum):
        raise PermissionDenied()


async def check_post_update(
    session: AsyncSession, *, actor: Principal, post: ForumPost, forum: Forum, data: PostUpdate
) -> dict[str, Any]:
    """The fields the body changes, once the actor may change each: its author the content,
    the forum's moderators `is_pinned`.

    Only fields whose value differs count as changes (PUT may send back what GET gave); a
    change the actor may not make is a 403. Admins pin and delete, but do not rewrite
    someone else's words.
    """
    sent = check_changes(data)
    changes = {f: v for f, v in sent.items() if getattr(post, f) != v}
    if "content" in changes and post.author_id != actor.user_id:
        raise PermissionDenied()
    if "is_pinned" in changes and not await moderates(session, actor=actor, forum=forum):
        raise PermissionDenied()
    return changes


async def do_update_post(
    session: AsyncSession,
    *,
    actor: Principal,
    post: ForumPost,
    forum: Forum,
    changes: dict[str, Any],
) -> ForumPost:
    """Apply the changes `check_post_update` returned; new content marks the post edited."""
    if "content" in changes:
        post.content = changes["content"]
        post.edited_at = utcnow()
    if "is_pinned" in changes:
        post.is_pinned = changes["is_pinned"]
    await session.flush()
    _post_activity(
        session, actor, post, "forum_post_updated", f"Updated a post in forum {forum.title!r}."
    )
    _notify(session, post, "post_updated", await post_view(session, post=post))
    return post


async def do_delete_post(
    session: AsyncSession, *, actor: Principal, post: ForumPost, forum: Forum
) -> None:
    """Delete a post and, with it, every reply below it (after `check_post_changer`)."""
    _post_activity(
        session, actor, post, "forum_post_deleted", f"Deleted a post in forum {forum.title!r}."
    )
    removed = {"id": post.id, "forum": post.forum_id, "parent": post.parent_id}
    replies = await _reply_ids(session, post.id)
    await session.delete(post)
    await session.flush()
    # The history then shows none of it, the replies deleted with it included.
    notify_after_commit(
        session,
        forum_room(forum.id),
        "post_deleted",
        removed,
        also_supersedes=tuple(f"post:{i}" for i in replies),
    )


async def _reply_ids(session: AsyncSession, post_id: int) -> list[int]:
    """Every reply below a post, at any depth (one query per level)."""
    found: list[int] = []
    level = [post_id]
    while level:
        stmt = select(ForumPost.id).where(ForumPost.parent_id.in_(level))
        level = list((await session.scalars(stmt)).all())
        found += level
    return found


def _notify(session: AsyncSession, post: ForumPost, type_: str, view: PostView) -> None:
    """The post as REST renders it, to the forum's live room once committed."""
    body = dump(PostRead, view.fields())
    notify_after_commit(session, forum_room(post.forum_id), type_, body)


def _post_activity(
    session: AsyncSession, actor: Principal, post: ForumPost, activity_type: str, details: str
) -> None:
    record_activity_on(session, actor, ("forum_post", post.id), activity_type, details)
