"""What the tutor is told: the system prompt, the history budget, the configuration check."""

from __future__ import annotations

from pydantic import SecretStr

from models.ai_chat.prompt import (
    CourseText,
    Turn,
    chat_messages,
    estimate_tokens,
    fit_history,
    system_prompt,
)
from models.settings import Settings
from workers.ai import configuration_problem

COURSE = CourseText(
    title="Python Programming Fundamentals",
    code="PY101",
    description="Learn Python from basics to advanced concepts",
    outline=["Basics: Variables", "Basics: Functions"],
    lesson_title="Functions",
    lesson_description="Defining and calling functions",
    lesson_content="Use def to define a function.",
)


def test_the_system_prompt_names_the_topic_and_the_level():
    text = system_prompt(topic="Recursion", difficulty="beginner", course=None, budget_tokens=100)

    assert "Recursion" in text
    assert "beginner" in text
    assert "COURSE MATERIAL" not in text


def test_a_courses_text_is_fenced_as_material_in_the_system_prompt():
    text = system_prompt(topic="Help", difficulty="advanced", course=COURSE, budget_tokens=1000)

    material = text[text.index("<<<COURSE MATERIAL") : text.index("COURSE MATERIAL>>>")]
    for part in (
        "Python Programming Fundamentals",
        "Learn Python from basics",
        "- Basics: Functions",
        "Current lesson: Functions",
        "Use def to define a function.",
    ):
        assert part in material


def test_a_long_lesson_is_cut_to_the_context_budget():
    long = CourseText(
        title="T",
        code="C",
        description="",
        outline=[],
        lesson_title="L",
        lesson_content="x" * 40_000,
    )

    text = system_prompt(topic="Help", difficulty="beginner", course=long, budget_tokens=500)

    assert estimate_tokens(text) < 500
    assert "[…]" in text


def test_history_keeps_the_most_recent_turns_that_fit():
    turns = [
        Turn("user", "a" * 400),
        Turn("assistant", "b" * 40),
        Turn("user", "c" * 40),
        Turn("assistant", "d" * 40),
        Turn("user", "e" * 40),
    ]

    kept = fit_history(turns, budget_tokens=60)

    assert [t.content[0] for t in kept] == ["c", "d", "e"]


def test_history_never_starts_with_an_answer_cut_from_its_question():
    turns = [Turn("user", "a" * 400), Turn("assistant", "b" * 40), Turn("user", "c" * 40)]

    kept = fit_history(turns, budget_tokens=40)

    assert [t.role for t in kept] == ["user"]


def test_the_question_is_kept_whatever_the_budget():
    kept = fit_history([Turn("user", "q" * 10_000)], budget_tokens=1)

    assert kept == [Turn("user", "q" * 10_000)]


def test_chat_messages_put_the_system_prompt_first():
    messages = chat_messages("Be kind.", [Turn("user", "Hi")])

    assert messages == [
        {"role": "system", "content": "Be kind."},
        {"role": "user", "content": "Hi"},
    ]


def test_a_model_and_a_server_make_a_configuration():
    local = Settings(ai_model="llama3.1", ai_base_url="http://localhost:11434/v1")
    hosted = Settings(ai_model="gpt-4o-mini", ai_api_key=SecretStr("sk-x"), ai_base_url=None)

    assert configuration_problem(local) is None
    assert configuration_problem(hosted) is None


def test_a_missing_model_or_server_is_named_in_the_reason():
    problem = configuration_problem(Settings(ai_model=None, ai_base_url=None, ai_api_key=None))

    assert problem is not None
    assert "LMS_AI_MODEL" in problem
    assert "OPENAI_API_KEY" in problem
    assert "OPENAI_BASE_URL" in problem
