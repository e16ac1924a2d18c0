"""The AI tutor's task: answer one question through any OpenAI-compatible server.

The answer streams to the session's room as `delta` frames while it is generated (progress,
not stored), then is stored once, which sends `message.complete` after commit. Every way a
call can go wrong (no configuration, an error status, no answer in time, a bug here) ends
in a stored `failed` answer with its reason: a question never hangs.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import cast

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from models.ai_chat.answering import (
    AnswerLimits,
    ReplyPlan,
    do_claim_reply,
    do_fail_reply,
    do_finish_reply,
)
from models.ai_chat.prompt import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from models.effects import RoomEvent
from models.settings import Settings
from workers.context import WorkerContext

log = logging.getLogger(__name__)

OPENAI_API = "https://api.openai.com/v1"
# A local server (Ollama, vLLM) wants no key, but the library insists on one.
NO_KEY = "not-needed"
UNEXPECTED = "The answer failed unexpectedly. Please ask again."
EMPTY = "The AI provider returned an empty answer."


def configuration_problem(settings: Settings) -> str | None:
    """Why the tutor cannot call a provider with these settings, or None."""
    missing = []
    if not settings.ai_model:
        missing.append("LMS_AI_MODEL (the model to use)")
    if not settings.ai_base_url and settings.ai_api_key is None:
        missing.append("OPENAI_API_KEY (for OpenAI) or OPENAI_BASE_URL (for another server)")
    if not missing:
        return None
    return "The AI tutor is not configured: set " + " and ".join(missing) + "."


@dataclass
class Outcome:
    """What came back: the text so far, token counts when the server said, or an error."""

    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    error: str | None = None


async def answer(
    ctx: WorkerContext, tenant: str, reply_id: int, roles: list[str] | None = None
) -> None:
    """Answer the question of a pending reply, once, however often this task is delivered.

    `roles`: those the question was asked with (a task without them: a student's).
    """
    settings = ctx.settings
    limits = AnswerLimits.from_settings(settings)
    plan = await ctx.in_tenant(
        tenant,
        lambda session: do_claim_reply(
            session,
            tenant=tenant,
            reply_id=reply_id,
            model=settings.ai_model,
            limits=limits,
            asker_roles=roles if roles is not None else ("student",),
        ),
    )
    if plan is None:
        return  # answered, being answered, failed, or deleted: nothing to do twice
    outcome = await _ask(ctx, tenant, plan)
    if outcome.error is None and not outcome.text:
        outcome.error = EMPTY
    prompt_tokens = outcome.prompt_tokens
    if prompt_tokens is None:
        prompt_tokens = sum(
            estimate_tokens(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in plan.messages
        )
    completion_tokens = outcome.completion_tokens
    if completion_tokens is None:
        completion_tokens = estimate_tokens(outcome.text)
    if outcome.error is None:
        await ctx.in_tenant(
            tenant,
            lambda session: do_finish_reply(
                session,
                reply_id=plan.reply_id,
                text=outcome.text,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            ),
        )
        return
    error = outcome.error
    # A call that never reached the provider cost nothing.
    reached = outcome.prompt_tokens is not None or bool(outcome.text)
    await ctx.in_tenant(
        tenant,
        lambda session: do_fail_reply(
            session,
            reply_id=plan.reply_id,
            reason=error,
            text=outcome.text,
            prompt_tokens=prompt_tokens if reached else None,
            completion_tokens=completion_tokens if reached else None,
        ),
    )


def _client(settings: Settings) -> AsyncOpenAI:
    key = settings.ai_api_key.get_secret_value() if settings.ai_api_key is not None else NO_KEY
    return AsyncOpenAI(
        api_key=key or NO_KEY,
        # Explicit, so that the library never falls back to an OPENAI_BASE_URL of its own.
        base_url=settings.ai_base_url or OPENAI_API,
        timeout=settings.ai_timeout_seconds,
        max_retries=settings.ai_max_retries,
    )


async def _ask(ctx: WorkerContext, tenant: str, plan: ReplyPlan) -> Outcome:
    settings = ctx.settings
    outcome = Outcome()
    problem = configuration_problem(settings)
    if problem is not None:
        outcome.error = problem
        return outcome
    try:
        # The whole answer, retries included, within the timeout: a silent server cannot
        # keep a question (or this worker) waiting.
        async with asyncio.timeout(settings.ai_timeout_seconds), _client(settings) as client:
            if settings.ai_stream:
                await _stream(ctx, tenant, client, plan, outcome)
            else:
                await _complete(ctx, tenant, client, plan, outcome)
    except TimeoutError:
        outcome.error = (
            f"The AI provider did not answer within {settings.ai_timeout_seconds:g} seconds."
        )
    except openai.APIStatusError as exc:
        outcome.error = f"The AI provider answered with an error (HTTP {exc.status_code}): " + (
            _detail(exc)
        )
    except openai.APITimeoutError:
        outcome.error = (
            f"The AI provider did not answer within {settings.ai_timeout_seconds:g} seconds."
        )
    except openai.APIConnectionError as exc:
        outcome.error = f"The AI provider could not be reached ({exc.__cause__ or exc})."
    except openai.OpenAIError as exc:
        outcome.error = f"The AI provider call failed: {exc}"
    except Exception:
        log.exception("AI answer %s in %s failed", plan.reply_id, tenant)
        outcome.error = UNEXPECTED
    return outcome


def _messages(plan: ReplyPlan) -> list[ChatCompletionMessageParam]:
    # The domain builds plain role/content dicts; they are exactly the library's params.
    return cast(list[ChatCompletionMessageParam], plan.messages)


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message") or (body.get("error") or {}).get("message")
        if isinstance(message, str) and message:
            return message[:300]
    return exc.message[:300]


async def _stream(
    ctx: WorkerContext, tenant: str, client: AsyncOpenAI, plan: ReplyPlan, outcome: Outcome
) -> None:
    settings = ctx.settings
    assert settings.ai_model is not None
    stream = await client.chat.completions.create(
        model=settings.ai_model,
        messages=_messages(plan),
        max_tokens=settings.ai_max_tokens,
        stream=True,
        stream_options={"include_usage": True},
    )
    async with stream:
        async for chunk in stream:
            if chunk.usage is not None:
                outcome.prompt_tokens = chunk.usage.prompt_tokens
                outcome.completion_tokens = chunk.usage.completion_tokens
            for choice in chunk.choices:
                piece = choice.delta.content
                if piece:
                    outcome.text += piece
                    await _publish_delta(ctx, tenant, plan, piece)


async def _complete(
    ctx: WorkerContext, tenant: str, client: AsyncOpenAI, plan: ReplyPlan, outcome: Outcome
) -> None:
    settings = ctx.settings
    assert settings.ai_model is not None
    completion = await client.chat.completions.create(
        model=settings.ai_model,
        messages=_messages(plan),
        max_tokens=settings.ai_max_tokens,
    )
    if completion.usage is not None:
        outcome.prompt_tokens = completion.usage.prompt_tokens
        outcome.completion_tokens = completion.usage.completion_tokens
    outcome.text = (completion.choices[0].message.content or "") if completion.choices else ""
    if outcome.text:
        # One delta with the whole answer: socket clients read both modes alike.
        await _publish_delta(ctx, tenant, plan, outcome.text)


async def _publish_delta(ctx: WorkerContext, tenant: str, plan: ReplyPlan, text: str) -> None:
    if ctx.events is None:
        return  # no room bus here: clients get the stored answer (REST, message.complete)
    data = {"message_id": plan.reply_id, "text": text}
    try:
        await ctx.events.publish(tenant, RoomEvent(plan.room, "delta", data))
    except Exception:
        # Progress only: a bus hiccup must not cost the answer itself.
        log.warning("delta of AI answer %s not published", plan.reply_id, exc_info=True)
