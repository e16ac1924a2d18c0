"""Bulk enrollment as a job: the rows are checked and kept when it is asked for, then a
worker enrolls them in batches, moving the job's counts with each batch.

Each batch is one transaction: its enrollments (INSERT ... ON CONFLICT DO NOTHING on the
(user, course) key, and inactive ones made active again, as enrolling again does), the
directory names it fills, the activity records and the job's counts and cursor (the last
row applied) commit together. So a task delivered again resumes after the last batch that
committed, and asking again (a new job with the same rows) enrolls nobody twice.

The rule of single enrollment where it applies: the course must exist and each id be a
user id (1 to 128 printable characters). Those who may enroll in bulk (the course's
instructor and admins) need no purchase for a paid course, as an admin enrolling one user
does not. The course's room hears nothing of a bulk enrollment: one event per enrollee
would flood its listeners; the requester follows `job_progress` frames instead.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.courses.operations import access_course
from models.courses.tables import Course, Enrollment
from models.dialects import conflict_insert, dialect_of
from models.effects import enqueue_after_commit
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.identity import Principal
from models.jobs.operations import (
    DONE,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    add_errors,
    publish_progress,
)
from models.jobs.tables import Job, JobRow
from models.logs.operations import record_activity
from models.people.tables import User

BULK_ENROLL_TASK = "courses.bulk_enroll"
KIND = "bulk_enrollment"
BATCH = 500  # rows per batch: one INSERT, one transaction, one progress frame
_INSERT_CHUNK = 100  # job rows per statement when the job is made: the loop runs between
COLUMNS = ("user_id", "name", "email")
_USER_ID = re.compile(r"[!-~]+")
MAX_USER_ID = 128
MAX_NAME, MAX_EMAIL = 255, 254
BLANK = "This field may not be blank."
TOO_LONG = f"Ensure this field has no more than {MAX_USER_ID} characters."
NOT_AN_ID = "Enter a valid user id: printable characters without spaces."
EXTRA_FIELDS = "This row has more fields than the header."
COURSE_GONE = "The course no longer exists."


@dataclass(frozen=True, slots=True)
class BulkEntry:
    """One input row: its number (1 for the first after a CSV's header), as sent."""

    row: int
    user_id: str
    name: str | None = None
    email: str | None = None
    extra: bool = False


def check_bulk_enroller(actor: Principal) -> None:
    """Only instructors and admins enroll in bulk (403 before the body is read)."""
    if not actor.can_author:
        raise PermissionDenied()


async def access_bulk_course(session: AsyncSession, *, actor: Principal, course_id: int) -> Course:
    """The course to enroll in: one the actor does not see is a 400 on `course`, one they
    see but do not teach (nor administer) a 403."""
    try:
        return await access_course(session, actor=actor, course_id=course_id, for_change=True)
    except NotFound:
        raise ValidationFailed.field("course", invalid_pk(course_id)) from None


def check_course_field(raw: str | None) -> int:
    """A multipart form's `course` field as an id (400 on `course` otherwise)."""
    if raw is None or not raw.strip():
        raise ValidationFailed.field("course", "This field is required.")
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 0 < int(text) < 2**31:
        raise ValidationFailed.field("course", "A valid integer is required.")
    return int(text)


def json_entries(user_ids: Sequence[str]) -> list[BulkEntry]:
    return [BulkEntry(row=n, user_id=user_id) for n, user_id in enumerate(user_ids, 1)]


def read_csv_entries(path: Path) -> list[BulkEntry]:
    """The rows of an uploaded CSV (blocking: run it in a thread). Its header names
    `user_id` and optionally `name` and `email`, in any order; anything else is a 400 on
    `file`. Blank lines are skipped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            positions = _check_header(header)
            return [_entry(n, fields, positions) for n, fields in _data_rows(reader)]
    except UnicodeDecodeError:
        raise ValidationFailed.field("file", "The file is not UTF-8 text.") from None
    except csv.Error as exc:
        raise ValidationFailed.field("file", f"The file is not valid CSV: {exc}.") from None


def _check_header(header: list[str] | None) -> dict[str, int]:
    if not header or not any(name.strip() for name in header):
        raise ValidationFailed.field("file", "The file has no header row.")
    names = [name.strip().lower() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    if unknown:
        allowed = ", ".join(COLUMNS)
        listed = ", ".join(repr(name[:50]) for name in unknown[:10])
        raise ValidationFailed.field("file", f"Unknown columns: {listed}. Allowed: {allowed}.")
    if len(set(names)) != len(names):
        raise ValidationFailed.field("file", "A column is named twice in the header.")
    if "user_id" not in names:
        raise ValidationFailed.field("file", "The header must name a user_id column.")
    return {name: names.index(name) for name in names}


def _data_rows(reader: Any) -> Iterable[tuple[int, list[str]]]:
    number = 0
    for fields in reader:
        if not any(field.strip() for field in fields):
            continue
        number += 1
        yield number, fields


def _entry(number: int, fields: list[str], positions: dict[str, int]) -> BulkEntry:
    def value(name: str) -> str | None:
        at = positions.get(name)
        return fields[at] if at is not None and at < len(fields) else None

    return BulkEntry(
        row=number,
        user_id=value("user_id") or "",
        name=value("name"),
        email=value("email"),
        extra=len(fields) > len(positions),
    )


def check_bulk_rows(entries: Iterable[BulkEntry]) -> tuple[list[BulkEntry], list[dict[str, Any]]]:
    """The rows to enroll, and the errors of the others ({row, user_id, error}): an empty,
    over-long or malformed id, a repeated one, a row longer than its header. A name or an
    email too long for the directory (or holding NUL) is dropped, not an error."""
    valid: list[BulkEntry] = []
    errors: list[dict[str, Any]] = []
    first_row: dict[str, int] = {}
    for entry in entries:
        user_id = entry.user_id.strip()
        error = _id_error(user_id) or (EXTRA_FIELDS if entry.extra else None)
        if error is None and user_id in first_row:
            error = f"Duplicate of row {first_row[user_id]}."
        if error is not None:
            errors.append({"row": entry.row, "user_id": user_id[:MAX_USER_ID], "error": error})
            continue
        first_row[user_id] = entry.row
        valid.append(
            BulkEntry(
                row=entry.row,
                user_id=user_id,
                name=_directory_text(entry.name, MAX_NAME),
                email=_directory_text(entry.email, MAX_EMAIL),
            )
        )
    return valid, errors


def _id_error(user_id: str) -> str | None:
    if not user_id:
        return BLANK
    if len(user_id) > MAX_USER_ID:
        return TOO_LONG
    if not _USER_ID.fullmatch(user_id):
        return NOT_AN_ID
    return None


def _directory_text(value: str | None, limit: int) -> str | None:
    value = (value or "").strip()
    if not value or len(value) > limit or "\x00" in value:
        return None
    return value


async def do_start_bulk_enrollment(
    session: AsyncSession,
    *,
    actor: Principal,
    course: Course,
    valid: Sequence[BulkEntry],
    errors: Sequence[dict[str, Any]],
) -> Job:
    """Make the job for a course `access_bulk_course` returned, from what
    `check_bulk_rows` made of the rows: the valid ones kept for the worker, the others
    counted as failed with their errors; the task leaves once this commits. A job with
    nothing to enroll is done at once."""
    job = Job(
        kind=KIND,
        created_by=actor.user_id,
        status=QUEUED,
        course_id=course.id,
        total=len(valid) + len(errors),
        done=0,
        failed=0,
        enrolled=0,
        cursor=0,
        errors=[],
        created_at=utcnow(),
    )
    add_errors(job, list(errors))
    session.add(job)
    await session.flush()
    for start in range(0, len(valid), _INSERT_CHUNK):
        chunk = valid[start : start + _INSERT_CHUNK]
        await session.execute(
            insert(JobRow),
            [
                {
                    "job_id": job.id,
                    "row": e.row,
                    "user_id": e.user_id,
                    "name": e.name,
                    "email": e.email,
                }
                for e in chunk
            ],
        )
    if valid:
        enqueue_after_commit(session, BULK_ENROLL_TASK, job.id)
    else:
        _finish(job, DONE)
    publish_progress(session, job)
    return job


async def do_bulk_enroll_batch(session: AsyncSession, *, job_id: int, batch: int = BATCH) -> bool:
    """Apply the job's next batch of rows; whether there may be more. A finished (or
    unknown) job changes nothing: a task delivered again does no harm."""
    job = (
        await session.scalars(select(Job).where(Job.id == job_id).with_for_update(of=Job))
    ).first()
    if job is None or job.status in FINISHED:
        return False
    course = await session.get(Course, job.course_id) if job.course_id is not None else None
    if course is None:
        await _fail_rest(session, job)
        return False
    # Plain rows, no ORM objects: this runs beside the web process's loop in-process.
    stmt = (
        select(JobRow.id, JobRow.user_id, JobRow.name, JobRow.email)
        .where(JobRow.job_id == job.id, JobRow.id > job.cursor)
        .order_by(JobRow.id)
        .limit(batch)
    )
    rows = (await session.execute(stmt)).all()
    if rows:
        job.status = RUNNING
        job.enrolled += await _enroll(session, job, course, rows)
        await fill_directory(session, rows)
        job.done += len(rows)
        job.cursor = rows[-1].id
    more = len(rows) == batch
    if not more:
        _finish(job, DONE)
        await session.execute(delete(JobRow).where(JobRow.job_id == job.id))
    await session.flush()
    publish_progress(session, job)
    return more


def _finish(job: Job, status: str) -> None:
    job.status = status
    job.finished_at = utcnow()


async def _fail_rest(session: AsyncSession, job: Job) -> None:
    """The course went away: every row not yet applied fails."""
    rest = await session.scalar(
        select(func.count()).where(JobRow.job_id == job.id, JobRow.id > job.cursor)
    )
    job.failed += int(rest or 0)
    job.errors = [*job.errors, {"row": None, "user_id": None, "error": COURSE_GONE}]
    _finish(job, FAILED)
    await session.execute(delete(JobRow).where(JobRow.job_id == job.id))
    await session.flush()
    publish_progress(session, job)


async def _enroll(session: AsyncSession, job: Job, course: Course, rows: Sequence[Any]) -> int:
    """Enroll the batch's users: new enrollments, and inactive ones made active again (as
    enrolling again does); returns how many, each with its activity record."""
    user_ids = [row.user_id for row in rows]
    reactivated = (
        (
            await session.execute(
                update(Enrollment)
                .where(
                    Enrollment.course_id == course.id,
                    Enrollment.user_id.in_(user_ids),
                    Enrollment.is_active.is_(False),
                )
                .values(is_active=True)
                .returning(Enrollment.user_id)
                .execution_options(synchronize_session=False)
            )
        )
        .scalars()
        .all()
    )
    now = utcnow()
    values = [
        {
            "user_id": user_id,
            "course_id": course.id,
            "enrolled_at": now,
            "is_active": True,
            "progress": 0.0,
            "enrolled_by": job.created_by if user_id != job.created_by else None,
        }
        for user_id in user_ids
    ]
    # Many parameter sets for one statement (SQLAlchemy's "insertmanyvalues"): compiled
    # once and cached, where a multi-row VALUES would be compiled anew for every batch.
    stmt = (
        conflict_insert(dialect_of(session))(Enrollment)
        .on_conflict_do_nothing(index_elements=["user_id", "course_id"])
        .returning(Enrollment.user_id)
    )
    created = (await session.scalars(stmt, values)).all()
    for user_id in [*reactivated, *created]:
        record_activity(
            session,
            user_id=user_id,
            activity_type="course_enrolled",
            details=f"Enrolled in {course.title!r}.",
            object_type="course",
            object_id=course.id,
        )
    return len(reactivated) + len(created)


async def fill_directory(session: AsyncSession, rows: Sequence[Any]) -> None:
    """Names and emails from the upload, for users the directory has no row for yet (a
    token's claims, when they come, are the directory's word)."""
    values = [
        {"user_id": r.user_id, "name": r.name, "email": r.email, "updated_at": utcnow()}
        for r in rows
        if r.name is not None or r.email is not None
    ]
    if values:
        # One statement for every batch, a parameter set per row: a multi-row VALUES was
        # compiled anew for each batch, thousands of parameter objects a time.
        await session.execute(_directory_insert(dialect_of(session)), values)


@functools.lru_cache(maxsize=2)
def _directory_insert(dialect: str) -> Any:
    # On the table, not the ORM class: the ORM's bulk insert drops None values and splits
    # the rows into one statement per run of the same keys.
    table: Any = User.__table__
    return conflict_insert(dialect)(table).on_conflict_do_nothing(index_elements=["user_id"])
