"""Routes: assignments, submissions (text and streamed files, every version kept) and
their grading.

A submission is JSON (`{"assignment", "text"}`) or multipart/form-data with the same
fields and any number of `files` parts; the `assignment` field must come before the files
(its limits and file types are needed to receive them). Each file is streamed to disk
(web/uploads.py) and refused while it streams: 413 past the assignment's size, 415 for a
type it does not take; a refused form leaves no file and no row.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.assignments import operations as assignments
from models.assignments import submissions
from models.assignments.files import check_file_head, check_file_name
from models.assignments.schemas import (
    MAX_TEXT,
    AssignmentCreate,
    AssignmentQuery,
    AssignmentRead,
    AssignmentUpdate,
    GradeCreate,
    SubmissionCreate,
    SubmissionDetail,
    SubmissionQuery,
    SubmissionRead,
)
from models.assignments.tables import Assignment, Submission
from models.base import utcnow
from models.courses.tables import Course
from models.errors import ValidationFailed
from models.identity import Principal
from models.listing import paginate
from models.people.names import PersonFields, named, people, person_at
from web.handlers import (
    actor,
    no_content,
    ok,
    path_id,
    read_update,
    render,
    session,
    unit_of_work,
)
from web.jsonio import read_body, read_query, validate
from web.keys import SETTINGS
from web.media import download_response, remove_media_later, remove_media_on_rollback
from web.pagination import page_body, page_request
from web.routing import RouteTable
from web.uploads import FilePolicy, receive_form_files

routes = RouteTable()
TAG = "assignments"
ASSIGNMENTS = "/api/lms/courses/assignments/"
ASSIGNMENT = ASSIGNMENTS + r"{assignment_id:[0-9]+}/"
SUBMISSIONS = "/api/lms/courses/submissions/"
SUBMISSION = SUBMISSIONS + r"{submission_id:[0-9]+}/"
SUBMISSION_FILE = SUBMISSION + r"files/{file_id:[0-9]+}/"
# A multipart submission's text fields: the text at its longest in UTF-8, and room for
# the others.
_FIELDS_BYTES = MAX_TEXT * 4 + 64 * 1024


def _limits(request: web.Request) -> assignments.Limits:
    return assignments.Limits(max_file_bytes=request.app[SETTINGS].submission_file_max_bytes)


# Assignments


async def _assignment_body(request: web.Request, assignment: Assignment) -> dict[str, Any]:
    await named(session(request), [assignment])  # a row made or changed here
    return _assignment_row(assignment)


def _assignment_row(assignment: Assignment) -> dict[str, Any]:
    fields = assignments.assignment_fields(assignment)
    fields["created_by_person"] = person_at(assignment, "created_by")
    return render(AssignmentRead, fields)


@routes.read(ASSIGNMENTS, tag=TAG, query=AssignmentQuery, response=AssignmentRead, paginated=True)
async def list_assignments(request: web.Request) -> web.Response:
    """List the assignments I may see (`course`, `lesson`, `is_published`): my courses'
    as their instructor, the published ones of the courses I am enrolled in."""
    query = read_query(request, AssignmentQuery)
    result = await assignments.assignment_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    rows = [_assignment_row(a) for a in result.rows]
    return ok(page_body(request, result, rows))


@routes.route(
    "POST", ASSIGNMENTS, tag=TAG, body=AssignmentCreate, response=AssignmentRead, status=201
)
async def create_assignment(request: web.Request) -> web.Response:
    """Add an assignment to a course (its instructor or an admin); it becomes a gradebook item."""
    data = await read_body(request, AssignmentCreate)
    course = await assignments.access_assignment_course(
        session(request), actor=actor(request), course_id=data.course
    )
    assignment = await assignments.do_create_assignment(
        session(request), actor=actor(request), course=course, data=data, limits=_limits(request)
    )
    return ok(await _assignment_body(request, assignment), status=201)


@routes.read(ASSIGNMENT, tag=TAG, response=AssignmentRead)
async def get_assignment(request: web.Request) -> web.Response:
    """Retrieve an assignment I may see."""
    assignment, _ = await assignments.access_assignment(
        session(request), actor=actor(request), assignment_id=path_id(request, "assignment_id")
    )
    return ok(await _assignment_body(request, assignment))


async def _update_assignment(request: web.Request) -> web.Response:
    assignment, course = await assignments.access_assignment(
        session(request),
        actor=actor(request),
        assignment_id=path_id(request, "assignment_id"),
        for_change=True,
    )
    data = await read_update(request, AssignmentCreate, AssignmentUpdate)
    assignment = await assignments.do_update_assignment(
        session(request), assignment=assignment, course=course, data=data, limits=_limits(request)
    )
    return ok(await _assignment_body(request, assignment))


routes.update_routes(
    ASSIGNMENT,
    tag=TAG,
    partial=AssignmentUpdate,
    whole=AssignmentCreate,
    response=AssignmentRead,
    summary="Change an assignment (its course's instructor or an admin)",
)(_update_assignment)


@routes.route("DELETE", ASSIGNMENT, tag=TAG, status=204)
async def delete_assignment(request: web.Request) -> web.Response:
    """Delete an assignment with its submissions, their files and its gradebook item."""
    assignment, _ = await assignments.access_assignment(
        session(request),
        actor=actor(request),
        assignment_id=path_id(request, "assignment_id"),
        for_change=True,
    )
    files = await assignments.do_delete_assignment(session(request), assignment=assignment)
    remove_media_later(request, *files)
    return no_content()


# Submissions


def file_url(submission_id: int, file_id: int) -> str:
    return f"{SUBMISSIONS}{submission_id}/files/{file_id}/"


def _version_body(submission_id: int, view: submissions.VersionView) -> dict[str, Any]:
    v = view.version
    return {
        "number": v.number,
        "text": v.text,
        "files": [
            {
                "id": f.id,
                "name": f.name,
                "size": f.size,
                "content_type": f.content_type,
                "url": file_url(submission_id, f.id),
            }
            for f in view.files
        ],
        "submitted_at": v.submitted_at,
        "is_late": v.days_late > 0,
        "days_late": v.days_late,
    }


_GRADE_FIELDS = (
    "score",
    "score_given",
    "late_penalty",
    "rubric_scores",
    "feedback",
    "graded_version",
    "graded_by",
    "graded_at",
)


def _submission_fields(
    s: Submission,
    *,
    course: Course,
    current: submissions.VersionView,
    viewer: Principal,
    names: dict[str, PersonFields],
) -> dict[str, Any]:
    """The submission as `viewer` sees it: the grade to the learner only once returned."""
    version = _version_body(s.id, current)
    fields: dict[str, Any] = {
        "id": s.id,
        "assignment": s.assignment_id,
        "course": course.id,
        "user_id": s.user_id,
        "user": names[s.user_id],
        "version": s.version,
        "text": version["text"],
        "files": version["files"],
        "submitted_at": s.submitted_at,
        "is_late": version["is_late"],
        "days_late": version["days_late"],
        "status": s.status,
        "returned_at": s.returned_at,
    }
    shown = submissions.grade_shown(viewer, s, course)
    for name in _GRADE_FIELDS:
        fields[name] = getattr(s, name) if shown else None
    fields["graded_by_person"] = names.get(s.graded_by) if shown and s.graded_by else None
    return fields


async def _names(request: web.Request, rows: list[Submission]) -> dict[str, PersonFields]:
    ids = [s.user_id for s in rows] + [s.graded_by for s in rows if s.graded_by]
    return await people(session(request), ids)


async def _submission_detail(request: web.Request, found: submissions.Found) -> dict[str, Any]:
    s = found.submission
    views = await submissions.version_views(
        session(request), submission_ids=[s.id], all_versions=True
    )
    versions = views[s.id]
    names = await _names(request, [s])
    viewer = actor(request)
    fields = _submission_fields(
        s, course=found.course, current=versions[0], viewer=viewer, names=names
    )
    fields["versions"] = [_version_body(s.id, v) for v in versions]
    fields["grade_history"] = s.grade_history if found.grades(viewer) else None
    return render(SubmissionDetail, fields)


@routes.read(SUBMISSIONS, tag=TAG, query=SubmissionQuery, response=SubmissionRead, paginated=True)
async def list_submissions(request: web.Request) -> web.Response:
    """List submissions: a learner's own; an instructor's courses' too, the grading queue
    with `?assignment=` and `?status=ungraded|graded|returned`."""
    query = read_query(request, SubmissionQuery)
    stmt = submissions.submissions_query(actor(request), query)
    result = await paginate(session(request), stmt, page_request(request))
    rows: list[Submission] = list(result.rows)
    views = await submissions.version_views(
        session(request), submission_ids=[s.id for s in rows], all_versions=False
    )
    courses = await submissions.course_of_assignments(
        session(request), assignment_ids={s.assignment_id for s in rows}
    )
    names = await _names(request, rows)
    body = [
        render(
            SubmissionRead,
            _submission_fields(
                s,
                course=courses[s.assignment_id],
                current=views[s.id][0],
                viewer=actor(request),
                names=names,
            ),
        )
        for s in rows
    ]
    return ok(page_body(request, result, body))


@routes.route(
    "POST",
    SUBMISSIONS,
    tag=TAG,
    body=SubmissionCreate,
    response=SubmissionDetail,
    status=201,
    multipart=True,
    errors=(403, 413, 415),
)
async def create_submission(request: web.Request) -> web.Response:
    """Submit work to an assignment: text (JSON) or a form with `text` and `files`;
    again before the due date for a new version (after it, per the late policy)."""
    uow = unit_of_work(request)
    who, now, limits = actor(request), utcnow(), _limits(request)
    targets: list[submissions.Target] = []

    async def target_of(fields: dict[str, str]) -> submissions.Target:
        if not targets:
            sent = {k: v for k, v in fields.items() if k == "assignment"}
            ref = validate(SubmissionCreate, sent)
            targets.append(
                await submissions.check_submission_target(
                    uow.session, actor=who, assignment_id=ref.assignment, now=now
                )
            )
        return targets[0]

    if request.content_type != "multipart/form-data":
        data = await read_body(request, SubmissionCreate)
        target = await target_of({"assignment": str(data.assignment)})
        submission = await submissions.do_submit(
            uow.session, actor=who, target=target, text=data.text, files=[], now=now
        )
        return await _created(request, submission)

    async def policy(fields: dict[str, str]) -> FilePolicy:
        if "assignment" not in fields:
            raise ValidationFailed.field("assignment", "Send this field before the files.")
        assignment = (await target_of(fields)).assignment
        allowed = list(assignment.allowed_file_types)
        return FilePolicy(
            folder=f"{uow.tenant}/submissions/{assignment.id}",
            max_bytes=min(assignment.max_file_bytes, limits.max_file_bytes),
            max_files=submissions.MAX_FILES,
            check_name=lambda name: check_file_name(allowed, name),
            check_head=check_file_head,
        )

    form = await receive_form_files(
        request,
        media_root=request.app[SETTINGS].media_root,
        policy=policy,
        max_total_bytes=limits.max_file_bytes * submissions.MAX_FILES,
        fields_bytes=_FIELDS_BYTES,
    )
    for stored in form.files:
        remove_media_on_rollback(request, stored.relative_path)
    data = validate(SubmissionCreate, form.fields)
    target = await target_of(form.fields)
    files = [
        submissions.NewFile(f.relative_path, f.original_name, f.size, f.content_type)
        for f in form.files
    ]
    submission = await submissions.do_submit(
        uow.session, actor=who, target=target, text=data.text, files=files, now=now
    )
    return await _created(request, submission)


async def _created(request: web.Request, submission: Submission) -> web.Response:
    found = await submissions.access_submission(
        session(request), actor=actor(request), submission_id=submission.id
    )
    return ok(await _submission_detail(request, found), status=201)


@routes.read(SUBMISSION, tag=TAG, response=SubmissionDetail)
async def get_submission(request: web.Request) -> web.Response:
    """Retrieve a submission (its learner, the course's instructor, admins): the current
    version, every version in `versions`, and for the graders `grade_history`."""
    found = await submissions.access_submission(
        session(request), actor=actor(request), submission_id=path_id(request, "submission_id")
    )
    return ok(await _submission_detail(request, found))


@routes.route("POST", SUBMISSION + "grade/", tag=TAG, body=GradeCreate, response=SubmissionDetail)
async def grade_submission(request: web.Request) -> web.Response:
    """Grade the current version (the course's instructor or an admin); the learner sees
    it once returned."""
    found = await submissions.access_submission(
        session(request), actor=actor(request), submission_id=path_id(request, "submission_id")
    )
    submissions.check_grader(actor(request), found)
    data = await read_body(request, GradeCreate)
    await submissions.do_grade(
        session(request), actor=actor(request), found=found, data=data, now=utcnow()
    )
    return ok(await _submission_detail(request, found))


@routes.route("POST", SUBMISSION + "return/", tag=TAG, response=SubmissionDetail)
async def return_submission(request: web.Request) -> web.Response:
    """Return the grade to the learner: they see it and are notified (the gradebook
    releases it)."""
    found = await submissions.access_submission(
        session(request), actor=actor(request), submission_id=path_id(request, "submission_id")
    )
    submissions.check_grader(actor(request), found)
    await submissions.do_return(session(request), found=found, now=utcnow())
    return ok(await _submission_detail(request, found))


@routes.route("GET", SUBMISSION_FILE, tag=TAG, media_type="application/octet-stream", errors=(404,))
async def download_submission_file(request: web.Request) -> web.StreamResponse:
    """Download a file of any version (the learner, the course's instructor, admins)."""
    file = await submissions.access_file(
        session(request),
        actor=actor(request),
        submission_id=path_id(request, "submission_id"),
        file_id=path_id(request, "file_id"),
    )
    return await download_response(request, file.path, file.name)
