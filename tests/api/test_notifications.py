"""Notifications: each source fills the right inboxes (never the actor's), preferences,
read state, and nobody reads anyone else's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.schedules_data import SCHEDULES, SEED_SCHEDULE, schedule_url
from tests.api.test_forums import new_forum, new_post
from tests.api.test_messaging import GROUPS, add_member, dm, remove_member, to_group
from tests.matchers import ID, NOT_FOUND, TIMESTAMP, q

NOTIFICATIONS = "/api/lms/notifications/notifications/"
READ_ALL = NOTIFICATIONS + "read-all/"
UNREAD_COUNT = NOTIFICATIONS + "unread-count/"
PREFERENCES = "/api/lms/notifications/preferences/"
PARTICIPANTS = "/api/lms/schedule/participants/"
ALL_IN_APP = {
    "announcement": "in_app",
    "lesson_created": "in_app",
    "direct_message": "in_app",
    "mention": "in_app",
    "reply": "in_app",
    "schedule_invitation": "in_app",
    "schedule_changed": "in_app",
    "schedule_cancelled": "in_app",
    "grade": "in_app",
    "certificate": "in_app",
}


async def inbox(api, as_: str, **params: Any) -> list[dict[str, Any]]:
    """Everything in the user's inbox once the tasks sent so far have run, newest first."""
    await api.settled()
    reply = await api.get(q(NOTIFICATIONS, params) if params else NOTIFICATIONS, as_=as_)
    assert reply.status == 200, reply.body
    return list(reply.body["results"])


async def types_in(api, as_: str) -> list[str]:
    return [n["type"] for n in await inbox(api, as_)]


async def announce(api, course_id: int, title: str = "Exam moved") -> dict[str, Any]:
    reply = await api.post(
        f"/api/lms/courses/courses/{course_id}/announce/",
        {"title": title, "message": "Now on Friday."},
        as_="instructor",
    )
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def course(api, make) -> dict[str, Any]:
    """A published course of instructor-1; student-1 and student-2 enrolled."""
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


async def set_preferences(api, as_: str, body: dict[str, Any]) -> None:
    reply = await api.patch(PREFERENCES, body, as_=as_)
    assert reply.status == 200, reply.body


# Sources


async def test_an_announcement_reaches_every_enrollee_as_rest_renders_it(api, course):
    announcement = await announce(api, course["id"])

    for who in ("student", "student2"):
        assert await inbox(api, who) == [
            {
                "id": ID,
                "type": "announcement",
                "title": "Exam moved",
                "body": "Now on Friday.",
                "data": {"course_id": course["id"], "announcement_id": announcement["id"]},
                "created_at": TIMESTAMP,
                "read_at": None,
                "is_read": False,
            }
        ]


async def test_an_announcement_does_not_notify_its_instructor_or_outsiders(api, course):
    await announce(api, course["id"])

    assert await inbox(api, "instructor") == []
    assert await inbox(api, "admin") == []


async def test_a_new_lesson_reaches_the_enrollees_only(api, make, course):
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"])

    [notification] = await inbox(api, "student")
    assert notification["type"] == "lesson_created"
    assert notification["data"] == {
        "course_id": course["id"],
        "module_id": module["id"],
        "lesson_id": lesson["id"],
    }
    assert await types_in(api, "student2") == ["lesson_created"]
    assert await inbox(api, "instructor") == []


async def test_a_draft_course_s_new_lesson_notifies_nobody(api, make):
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    changed = await api.patch(
        f"/api/lms/courses/courses/{course['id']}/", {"status": "Draft"}, as_="instructor"
    )
    assert changed.status == 200, changed.body
    module = await make.module(course["id"])

    await make.lesson(module["id"])

    assert await inbox(api, "student") == []


async def test_a_direct_message_reaches_its_recipient_not_its_sender(api):
    message = await dm(api, "student2", "student-1", "see you at 5")

    [notification] = await inbox(api, "student")
    assert notification["type"] == "direct_message"
    assert notification["body"] == "see you at 5"
    assert notification["data"] == {"message_id": message["id"], "sender_id": "student-2"}
    assert await inbox(api, "student2") == []


async def test_a_group_message_notifies_the_members_it_mentions(api):
    group = await api.post(GROUPS, {"name": "Study"}, as_="instructor")
    await add_member(api, group.body["id"], "student-1")
    await add_member(api, group.body["id"], "student-2")

    message = await to_group(api, "instructor", group.body["id"], "@student-1 please review")

    [notification] = await inbox(api, "student")
    assert notification["type"] == "mention"
    assert notification["data"] == {
        "message_id": message["id"],
        "sender_id": "instructor-1",
        "group_id": group.body["id"],
    }
    assert await inbox(api, "student2") == []


