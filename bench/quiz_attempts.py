"""N learners take one timed quiz at once: each starts an attempt, autosaves 10 times and
submits, against `lms serve` on PostgreSQL (pinned to CPU 0, this load on the rest).

    python -m bench.quiz_attempts [--learners 500] [--port 9123]

Reported: p50 and p99 of a save and of a submit, operations per second over the whole run
(starts, saves and submits), and whether anything was lost: every answer a learner saved
must be the answer its submitted attempt shows for that question.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.course_sockets import INSTRUCTOR, PREFIX, seed_course
from bench.pinned_server import pinned_server, temporary_database
from bench.run import SECRET
from web.tokens import mint_token

SAVES = 10
PORT = 9123
COURSES = "/api/lms/courses/"


def token(user: str, role: str) -> str:
    return mint_token(secret=SECRET, user=user, tenant="default", roles=[role])


async def post(http: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with http.post(url, json=body) as reply:
        assert reply.status == 201, (url, reply.status, await reply.text())
        data: dict[str, Any] = await reply.json()
        return data


async def make_quiz(base: str, course: int) -> tuple[int, list[dict[str, Any]]]:
    """A published quiz of SAVES questions (two of each auto-graded kind), 30 minutes."""
    headers = {"Authorization": f"Bearer {token(INSTRUCTOR, 'instructor')}"}
    async with aiohttp.ClientSession(base, headers=headers) as http:
        module = await post(http, f"{COURSES}modules/", {"course": course, "title": "Quiz"})
        lesson = await post(
            http,
            f"{COURSES}lessons/",
            {"module": module["id"], "title": "Quiz", "lesson_type": "quiz"},
        )
        quiz = await post(
            http,
            f"{COURSES}quizzes/",
            {
                "lesson": lesson["id"],
                "title": "Timed quiz",
                "is_published": True,
                "time_limit_minutes": 30,
                "shuffle_questions": True,
                "shuffle_options": True,
            },
        )
        kinds: list[dict[str, Any]] = [
            {
                "kind": "single_choice",
                "options": [{"text": "a", "correct": True}, {"text": "b"}, {"text": "c"}],
            },
            {
                "kind": "multiple_choice",
                "options": [{"text": "a", "correct": True}, {"text": "b", "correct": True}],
            },
            {"kind": "true_false", "true_false_answer": True},
            {"kind": "short_text", "accepted_answers": ["yes"]},
            {"kind": "numeric", "numeric_answer": 42, "tolerance": 0.5},
        ]
        questions = []
        for n in range(SAVES):
            body = {"quiz": quiz["id"], "prompt": f"Q{n}", "position": n, **kinds[n % len(kinds)]}
            questions.append(await post(http, f"{COURSES}questions/", body))
    return int(quiz["id"]), questions


def an_answer(question: dict[str, Any], learner: int) -> Any:
    """Some answer of the question's kind, differing between learners."""
    options = [o["id"] for o in question["options"]]
    return {
        "single_choice": options[learner % len(options)] if options else None,
        "multiple_choice": options[: 1 + learner % max(1, len(options))],
        "true_false": learner % 2 == 0,
        "short_text": f"answer {learner}",
        "numeric": float(learner),
    }[question["kind"]]


@dataclass
class Timings:
    saves: list[float] = field(default_factory=list)
    submits: list[float] = field(default_factory=list)
    operations: int = 0
    lost: int = 0
    failed: list[str] = field(default_factory=list)


async def learner(
    base: str, quiz: int, questions: list[dict[str, Any]], n: int, timings: Timings
) -> None:
    headers = {"Authorization": f"Bearer {token(f'{PREFIX}{n}', 'student')}"}
    async with aiohttp.ClientSession(base, headers=headers) as http:
        async with http.post(f"{COURSES}quizzes/{quiz}/attempts/") as reply:
            if reply.status != 201:
                timings.failed.append(f"start {reply.status}")
                return
            attempt = await reply.json()
        timings.operations += 1
        saved: dict[str, Any] = {}
        for question in questions:
            answer = an_answer(question, n)
            body = {"answers": {str(question["id"]): answer}}
            began = time.perf_counter()
            async with http.patch(f"{COURSES}attempts/{attempt['id']}/", json=body) as reply:
                await reply.read()
                ok = reply.status == 200
            timings.saves.append(time.perf_counter() - began)
            timings.operations += 1
            if not ok:
                timings.failed.append(f"save {reply.status}")
                continue
            saved[str(question["id"])] = answer
        began = time.perf_counter()
        async with http.post(f"{COURSES}attempts/{attempt['id']}/submit/") as reply:
            result = await reply.json()
            status = reply.status
        timings.submits.append(time.perf_counter() - began)
        timings.operations += 1
        if status != 200:
            timings.failed.append(f"submit {status}")
            return
        shown = {str(q["id"]): q["answer"] for q in result["questions"]}
        timings.lost += sum(1 for qid, answer in saved.items() if shown.get(qid) != answer)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(learners: int, port: int) -> str:
    async with temporary_database("lms_quiz") as url:
        course = await seed_course(url, learners)
        async with pinned_server(url, port) as server:
            quiz, questions = await make_quiz(server.base, course)
            timings = Timings()
            began = time.perf_counter()
            await asyncio.gather(
                *(learner(server.base, quiz, questions, n, timings) for n in range(learners))
            )
            elapsed = time.perf_counter() - began
    ms = 1000.0
    line = (
        f"quiz attempts, {learners} learners x (start, {SAVES} saves, submit): "
        f"save p50={percentile(timings.saves, 50) * ms:.1f} ms "
        f"p99={percentile(timings.saves, 99) * ms:.1f} ms; "
        f"submit p50={percentile(timings.submits, 50) * ms:.1f} ms "
        f"p99={percentile(timings.submits, 99) * ms:.1f} ms; "
        f"{timings.operations / elapsed:.0f} ops/s over {elapsed:.1f} s; "
        f"lost answers={timings.lost}; failures={len(timings.failed)}"
    )
    if timings.failed:
        line += f" (first: {statistics.mode(timings.failed)})"
    return line


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--port", type=int, default=PORT)
    arguments = parser.parse_args()
    print(asyncio.run(main(arguments.learners, arguments.port)), flush=True)
