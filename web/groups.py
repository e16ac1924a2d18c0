"""Routes: groups and their members (Groups Management)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.groups import operations as groups
from models.groups.schemas import (
    GroupCreate,
    GroupQuery,
    GroupRead,
    GroupUpdate,
    MemberCreate,
    MemberQuery,
    MemberRead,
    MemberRoleBody,
    MemberUpdate,
)
from models.groups.tables import Group
from models.people.names import with_people
from models.validation import check_changes
from web.handlers import actor, no_content, ok, path_id, read_update, render, session
from web.jsonio import read_body, read_query
from web.pagination import page_body, page_request
from web.presence import OnlineRead, online_body
from web.routing import SEARCH, RouteTable

routes = RouteTable()
TAG = "groups"
GROUPS = "/api/lms/groups/groups/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
GROUP = GROUPS + r"{group_id:[0-9]+}/"
MEMBERS = "/api/lms/groups/members/"
MEMBER = MEMBERS + r"{member_id:[0-9]+}/"


async def _group_body(request: web.Request, group: Group) -> dict[str, Any]:
    view = await groups.group_view(session(request), actor=actor(request), group=group)
    return render(GroupRead, view.fields())


@routes.read(
    GROUPS, tag=TAG, query=GroupQuery, response=GroupRead, paginated=True, expensive=SEARCH
)
async def list_groups(request: web.Request) -> web.Response:
    """List my groups (`member=me`); admins see every group unless they ask for theirs."""
    query = read_query(request, GroupQuery)
    page = page_request(request)
    result = await groups.group_page(session(request), actor=actor(request), query=query, page=page)
    views = await groups.group_views(session(request), actor=actor(request), groups=result.rows)
    return ok(page_body(request, result, [render(GroupRead, v.fields()) for v in views]))


@routes.route("POST", GROUPS, tag=TAG, body=GroupCreate, response=GroupRead, status=201)
async def create_group(request: web.Request) -> web.Response:
    """Create a group (instructors and admins); its creator becomes its owner."""
    groups.check_group_creator(actor(request))  # as DRF: permission before the body is read
    data = await read_body(request, GroupCreate)
    group = await groups.do_create_group(session(request), actor=actor(request), data=data)
    return ok(await _group_body(request, group), status=201)


@routes.read(GROUP, tag=TAG, response=GroupRead)
async def get_group(request: web.Request) -> web.Response:
    """Retrieve a group (its members and admins)."""
    group, _ = await groups.access_group(
        session(request), actor=actor(request), group_id=path_id(request, "group_id")
    )
    return ok(await _group_body(request, group))


async def _update_group(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    group, _ = await groups.access_group(
        session(request),
        actor=actor(request),
        group_id=path_id(request, "group_id"),
        for_change=True,
    )
    data = await read_update(request, GroupCreate, GroupUpdate)
    group = await groups.do_update_group(
        session(request), actor=actor(request), group=group, changes=check_changes(data)
    )
    return ok(await _group_body(request, group))


routes.update_routes(
    GROUP,
    tag=TAG,
    partial=GroupUpdate,
    whole=GroupCreate,
    response=GroupRead,
    summary="Change a group (its owners or an admin)",
)(_update_group)


@routes.route("DELETE", GROUP, tag=TAG, status=204)
async def delete_group(request: web.Request) -> web.Response:
    """Delete a group and its memberships (its owners or an admin)."""
    group, _ = await groups.access_group(
        session(request),
        actor=actor(request),
        group_id=path_id(request, "group_id"),
        for_change=True,
    )
    await groups.do_delete_group(session(request), actor=actor(request), group=group)
    return no_content()


@routes.read(MEMBERS, tag=TAG, query=MemberQuery, response=MemberRead, paginated=True)
async def list_members(request: web.Request) -> web.Response:
    """Members of my groups (filter by `group`, `user_id`, `role`); admins see all."""
    query = read_query(request, MemberQuery)
    page = page_request(request)
    result = await groups.member_page(
        session(request), actor=actor(request), query=query, page=page
    )
    return ok(page_body(request, result, [render(MemberRead, with_people(m)) for m in result.rows]))


@routes.route(
    "POST",
    MEMBERS,
    tag=TAG,
    body=MemberCreate,
    response=MemberRead,
    status=201,
    errors=(409,),
    audit="group_member_created",
)
async def add_member(request: web.Request) -> web.Response:
    """Add a user to a group (owners and admins; moderators add `member`s)."""
    data = await read_body(request, MemberCreate)
    group, role = await groups.access_new_member_group(
        session(request), actor=actor(request), group_id=data.group
    )
    await groups.check_new_member(
        session(request), actor=actor(request), group=group, role=role, data=data
    )
    member = await groups.do_add_member(
        session(request), actor=actor(request), group=group, data=data
    )
    return ok(render(MemberRead, with_people(member)), status=201)


@routes.read(MEMBER, tag=TAG, response=MemberRead)
async def get_member(request: web.Request) -> web.Response:
    """Retrieve a membership of one of my groups."""
    member, _, _ = await groups.access_member(
        session(request), actor=actor(request), member_id=path_id(request, "member_id")
    )
    return ok(render(MemberRead, with_people(member)))


async def _update_member(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    member, group, role = await groups.access_member(
        session(request), actor=actor(request), member_id=path_id(request, "member_id")
    )
    groups.check_role_changer(actor(request), role)
    data = await read_update(request, MemberRoleBody, MemberUpdate)
    new_role = await groups.check_role_change(
        session(request), member=member, group=group, role=data.role
    )
    member = await groups.do_change_member_role(
        session(request), actor=actor(request), member=member, group=group, role=new_role
    )
    return ok(render(MemberRead, with_people(member)))


# Named `group_member_updated` in the audit trail ("member" alone would be ambiguous there).
routes.update_routes(
    MEMBER,
    tag=TAG,
    partial=MemberUpdate,
    whole=MemberRoleBody,
    response=MemberRead,
    summary="Change a member's role (the group's owners or an admin)",
    audit="group_member_updated",
)(_update_member)


# 400: the last owner may not leave.
@routes.route("DELETE", MEMBER, tag=TAG, status=204, errors=(400,), audit="group_member_deleted")
async def remove_member(request: web.Request) -> web.Response:
    """Remove a member (owners, admins; moderators remove `member`s); or leave the group."""
    member, group, role = await groups.access_member(
        session(request), actor=actor(request), member_id=path_id(request, "member_id")
    )
    await groups.check_member_remover(
        session(request), actor=actor(request), member=member, group=group, actor_role=role
    )
    await groups.do_remove_member(
        session(request), actor=actor(request), member=member, group=group
    )
    return no_content()


@routes.read(GROUP + "online/", tag=TAG, response=OnlineRead)
async def group_online(request: web.Request) -> web.Response:
    """Who has the group's chat open now (its members and admins may ask)."""
    group_id = path_id(request, "group_id")
    await groups.access_group(session(request), actor=actor(request), group_id=group_id)
    return ok(await online_body(request, groups.group_room(group_id)))
