"""Routes: forums and their posts (Forum Management)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from models.forums import operations as forums
from models.forums import posts
from models.forums.schemas import (
    ForumCreate,
    ForumQuery,
    ForumRead,
    ForumUpdate,
    PostCreate,
    PostQuery,
    PostRead,
    PostReplace,
    PostUpdate,
)
from models.forums.tables import Forum, ForumPost
from web.handlers import (
    actor,
    no_content,
    ok,
    path_id,
    read_update,
    reads,
    render,
    session,
)
from web.jsonio import read_body, read_query
from web.pagination import page_body, page_request
from web.presence import OnlineRead, online_body
from web.routing import SEARCH, RouteTable

routes = RouteTable()
TAG = "forums"
FORUMS = "/api/lms/forum/forums/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
FORUM = FORUMS + r"{forum_id:[0-9]+}/"
FORUM_POSTS = FORUM + "posts/"
POSTS = "/api/lms/forum/posts/"
POST = POSTS + r"{post_id:[0-9]+}/"


async def _forum_body(request: web.Request, forum: Forum) -> dict[str, Any]:
    view = await forums.forum_view(session(request), forum=forum)
    return render(ForumRead, view.fields())


async def _post_body(request: web.Request, post: ForumPost) -> dict[str, Any]:
    view = await posts.post_view(session(request), post=post)
    return render(PostRead, view.fields())


# Forums


@routes.read(
    FORUMS, tag=TAG, query=ForumQuery, response=ForumRead, paginated=True, expensive=SEARCH
)
async def list_forums(request: web.Request) -> web.Response:
    """List the forums I may see (filter `is_active`, `is_locked`, `group`; `search` titles)."""
    query = read_query(request, ForumQuery)
    result = await forums.forum_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    views = await forums.forum_views(session(request), forums=result.rows)
    return ok(page_body(request, result, [render(ForumRead, v.fields()) for v in views]))


@routes.route("POST", FORUMS, tag=TAG, body=ForumCreate, response=ForumRead, status=201)
async def create_forum(request: web.Request) -> web.Response:
    """Create a forum (instructors and admins), open to all or limited to `group_ids`."""
    forums.check_forum_creator(actor(request))  # as DRF: permission before the body is read
    data = await read_body(request, ForumCreate)
    await forums.check_forum_groups(session(request), actor=actor(request), ids=data.group_ids)
    forum = await forums.do_create_forum(session(request), actor=actor(request), data=data)
    return ok(await _forum_body(request, forum), status=201)


@routes.read(FORUM, tag=TAG, response=ForumRead)
async def get_forum(request: web.Request) -> web.Response:
    """Retrieve a forum I may see."""
    forum = await forums.access_forum(
        session(request), actor=actor(request), forum_id=path_id(request, "forum_id")
    )
    return ok(await _forum_body(request, forum))


async def _update_forum(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    forum = await forums.access_forum(
        session(request), actor=actor(request), forum_id=path_id(request, "forum_id")
    )
    await forums.check_forum_changer(session(request), actor=actor(request), forum=forum)
    data = await read_update(request, ForumCreate, ForumUpdate)
    change = await forums.check_forum_update(
        session(request), actor=actor(request), forum=forum, data=data
    )
    forum = await forums.do_update_forum(
        session(request), actor=actor(request), forum=forum, change=change
    )
    return ok(await _forum_body(request, forum))


routes.update_routes(
    FORUM,
    tag=TAG,
    partial=ForumUpdate,
    whole=ForumCreate,
    response=ForumRead,
    summary="Change a forum (its creator or an admin; its groups' moderators lock it)",
)(_update_forum)


@routes.route("DELETE", FORUM, tag=TAG, status=204)
async def delete_forum(request: web.Request) -> web.Response:
    """Delete a forum and its posts (its creator or an admin)."""
    forum = await forums.access_forum(
        session(request), actor=actor(request), forum_id=path_id(request, "forum_id")
    )
    forums.check_forum_manager(actor(request), forum)
    await forums.do_delete_forum(session(request), actor=actor(request), forum=forum)
    return no_content()


# Posts


def post_row(row: Sequence[Any]) -> dict[str, Any]:
    """A page row (models/forums/posts.py PAGE_COLUMNS) as PostRead renders a post, built
    directly; `tests/api/test_forums_posts.py` holds it to the detail's rendering."""
    (_id, forum, parent, content, author, pinned, edited, replies, created, updated) = row[:10]
    name, picture = row[10], row[11]
    return {
        "id": _id,
        "forum": forum,
        "parent": parent,
        "content": content,
        "author_id": author,
        "author": {"id": author, "name": name or author, "picture": picture},
        "is_pinned": pinned,
        "is_edited": edited is not None,
        "edited_at": edited,  # orjson writes UTC as ...Z (web/jsonio.py)
        "reply_count": replies,
        "created_at": created,
        "updated_at": updated,
    }