async def test_a_mention_of_someone_outside_the_group_or_of_oneself_notifies_nobody(api):
    group = await api.post(GROUPS, {"name": "Study"}, as_="instructor")
    await add_member(api, group.body["id"], "student-1")

    await to_group(api, "student", group.body["id"], "@student-1 and @student-2, hello")

    assert await inbox(api, "student") == []
    assert await inbox(api, "student2") == []


async def test_a_reply_notifies_the_author_of_the_post_replied_to(api):
    forum = await new_forum(api)
    post = await new_post(api, forum["id"], as_="student")

    reply = await new_post(api, forum["id"], as_="student2", parent=post["id"], content="Agreed")

    [notification] = await inbox(api, "student")
    assert notification["type"] == "reply"
    assert notification["body"] == "Agreed"
    assert notification["data"] == {
        "forum_id": forum["id"],
        "post_id": reply["id"],
        "parent_id": post["id"],
    }


async def test_replying_to_one_s_own_post_or_posting_notifies_nobody(api):
    forum = await new_forum(api)
    post = await new_post(api, forum["id"], as_="student")

    await new_post(api, forum["id"], as_="student", parent=post["id"])

    assert await inbox(api, "student") == []
    assert await inbox(api, "instructor") == []


async def test_a_reply_does_not_notify_an_author_who_no_longer_reads_the_forum(api):
    group = await api.post(GROUPS, {"name": "Study"}, as_="instructor")
    author = await add_member(api, group.body["id"], "student-1")
    await add_member(api, group.body["id"], "student-2")
    forum = await new_forum(api, group_ids=[group.body["id"]])
    post = await new_post(api, forum["id"], as_="student")
    await remove_member(api, author["id"])

    await new_post(api, forum["id"], as_="student2", parent=post["id"], content="Agreed")

    assert await inbox(api, "student") == []


async def schedule_with(api, *invited: str) -> dict[str, Any]:
    created = await api.post(SCHEDULES, SEED_SCHEDULE, as_="instructor")
    assert created.status == 201, created.body
    for user_id in invited:
        reply = await api.post(
            PARTICIPANTS, {"schedule": created.body["id"], "user_id": user_id}, as_="instructor"
        )
        assert reply.status == 201, reply.body
    return dict(created.body)


async def test_an_invitation_notifies_the_invited_user(api):
    schedule = await schedule_with(api, "student-1")

    [notification] = await inbox(api, "student")
    assert notification["type"] == "schedule_invitation"
    assert notification["title"] == "Team Meeting"
    assert notification["data"]["schedule_id"] == schedule["id"]
    assert await inbox(api, "instructor") == []


async def test_a_group_invitation_notifies_its_members(api):
    schedule = await schedule_with(api)
    group = await api.post(GROUPS, {"name": "Study"}, as_="instructor")
    await add_member(api, group.body["id"], "student-2")

    reply = await api.post(
        PARTICIPANTS, {"schedule": schedule["id"], "group": group.body["id"]}, as_="instructor"
    )

    assert reply.status == 201, reply.body
    assert await types_in(api, "student2") == ["schedule_invitation"]
    assert await inbox(api, "instructor") == []


async def test_a_schedule_change_notifies_its_participants_each_time(api):
    schedule = await schedule_with(api, "student-1")

    for location in ("Room B", "Room C"):
        reply = await api.patch(
            schedule_url(schedule["id"]), {"location": location}, as_="instructor"
        )
        assert reply.status == 200, reply.body

    assert await types_in(api, "student") == [
        "schedule_changed",
        "schedule_changed",
        "schedule_invitation",
    ]
    assert (await inbox(api, "student"))[0]["data"]["changed"] == ["location"]
    assert await inbox(api, "instructor") == []


async def test_cancelling_a_schedule_notifies_its_participants(api):
    schedule = await schedule_with(api, "student-1")

    reply = await api.patch(schedule_url(schedule["id"]), {"status": "cancelled"}, as_="instructor")

    assert reply.status == 200, reply.body
    assert (await types_in(api, "student"))[0] == "schedule_cancelled"


async def test_deleting_a_schedule_notifies_its_participants(api):
    schedule = await schedule_with(api, "student-1")

    reply = await api.delete(schedule_url(schedule["id"]), as_="instructor")

    assert reply.status == 204, reply.body
    latest = (await inbox(api, "student"))[0]
    assert latest["type"] == "schedule_cancelled"
    assert latest["data"] == {"schedule_id": schedule["id"], "deleted": True}


