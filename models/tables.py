"""Imports every table module, so each metadata is complete wherever it is needed."""

from models import tenancy
from models.courses import tables as courses
from models.logs import tables as logs

__all__ = ["courses", "logs", "tenancy"]