async def _post_page(request: web.Request, *, forum_id: int | None) -> web.Response:
    query = read_query(request, PostQuery)
    result = await posts.post_page(
        reads(request),
        session(request),
        actor=actor(request),
        query=query,
        page=page_request(request),
        forum_id=forum_id,
    )
    return ok(page_body(request, result, [post_row(row) for row in result.rows]))


@routes.read(POSTS, tag=TAG, query=PostQuery, response=PostRead, paginated=True)
async def list_posts(request: web.Request) -> web.Response:
    """List posts of the forums I may see (`forum`, `parent`, `top_level`, `author_id`)."""
    return await _post_page(request, forum_id=None)


@routes.read(FORUM_POSTS, tag=TAG, query=PostQuery, response=PostRead, paginated=True)
async def list_forum_posts(request: web.Request) -> web.Response:
    """List a forum's posts, as `posts/?forum=<id>` does (404 for a forum I cannot see)."""
    return await _post_page(request, forum_id=path_id(request, "forum_id"))


@routes.route(
    "POST",
    POSTS,
    tag=TAG,
    body=PostCreate,
    response=PostRead,
    status=201,
    audit="forum_post_created",
)
async def create_post(request: web.Request) -> web.Response:
    """Post in a forum I may see, or reply to one of its posts (`parent`)."""
    data = await read_body(request, PostCreate)
    forum = await posts.access_post_forum(
        session(request), actor=actor(request), forum_id=data.forum
    )
    await posts.check_new_post(session(request), actor=actor(request), forum=forum, data=data)
    view = await posts.do_create_post(
        session(request), actor=actor(request), forum=forum, data=data
    )
    return ok(render(PostRead, view.fields()), status=201)


@routes.read(POST, tag=TAG, response=PostRead)
async def get_post(request: web.Request) -> web.Response:
    """Retrieve a post of a forum I may see."""
    post, _ = await posts.access_post(
        session(request), actor=actor(request), post_id=path_id(request, "post_id")
    )
    return ok(await _post_body(request, post))


async def _update_post(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    post, forum = await posts.access_post(
        session(request), actor=actor(request), post_id=path_id(request, "post_id")
    )
    await posts.check_post_changer(session(request), actor=actor(request), post=post, forum=forum)
    data = await read_update(request, PostReplace, PostUpdate)
    changes = await posts.check_post_update(
        session(request), actor=actor(request), post=post, forum=forum, data=data
    )
    post = await posts.do_update_post(
        session(request), actor=actor(request), post=post, forum=forum, changes=changes
    )
    return ok(await _post_body(request, post))


# Named `forum_post_updated` in the audit trail ("post" alone would be ambiguous there).
routes.update_routes(
    POST,
    tag=TAG,
    partial=PostUpdate,
    whole=PostReplace,
    response=PostRead,
    summary="Change a post (its author the content; the forum's moderators is_pinned)",
    audit="forum_post_updated",
)(_update_post)


@routes.route("DELETE", POST, tag=TAG, status=204, audit="forum_post_deleted")
async def delete_post(request: web.Request) -> web.Response:
    """Delete a post and its replies (its author, the forum's moderators, admins)."""
    post, forum = await posts.access_post(
        session(request), actor=actor(request), post_id=path_id(request, "post_id")
    )
    await posts.check_post_changer(session(request), actor=actor(request), post=post, forum=forum)
    await posts.do_delete_post(session(request), actor=actor(request), post=post, forum=forum)
    return no_content()


@routes.read(FORUM + "online/", tag=TAG, response=OnlineRead)
async def forum_online(request: web.Request) -> web.Response:
    """Who has the forum's live chat open now (whoever may read the forum)."""
    forum_id = path_id(request, "forum_id")
    await forums.access_forum(session(request), actor=actor(request), forum_id=forum_id)
    return ok(await online_body(request, f"forum:{forum_id}"))
