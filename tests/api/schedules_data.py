"""What the schedule tests share: the endpoint, a schedule to create, its address."""

from __future__ import annotations

SCHEDULES = "/api/lms/schedule/schedules/"

SEED_SCHEDULE = {
    "title": "Team Meeting",
    "description": "Weekly team sync",
    "start_time": "2025-11-20T10:00:00Z",
    "end_time": "2025-11-20T11:00:00Z",
    "location": "Conference Room A",
    "is_all_day": False,
}


def schedule_url(schedule_id: int) -> str:
    return f"{SCHEDULES}{schedule_id}/"
