"""Imports every table module, so each metadata is complete wherever it is needed."""

from models import tenancy
from models.ai_chat import tables as ai_chat
from models.assignments import tables as assignments
from models.carts import tables as carts
from models.courses import tables as courses
from models.forums import tables as forums
from models.grades import tables as grades
from models.groups import tables as groups
from models.jobs import tables as jobs
from models.logs import tables as logs
from models.messaging import tables as messaging
from models.notifications import tables as notifications
from models.payments import tables as payments
from models.people import tables as people
from models.quizzes import tables as quizzes
from models.rooms import tables as rooms
from models.schedules import tables as schedules
from models.tasks import tables as tasks

__all__ = [
    "ai_chat",
    "assignments",
    "carts",
    "courses",
    "forums",
    "grades",
    "groups",
    "jobs",
    "logs",
    "messaging",
    "notifications",
    "payments",
    "people",
    "quizzes",
    "rooms",
    "schedules",
    "tasks",
    "tenancy",
]