# Preferences


async def test_preferences_are_in_app_for_every_type_by_default(api):
    reply = await api.get(PREFERENCES, as_="student")

    assert reply.status == 200
    assert reply.body == ALL_IN_APP


async def test_a_type_turned_off_creates_no_row(api, course):
    await set_preferences(api, "student", {"announcement": "off"})

    await announce(api, course["id"])

    assert await inbox(api, "student") == []
    assert await types_in(api, "student2") == ["announcement"]


async def test_a_type_sent_by_email_is_still_in_the_inbox(api, course):
    await set_preferences(api, "student", {"announcement": "email"})

    await announce(api, course["id"])

    assert await types_in(api, "student") == ["announcement"]


async def test_put_sets_the_types_named_and_resets_the_others(api):
    await set_preferences(api, "student", {"reply": "off", "mention": "email"})

    reply = await api.put(PREFERENCES, {"mention": "off"}, as_="student")

    assert reply.status == 200
    assert reply.body == {**ALL_IN_APP, "mention": "off"}


async def test_patch_changes_only_the_types_named(api):
    await set_preferences(api, "student", {"reply": "off"})

    reply = await api.patch(PREFERENCES, {"mention": "email"}, as_="student")

    assert reply.body == {**ALL_IN_APP, "reply": "off", "mention": "email"}


async def test_an_unknown_type_is_a_400_on_that_key(api):
    reply = await api.put(PREFERENCES, {"homework": "off"}, as_="student")

    assert reply.status == 400
    assert reply.body == {"homework": ['"homework" is not a notification type.'], "status": 400}


async def test_an_unknown_channel_is_a_400_on_its_type(api):
    reply = await api.patch(PREFERENCES, {"reply": "sms"}, as_="student")

    assert reply.status == 400
    assert reply.body == {"reply": ['"sms" is not a valid choice.'], "status": 400}
    assert (await api.get(PREFERENCES, as_="student")).body == ALL_IN_APP


# The inbox


async def test_the_inbox_filters_by_type_and_unread(api, course):
    await dm(api, "student2", "student-1")
    await announce(api, course["id"])
    [announced, messaged] = await inbox(api, "student")
    await api.post(f"{NOTIFICATIONS}{announced['id']}/read/", as_="student")

    unread = await inbox(api, "student", unread="true")
    by_type = await inbox(api, "student", type="announcement")

    assert [n["id"] for n in unread] == [messaged["id"]]
    assert [n["id"] for n in by_type] == [announced["id"]]


async def test_an_unknown_type_filter_is_a_400(api):
    reply = await api.get(q(NOTIFICATIONS, {"type": "homework"}), as_="student")

    assert reply.status == 400


async def test_reading_a_notification_marks_it_read(api):
    await dm(api, "student2", "student-1")
    [notification] = await inbox(api, "student")

    reply = await api.post(f"{NOTIFICATIONS}{notification['id']}/read/", as_="student")

    assert reply.status == 200
    assert reply.body == {**notification, "read_at": TIMESTAMP, "is_read": True}


async def test_read_all_marks_every_unread_one_and_the_count_drops_to_zero(api):
    await dm(api, "student2", "student-1", "one")
    await dm(api, "student2", "student-1", "two")
    await api.settled()
    before = await api.get(UNREAD_COUNT, as_="student")

    reply = await api.post(READ_ALL, as_="student")

    assert before.body == {"unread_count": 2}
    assert reply.status == 200
    assert reply.body == {"marked": 2, "unread_count": 0}
    assert (await api.get(UNREAD_COUNT, as_="student")).body == {"unread_count": 0}


async def test_read_all_leaves_other_users_notifications_unread(api):
    await dm(api, "student2", "student-1")
    await dm(api, "student", "student-2")
    await api.settled()

    await api.post(READ_ALL, as_="student")

    assert (await api.get(UNREAD_COUNT, as_="student2")).body == {"unread_count": 1}


async def test_another_user_s_notification_is_a_404(api):
    await dm(api, "student2", "student-1")
    [notification] = await inbox(api, "student")

    reply = await api.post(f"{NOTIFICATIONS}{notification['id']}/read/", as_="student2")

    assert reply.status == 404
    assert reply.body == NOT_FOUND
    assert (await inbox(api, "student"))[0]["is_read"] is False


async def test_the_inbox_needs_a_token(api):
    reply = await api.get(NOTIFICATIONS)

    assert reply.status == 401
