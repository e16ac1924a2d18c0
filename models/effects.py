"""Side effects a domain operation asks for, released by the unit of work after commit.

Operations take a session, not a unit of work, so they note their tasks and room events on
the session; `UnitOfWork.commit` hands them to the dispatcher and the room bus the entrance
wired in, and a rollback drops them. Nothing leaves before the data it speaks of is
committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

_TASKS = "lms_after_commit_tasks"
_EVENTS = "lms_after_commit_events"
# The event that ends a room (its forum or group deleted): its sockets are closed, 4404.
ROOM_CLOSED = "room_closed"


@dataclass(frozen=True, slots=True)
class TaskCall:
    """A named task and its arguments (the tenant is added by the unit of work)."""

    name: str
    args: tuple[Any, ...]


class TaskSender(Protocol):
    """What the entrances provide: the workers' dispatcher, in-process or Celery."""

    async def send(self, name: str, tenant: str, *args: Any) -> None: ...


def enqueue_after_commit(session: AsyncSession, name: str, *args: Any) -> None:
    """Ask for a task to run once this session's transaction commits."""
    session.info.setdefault(_TASKS, []).append(TaskCall(name, args))


def take_tasks(session: AsyncSession) -> list[TaskCall]:
    """The tasks noted so far, removed from the session."""
    tasks: list[TaskCall] = session.info.pop(_TASKS, [])
    return tasks


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """An event for a live room (`forum:1`, `group:2`, `course:3`); the bus stamps its seq."""

    room: str
    type: str
    data: dict[str, Any]


class EventPublisher(Protocol):
    """What the entrances provide: the realtime bus (in-process, or Redis across instances)."""

    async def publish(self, tenant: str, event: RoomEvent) -> None: ...


def notify_after_commit(session: AsyncSession, room: str, type_: str, data: dict[str, Any]) -> None:
    """Ask for a room event to be published once this session's transaction commits."""
    session.info.setdefault(_EVENTS, []).append(RoomEvent(room, type_, data))


def take_events(session: AsyncSession) -> list[RoomEvent]:
    """The room events noted so far, removed from the session."""
    events: list[RoomEvent] = session.info.pop(_EVENTS, [])
    return events
