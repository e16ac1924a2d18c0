"""Imports every table module, so each metadata is complete wherever it is needed."""

from models import tenancy
from models.carts import tables as carts
from models.courses import tables as courses
from models.groups import tables as groups
from models.logs import tables as logs
from models.payments import tables as payments

__all__ = ["carts", "courses", "groups", "logs", "payments", "tenancy"]
