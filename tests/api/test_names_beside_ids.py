"""Names beside ids: every answer that names a user by id shows their name object too, from
the tenant's directory (their latest token's claims), or the id when the directory has none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, Factory, token_for
from tests.matchers import person

ADA = token_for("ada", "student", name="Ada Lovelace", picture="https://pics.example/ada.png")
GRACE = token_for("grace", "instructor", name="Grace Hopper")
ADA_PERSON = person("ada", "Ada Lovelace", "https://pics.example/ada.png")
GRACE_PERSON = person("grace", "Grace Hopper")

FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"
MESSAGES = "/api/lms/messaging/messages/"
CONVERSATIONS = "/api/lms/messaging/conversations/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
SCHEDULES = "/api/lms/schedule/schedules/"
PARTICIPANTS = "/api/lms/schedule/participants/"
AI_SESSIONS = "/api/lms/ai_chat/sessions/"
ACTIVITY = "/api/lms/activitylog/logs/"


async def created(api: Api, path: str, body: dict[str, Any], **who: Any) -> dict[str, Any]:
    reply = await api.post(path, body, **who)
    assert reply.status in (200, 201), reply.body
    return dict(reply.body)


@pytest.fixture
async def known(api: Api) -> None:
    """Ada and Grace have each made a request: the directory knows them."""
    for token in (ADA, GRACE):
        assert (await api.get("/api/lms/users/me/", token=token)).status == 200


@pytest.fixture
async def forum(api: Api, known: None) -> dict[str, Any]:
    return await created(api, FORUMS, {"title": "Open"}, token=GRACE)


async def test_a_post_shows_its_authors_name_and_picture(api: Api, forum: dict[str, Any]) -> None:
    post = await created(api, POSTS, {"forum": forum["id"], "content": "Hi"}, token=ADA)

    detail = await api.get(f"{POSTS}{post['id']}/", as_="student")

    assert post["author"] == ADA_PERSON
    assert detail.body["author"] == ADA_PERSON


async def test_the_posts_page_shows_each_authors_name(api: Api, forum: dict[str, Any]) -> None:
    await created(api, POSTS, {"forum": forum["id"], "content": "One"}, token=ADA)
    await created(api, POSTS, {"forum": forum["id"], "content": "Two"}, as_="student2")

    page = await api.get(f"{FORUMS}{forum['id']}/posts/", as_="student")

    assert [p["author"] for p in page.body["results"]] == [person("student-2"), ADA_PERSON]


async def test_a_forum_shows_its_creators_name(api: Api, forum: dict[str, Any]) -> None:
    listed = await api.get(FORUMS, as_="student")

    assert forum["created_by_person"] == GRACE_PERSON
    assert listed.body["results"][0]["created_by_person"] == GRACE_PERSON


async def test_an_assignment_shows_its_creators_name_in_the_list_and_the_detail(
    api: Api, known: None, make: Factory
) -> None:
    course = await make.course(as_="admin", instructor_id="grace")
    body = {"course": course["id"], "title": "Essay", "points": 10}
    assignment = await created(api, "/api/lms/courses/assignments/", body, token=GRACE)

    listed = await api.get(f"/api/lms/courses/assignments/?course={course['id']}", token=GRACE)
    detail = await api.get(f"/api/lms/courses/assignments/{assignment['id']}/", as_="admin")

    assert assignment["created_by_person"] == GRACE_PERSON
    assert listed.body["results"][0]["created_by_person"] == GRACE_PERSON
    assert detail.body["created_by_person"] == GRACE_PERSON


async def test_a_user_the_directory_never_saw_shows_as_their_id(api: Api) -> None:
    await api.get("/api/lms/users/me/", token=ADA)

    message = await created(api, MESSAGES, {"recipient_id": "stranger", "content": "Hi"}, token=ADA)

    assert message["recipient"] == person("stranger")
    assert message["sender"] == ADA_PERSON


async def test_messages_and_conversations_show_both_names(api: Api, known: None) -> None:
    await created(api, MESSAGES, {"recipient_id": "grace", "content": "Hi"}, token=ADA)

    inbox = await api.get(MESSAGES, token=GRACE)
    conversations = await api.get(CONVERSATIONS, token=GRACE)

    message = inbox.body["results"][0]
    assert (message["sender"], message["recipient"]) == (ADA_PERSON, GRACE_PERSON)
    conversation = conversations.body["results"][0]
    assert (conversation["with"], conversation["with_person"]) == ("ada", ADA_PERSON)


async def test_a_group_and_its_members_show_their_names(api: Api, known: None) -> None:
    group = await created(api, GROUPS, {"name": "Readers"}, token=GRACE)
    member = await created(api, MEMBERS, {"group": group["id"], "user_id": "ada"}, token=GRACE)

    listed = await api.get(f"{MEMBERS}?group={group['id']}", token=GRACE)

    assert group["created_by_person"] == GRACE_PERSON
    assert (member["user"], member["added_by_person"]) == (ADA_PERSON, GRACE_PERSON)
    by_user = {m["user_id"]: m["user"] for m in listed.body["results"]}
    assert by_user == {"ada": ADA_PERSON, "grace": GRACE_PERSON}


async def test_enrollments_show_the_enrolled_users_name(
    api: Api, make: Factory, known: None
) -> None:
    course = await make.course()
    path = f"{ENROLLMENTS}course/{course['id']}/"
    enrollment = await created(api, path, {"user_id": "ada"}, as_="admin")

    listed = await api.get(f"{ENROLLMENTS}?course={course['id']}", as_="admin")

    assert (enrollment["user"], enrollment["user_person"]) == ("ada", ADA_PERSON)
    assert [e["user_person"] for e in listed.body["results"]] == [ADA_PERSON]


async def test_a_course_shows_its_instructors_name(api: Api, known: None) -> None:
    body = {"title": "Compilers", "code": "CMP1", "level": "Beginner", "status": "Published"}
    course = await created(api, "/api/lms/courses/courses/", body, token=GRACE)

    detail = await api.get(f"/api/lms/courses/courses/{course['id']}/", as_="student")

    assert course["instructor"] == GRACE_PERSON
    assert detail.body["instructor"] == GRACE_PERSON


async def test_a_schedule_and_its_participants_show_their_names(api: Api, known: None) -> None:
    times = {"start_time": "2027-01-05T10:00:00Z", "end_time": "2027-01-05T11:00:00Z"}
    schedule = await created(api, SCHEDULES, {"title": "Review", **times}, token=GRACE)
    invite = {"schedule": schedule["id"], "user_id": "ada"}
    participant = await created(api, PARTICIPANTS, invite, token=GRACE)

    assert schedule["created_by_person"] == GRACE_PERSON
    assert (participant["user"], participant["added_by_person"]) == (ADA_PERSON, GRACE_PERSON)


async def test_an_ai_session_shows_its_owners_name(api: Api, known: None) -> None:
    chat = await created(api, AI_SESSIONS, {"topic": "Loops"}, token=ADA)

    listed = await api.get(AI_SESSIONS, token=ADA)

    assert chat["user"] == ADA_PERSON
    assert listed.body["results"][0]["user"] == ADA_PERSON


async def test_activity_records_show_the_actors_name(api: Api, forum: dict[str, Any]) -> None:
    await api.settled()

    listed = await api.get(f"{ACTIVITY}?user_id=grace", as_="admin")

    assert listed.body["results"]
    assert {r["user"]["name"] for r in listed.body["results"]} == {"Grace Hopper"}


async def test_a_new_name_shows_everywhere_the_user_is_named(
    api: Api, forum: dict[str, Any]
) -> None:
    post = await created(api, POSTS, {"forum": forum["id"], "content": "Hi"}, token=ADA)
    renamed = token_for("ada", "student", name="Ada King")
    await api.get("/api/lms/users/me/", token=renamed)

    detail = await api.get(f"{POSTS}{post['id']}/", as_="student")

    assert detail.body["author"] == person("ada", "Ada King")


async def test_the_online_list_shows_names_beside_the_ids(api: Api, forum: dict[str, Any]) -> None:
    reply = await api.get(f"{FORUMS}{forum['id']}/online/", as_="student")

    assert reply.status == 200
    assert reply.body["people"] == [person(u) for u in reply.body["users"]]
