"""Quizzes in the browser, at phone (375 px) and desktop width: a learner starts a quiz, sees
the countdown to the attempt's deadline, answers, sees each answer saved, submits and reads
the result; a page left open resumes the attempt with its saved answers; the countdown's end
submits. The instructor creates the quiz from the outline, adds and orders questions, and
previews them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DESKTOP, screenshot
from tests.browser.test_tour import AUDIT

PHONE_375 = {"width": 375, "height": 812}
QUIZZES = "/api/lms/courses/quizzes/"
QUESTIONS = "/api/lms/courses/questions/"


@pytest.fixture(params=["phone", "desktop"])
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def viewport(width: str) -> dict[str, int]:
    return PHONE_375 if width == "phone" else DESKTOP


async def quiz_lesson(make: Any, title: str = "Check-in") -> dict[str, Any]:
    course = await make.course(title="Geography")
    module = await make.module(course["id"], title="Europe")
    return await make.lesson(module["id"], title=title, lesson_type="quiz")


async def make_quiz(api: Any, make: Any, **settings: Any) -> dict[str, Any]:
    """A published five-minute quiz of two questions (2 points), the student enrolled."""
    lesson = await quiz_lesson(make)
    body = {"lesson": lesson["id"], "title": "Capitals", "is_published": True}
    reply = await api.post(QUIZZES, {**body, "time_limit_minutes": 5, **settings}, as_="instructor")
    assert reply.status == 201, reply.body
    quiz = dict(reply.body)
    questions = [
        {
            "kind": "single_choice",
            "prompt": "How many sides has a square?",
            "options": [{"text": "4", "correct": True}, {"text": "5"}],
            "position": 0,
        },
        {
            "kind": "short_text",
            "prompt": "The capital of France?",
            "accepted_answers": ["Paris"],
            "position": 1,
        },
    ]
    for question in questions:
        made = await api.post(QUESTIONS, {"quiz": quiz["id"], **question}, as_="instructor")
        assert made.status == 201, made.body
    await make.enroll(lesson["course"], as_="student")
    return quiz


def quiz_path(quiz: dict[str, Any]) -> str:
    return f"/lms/quizzes/{quiz['id']}/"


async def saved(page: Any) -> None:
    state = page.locator("#save-state")
    await expect(state).to_have_attribute("data-state", "saved")
    await expect(state).to_contain_text("Saved")


async def test_a_learner_takes_a_quiz_with_a_countdown_autosave_and_a_result(
    signed_in, api, make, width
):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", quiz_path(quiz), viewport=viewport(width))
    await expect(page.locator("#page-title")).to_have_text("Capitals")
    await expect(page.locator("#quiz-facts")).to_contain_text("Time limit: 5 min")

    await page.get_by_role("button", name="Start the quiz").click()
    await expect(page.locator("#countdown")).to_be_visible()
    await expect(page.locator("#countdown-value")).to_have_text(re.compile(r"^(5:00|4:[0-5]\d)$"))
    await page.get_by_label("4", exact=True).check()
    await saved(page)
    await page.get_by_label("Your answer").fill("Paris")
    await saved(page)
    await screenshot(page, f"quiz-attempt-{width}")
    assert await page.evaluate(AUDIT) == []
    await page.get_by_role("button", name="Submit answers").click()

    await expect(page.locator("#result-summary")).to_have_text("2 of 2 points (100%): Passed.")
    await expect(page.locator("#result-questions li")).to_have_count(2)
    await expect(page.locator("#result-questions li").first).to_contain_text("Correct.")
    await expect(page.locator("#history li")).to_have_count(1)
    await expect(page.locator("#attempt")).to_be_hidden()
    await screenshot(page, f"quiz-result-{width}")
    assert await page.evaluate(AUDIT) == []
    assert page.script_errors == []


async def test_saved_answers_are_there_when_the_page_is_opened_again(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", quiz_path(quiz))
    await page.get_by_role("button", name="Start the quiz").click()
    await page.get_by_label("4", exact=True).check()
    await page.get_by_label("Your answer").fill("Lyon")
    await saved(page)

    await page.reload()

    await expect(page.locator("#attempt-title")).to_have_text("Attempt 1")
    await expect(page.get_by_label("4", exact=True)).to_be_checked()
    await expect(page.get_by_label("Your answer")).to_have_value("Lyon")
    attempts = await api.get(f"{QUIZZES}{quiz['id']}/attempts/", as_="student")
    assert [a["status"] for a in attempts.body["results"]] == ["in_progress"]


async def test_a_wrong_answer_is_scored_and_not_passed(signed_in, api, make):
    quiz = await make_quiz(api, make, passing_score=75)
    page = await signed_in("student", quiz_path(quiz))
    await page.get_by_role("button", name="Start the quiz").click()
    await page.get_by_label("5", exact=True).check()
    await page.get_by_label("Your answer").fill("paris")
    await saved(page)

    await page.get_by_role("button", name="Submit answers").click()

    await expect(page.locator("#result-summary")).to_have_text(
        "1 of 2 points (50%): Not passed (pass mark 75%)."
    )
    await expect(page.locator("#result-questions li").first).to_contain_text("Not correct.")


async def test_the_countdown_running_out_submits_the_attempt(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", quiz_path(quiz))
    await page.clock.install()
    await page.reload()
    await page.get_by_role("button", name="Start the quiz").click()
    await page.get_by_label("4", exact=True).check()
    await saved(page)

    await page.clock.fast_forward("05:01")

    await expect(page.locator("#time-alert")).to_have_text(
        "Time is up: your answers are being submitted."
    )
    await expect(page.locator("#result-summary")).to_contain_text("1 of 2 points (50%)")
    attempts = await api.get(f"{QUIZZES}{quiz['id']}/attempts/", as_="student")
    assert [a["status"] for a in attempts.body["results"]] == ["graded"]


async def test_a_quiz_without_a_time_limit_shows_no_countdown(signed_in, api, make):
    quiz = await make_quiz(api, make, time_limit_minutes=None)
    page = await signed_in("student", quiz_path(quiz))

    await page.get_by_role("button", name="Start the quiz").click()

    await expect(page.get_by_label("Your answer")).to_be_visible()
    await expect(page.locator("#countdown")).to_be_hidden()


async def test_an_instructor_creates_a_quiz_from_the_outline_and_writes_questions(
    signed_in, make, api, width
):
    lesson = await quiz_lesson(make, title="Week 1 check")
    page = await signed_in(
        "instructor", f"/lms/courses/{lesson['course']}/outline/", viewport=viewport(width)
    )

    await page.get_by_role("button", name="Create the quiz of “Week 1 check”").click()
    await expect(page.locator("#page-title")).to_have_text("Quiz editor: Week 1 check")
    await page.get_by_text("Add a question").click()
    form = page.get_by_role("form", name="Add a question")
    await form.get_by_label("Question").fill("2 + 2?")
    await form.get_by_label("Option 1", exact=True).fill("4")
    await form.get_by_label("Option 1 is right").check()
    await form.get_by_label("Option 2", exact=True).fill("5")
    await form.get_by_role("button", name="Add question").click()
    await expect(page.locator("#status")).to_have_text("Question added.")
    form = page.get_by_role("form", name="Add a question")
    await form.get_by_label("Kind").select_option("true_false")
    await form.get_by_label("Question").fill("The sky is blue.")
    await form.get_by_label("Points").fill("2")
    await form.get_by_role("button", name="Add question").click()
    await expect(page.locator("#questions > li")).to_have_count(2)

    await page.get_by_role("button", name="Move question 2 up").click()
    await expect(page.locator("#questions .item-title")).to_have_text(
        [re.compile("^1. The sky is blue"), re.compile("^2. 2 \\+ 2")]
    )
    await page.get_by_label("Published (learners can take it)").check()
    await page.get_by_role("button", name="Save settings").click()
    await expect(page.locator("#status")).to_have_text("Settings saved.")
    await page.get_by_role("button", name="Show the preview").click()
    preview = page.locator("#preview")
    await expect(preview.locator("fieldset")).to_have_count(2)
    await expect(preview.get_by_label("True")).to_be_visible()
    await screenshot(page, f"quiz-editor-{width}")
    assert await page.evaluate(AUDIT) == []
    await page.reload()

    await expect(page.locator("#quiz-total")).to_have_text("2 questions, 3 points")
    await expect(page.locator("#questions .item-title").first).to_contain_text("The sky is blue")
    quizzes = await api.get(f"{QUIZZES}?course={lesson['course']}", as_="instructor")
    assert [(q["title"], q["is_published"]) for q in quizzes.body["results"]] == [
        ("Week 1 check", True)
    ]
    assert page.script_errors == []


async def test_an_edited_question_keeps_its_options_and_new_right_answer(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("instructor", f"/lms/quizzes/{quiz['id']}/edit/")

    await page.get_by_text("Edit question 1").click()
    form = page.get_by_role("form", name="Edit question 1")
    await form.get_by_label("Option 2 is right").check()
    await form.get_by_label("Option 1 is right").uncheck()
    await form.get_by_role("button", name="Save question").click()

    await expect(page.locator("#status")).to_have_text("Saved question 1.")
    listed = await api.get(f"{QUESTIONS}?quiz={quiz['id']}", as_="instructor")
    first = listed.body["results"][0]
    assert [(o["text"], o["correct"]) for o in first["options"]] == [("4", False), ("5", True)]


async def test_a_student_cannot_open_the_editor(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", f"/lms/quizzes/{quiz['id']}/edit/")

    await expect(page.locator("#page-error")).to_have_text(
        "Only this course's instructor and admins can edit its quizzes."
    )
    await expect(page.locator("#editor")).to_be_hidden()


async def test_the_instructor_sees_no_start_button_and_a_link_to_the_editor(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("instructor", quiz_path(quiz))

    await expect(page.get_by_role("link", name="Edit this quiz")).to_be_visible()
    await expect(page.get_by_role("button", name="Start the quiz")).to_be_hidden()


async def test_an_essay_waits_for_review_then_the_instructor_grades_it(signed_in, api, make, width):
    lesson = await quiz_lesson(make)
    reply = await api.post(
        QUIZZES,
        {"lesson": lesson["id"], "title": "Reflection", "is_published": True},
        as_="instructor",
    )
    quiz = dict(reply.body)
    essay = {"quiz": quiz["id"], "kind": "essay", "prompt": "What did you learn?", "points": 4}
    assert (await api.post(QUESTIONS, essay, as_="instructor")).status == 201
    await make.enroll(lesson["course"], as_="student")
    learner = await signed_in("student", quiz_path(quiz), viewport=viewport(width))
    await learner.get_by_role("button", name="Start the quiz").click()
    await learner.get_by_label("Your essay").fill("Quite a lot.")
    await saved(learner)
    await learner.get_by_role("button", name="Submit answers").click()
    await expect(learner.locator("#result-summary")).to_have_text(
        "Submitted: waiting for the instructor to grade the essays."
    )

    page = await signed_in(
        "instructor", f"/lms/quizzes/{quiz['id']}/edit/", viewport=viewport(width)
    )
    await expect(page.locator("#attempts-count")).to_have_text("1 attempt, 1 with essays to grade")
    await page.get_by_text("Grade the essays of student-1").click()
    await expect(page.locator("#attempts .submitted-text")).to_have_text("Quite a lot.")
    await page.get_by_label("Points (0 to 4)").fill("3")
    await page.get_by_role("button", name="Save essay points").click()

    await expect(page.locator("#attempts .attempt-score")).to_have_text("3 / 4 (75%), passed")
    assert await page.evaluate(AUDIT) == []
    await learner.reload()
    await expect(learner.locator("#history .attempt-score")).to_have_text(
        "3 of 4 points (75%): Passed"
    )


async def test_a_closing_time_set_in_the_editor_is_stored_in_utc(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("instructor", f"/lms/quizzes/{quiz['id']}/edit/")

    await page.get_by_label("Closes (your time; empty: never)").fill("2030-01-02T03:04")
    await page.get_by_role("button", name="Save settings").click()

    await expect(page.locator("#status")).to_have_text("Settings saved.")
    shown = await page.evaluate("() => new Date('2030-01-02T03:04').toISOString()")
    saved = await api.get(f"{QUIZZES}{quiz['id']}/", as_="instructor")
    assert saved.body["available_until"] == shown.replace(".000Z", "Z")
    await page.reload()
    await expect(page.get_by_label("Closes (your time; empty: never)")).to_have_value(
        "2030-01-02T03:04"
    )


async def test_the_course_page_leads_a_learner_to_the_quiz_of_a_quiz_lesson(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", f"/lms/courses/{quiz['course']}/")

    await page.get_by_role("link", name="Open the quiz “Capitals”").click()

    await expect(page.get_by_role("button", name="Start the quiz")).to_be_visible()
    await expect(page.locator("#page-title")).to_have_text("Capitals")


async def test_another_attempt_starts_while_attempts_are_left(signed_in, api, make):
    quiz = await make_quiz(api, make, attempts_allowed=2)
    page = await signed_in("student", quiz_path(quiz))
    await page.get_by_role("button", name="Start the quiz").click()
    await page.get_by_role("button", name="Submit answers").click()
    await expect(page.locator("#result-summary")).to_have_text(
        "0 of 2 points (0%): Not passed (pass mark 50%)."
    )

    await page.get_by_role("button", name="Start another attempt").click()

    await expect(page.locator("#attempt-title")).to_have_text("Attempt 2")
    await page.get_by_role("button", name="Submit answers").click()
    await expect(page.locator("#history li")).to_have_count(2)
    await expect(page.get_by_role("button", name="Start another attempt")).to_be_hidden()
    await page.reload()
    await expect(page.locator("#quiz-facts")).to_contain_text("No attempts left.")
    await expect(page.get_by_role("button", name="Start the quiz")).to_be_hidden()


async def test_a_failed_save_says_so_and_the_next_change_saves_both_answers(signed_in, api, make):
    quiz = await make_quiz(api, make)
    page = await signed_in("student", quiz_path(quiz))
    await page.get_by_role("button", name="Start the quiz").click()
    await expect(page.get_by_label("Your answer")).to_be_visible()

    async def unavailable(route: Any) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        body = '{"detail": "The database is unavailable; try again shortly.", "status": 503}'
        await route.fulfill(status=503, content_type="application/json", body=body)

    await page.route("**/api/lms/courses/attempts/*/", unavailable)
    await page.get_by_label("4", exact=True).check()
    state = page.locator("#save-state")
    await expect(state).to_have_attribute("data-state", "error")
    await expect(state).to_contain_text("Not saved: The database is unavailable")
    await page.unroute("**/api/lms/courses/attempts/*/")
    await page.get_by_label("Your answer").fill("Paris")
    await saved(page)

    await page.get_by_role("button", name="Submit answers").click()
    await expect(page.locator("#result-summary")).to_have_text("2 of 2 points (100%): Passed.")
