"""Statement budgets of a quiz attempt's hot path: starting, autosaving and submitting
(`bench.statements.StatementCounter`, on both backends). Each runs as many statements for a
quiz of 12 questions as for one of 2, so a query per question or per answer cannot come
back, and stays within the count it has today, which later work may only lower."""

from __future__ import annotations

from typing import Any

from bench.statements import StatementCounter, kind
from tests.api.quiz_helpers import ATTEMPTS, QUIZZES, new_quiz
from tests.conftest import Api, Factory

# The tenant registry's periodic reload (core tables) may land in any request: not the route's.
REGISTRY = {"select tenants", "select tenant_domains"}
SMALL, LARGE = 2, 12
# Statements per request on 2026-12-06, the same on both backends (the request's audit
# record included); lower them as the path gets cheaper, never raise them.
BUDGETS = {"start": 7, "save": 4, "submit": 10}


async def counted(api: Api, method: str, path: str, body: Any = None) -> tuple[Any, list[str]]:
    with StatementCounter() as counter:
        reply = await api.call(method, path, as_="student", json=body)
    assert reply.status in (200, 201), reply.body
    found = [s for s in counter.statements if kind(s) not in REGISTRY]
    assert found  # the counter hears the request's statements
    return reply, found


async def attempt_statements(api: Api, make: Factory, questions: int) -> dict[str, list[str]]:
    """The statements of a start, a save of every answer and a submit, on a quiz of
    `questions` true/false questions; a first attempt warms the statement caches up."""
    setup = await new_quiz(api, make, kinds=("true_false",) * questions, attempts_allowed=None)
    found: dict[str, list[str]] = {}
    for _ in range(2):
        start, found["start"] = await counted(api, "POST", f"{QUIZZES}{setup.id}/attempts/")
        attempt = f"{ATTEMPTS}{start.body['id']}/"
        answers = {str(q["id"]): True for q in start.body["questions"]}
        _, found["save"] = await counted(api, "PATCH", attempt, {"answers": answers})
        _, found["submit"] = await counted(api, "POST", attempt + "submit/")
    return found


async def test_an_attempt_runs_as_many_statements_for_12_questions_as_for_2_within_budget(
    api: Api, make: Factory
) -> None:
    small = await attempt_statements(api, make, SMALL)
    large = await attempt_statements(api, make, LARGE)

    for step, budget in BUDGETS.items():
        assert len(large[step]) == len(small[step]), (step, small[step], large[step])
        assert len(large[step]) <= budget, (step, large[step])
