"""The tutor answers from a course's material only while the asker may read it: access is
checked when each answer is prepared, by the rule that shows a lesson's content over REST."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Factory

SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
COURSES = "/api/lms/courses/courses/"

# Words that appear nowhere in a prompt but through the course's own text.
COURSE_TEXT = {
    "title": "Zanzibar Cryptography",
    "description": "Ciphers of the spice islands.",
    "module": "Quillwort ciphers",
    "lesson": "Vellichor keys",
    "content": "The paid lesson says: rotate by seventeen.",
}
NO_ACCESS = "no longer has access to the course material"


@pytest.fixture
async def course(tutor) -> dict[str, Any]:
    """A course with one lesson of paid text, taught by instructor-1."""
    make = Factory(tutor)
    course = await make.course(title=COURSE_TEXT["title"], description=COURSE_TEXT["description"])
    module = await make.module(course["id"], title=COURSE_TEXT["module"])
    lesson = await make.lesson(
        module["id"], title=COURSE_TEXT["lesson"], content=COURSE_TEXT["content"]
    )
    return {**course, "lesson_id": lesson["id"]}


async def _session(tutor: Any, course: dict[str, Any], as_: str = "student") -> int:
    body = {"topic": "Help", "difficulty_level": "beginner", "lesson_id": course["lesson_id"]}
    reply = await tutor.post(SESSIONS, body, as_=as_)
    assert reply.status == 201, reply.body
    return int(reply.body["id"])


async def _answer(tutor: Any, session_id: int, as_: str = "student") -> dict[str, Any]:
    sent = await tutor.post(MESSAGES, {"session": session_id, "message": "Explain it"}, as_=as_)
    assert sent.status == 201, sent.body
    await tutor.settled()
    reply = await tutor.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_=as_)
    return dict(reply.body)


def _course_text_in(prompt: str) -> list[str]:
    return [name for name, text in COURSE_TEXT.items() if text in prompt]


async def test_an_enrolled_learners_answer_is_prepared_from_the_lesson_text(tutor, fake, course):
    await Factory(tutor).enroll(course["id"])
    chat = await _session(tutor, course)

    answer = await _answer(tutor, chat)

    assert answer["status"] == "complete"
    assert _course_text_in(fake.prompt_text()) == list(COURSE_TEXT)
    assert NO_ACCESS not in fake.prompt_text()


async def test_after_leaving_the_course_the_next_answer_uses_none_of_its_material(
    tutor, fake, course
):
    enrollment = await Factory(tutor).enroll(course["id"])
    chat = await _session(tutor, course)
    await _answer(tutor, chat)
    left = await tutor.delete(f"{ENROLLMENTS}{enrollment['id']}/", as_="student")
    assert left.status == 204, left.body

    answer = await _answer(tutor, chat)

    assert answer["status"] == "complete"
    assert _course_text_in(fake.prompt_text()) == []
    assert NO_ACCESS in fake.prompt_text()


async def test_after_the_course_is_unpublished_a_students_answer_uses_none_of_its_material(
    tutor, fake, course
):
    await Factory(tutor).enroll(course["id"])
    chat = await _session(tutor, course)
    hidden = await tutor.patch(f"{COURSES}{course['id']}/", {"status": "Draft"}, as_="instructor")
    assert hidden.status == 200, hidden.body

    answer = await _answer(tutor, chat)

    assert answer["status"] == "complete"
    assert _course_text_in(fake.prompt_text()) == []
    assert NO_ACCESS in fake.prompt_text()


async def test_the_instructor_of_an_unpublished_course_keeps_its_material(tutor, fake, course):
    chat = await _session(tutor, course, as_="instructor")
    await tutor.patch(f"{COURSES}{course['id']}/", {"status": "Draft"}, as_="instructor")

    await _answer(tutor, chat, as_="instructor")

    assert _course_text_in(fake.prompt_text()) == list(COURSE_TEXT)


async def test_an_admins_answer_is_prepared_from_a_course_they_neither_teach_nor_take(
    tutor, fake, course
):
    chat = await _session(tutor, course, as_="admin")

    await _answer(tutor, chat, as_="admin")

    assert _course_text_in(fake.prompt_text()) == list(COURSE_TEXT)
