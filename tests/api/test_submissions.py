"""Submissions: text and streamed files, every version kept, who sees what, late work."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from models.assignments.tables import Submission, SubmissionFile, SubmissionVersion
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from tests.api.test_assignments import iso, new_assignment
from tests.conftest import Api, Factory
from web.config import Settings
from web.keys import DATABASES

SUBMISSIONS = "/api/lms/courses/submissions/"
PDF = b"%PDF-1.4 my essay\n" + b"x" * 200
PAST_DUE = "The due date has passed: this assignment takes no more submissions."


def form(
    assignment_id: int | None, *files: tuple[str, bytes], text: str | None = None
) -> aiohttp.FormData:
    """A submission form: the assignment first, then the text, then the files."""
    data = aiohttp.FormData()
    if assignment_id is not None:
        data.add_field("assignment", str(assignment_id))
    if text is not None:
        data.add_field("text", text)
    for name, content in files:
        data.add_field("files", content, filename=name, content_type="application/octet-stream")
    return data


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


async def rows(api: Api) -> tuple[int, int, int]:
    """How many submissions, versions and files the tenant holds."""
    databases: Databases = api.client.app[DATABASES]
    async with unit_of_work(databases, "acme") as uow:
        counts = [
            await uow.session.scalar(select(func.count()).select_from(table))
            for table in (Submission, SubmissionVersion, SubmissionFile)
        ]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


async def submit(api: Api, assignment_id: int, as_: str = "student", **kw: Any) -> dict[str, Any]:
    if "data" in kw:
        reply = await api.post(SUBMISSIONS, data=kw["data"], as_=as_)
    else:
        reply = await api.post(SUBMISSIONS, {"assignment": assignment_id, **kw}, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def course(make: Factory) -> dict[str, Any]:
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


@pytest.fixture
async def essay(api: Api, course: dict[str, Any]) -> dict[str, Any]:
    return await new_assignment(
        api, course["id"], allowed_file_types=["pdf", "txt"], max_file_bytes=1000
    )


# Submitting


async def test_a_learner_submits_text(api: Api, essay) -> None:
    created = await submit(api, essay["id"], text="My essay.")
    assert (created["assignment"], created["user_id"]) == (essay["id"], "student-1")
    assert (created["version"], created["text"], created["files"]) == (1, "My essay.", [])
    assert (created["status"], created["is_late"], created["score"]) == ("ungraded", False, None)
    assert [v["number"] for v in created["versions"]] == [1]


async def test_a_learner_submits_files_streamed_to_disk(
    api: Api, essay, settings: Settings
) -> None:
    data = form(essay["id"], ("essay.pdf", PDF), ("notes.txt", b"plain notes"), text="See files.")
    created = await submit(api, essay["id"], data=data)
    assert [(f["name"], f["size"]) for f in created["files"]] == [
        ("essay.pdf", len(PDF)),
        ("notes.txt", 11),
    ]
    assert sorted(p.read_bytes() for p in files_under(settings.media_root)) == sorted(
        [PDF, b"plain notes"]
    )
    assert await rows(api) == (1, 1, 2)


async def test_the_learner_and_the_instructor_download_a_file(api: Api, essay) -> None:
    created = await submit(api, essay["id"], data=form(essay["id"], ("essay.pdf", PDF)))
    url = created["files"][0]["url"]
    for who in ("student", "instructor", "admin"):
        reply = await api.get(url, as_=who)
        assert (reply.status, reply.body) == (200, PDF), who
    assert reply.headers["Content-Disposition"].startswith("attachment;")


async def test_others_cannot_download_a_file(api: Api, essay) -> None:
    created = await submit(api, essay["id"], data=form(essay["id"], ("essay.pdf", PDF)))
    url = created["files"][0]["url"]
    for who in ("student2", "instructor2"):
        assert (await api.get(url, as_=who)).status == 404, who


async def test_a_file_over_the_limit_is_413_and_keeps_nothing(
    api: Api, essay, settings: Settings
) -> None:
    big = b"%PDF-1.4\n" + b"x" * 5000
    data = form(essay["id"], ("small.txt", b"fits"), ("big.pdf", big), text="Too big.")
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 413
    assert reply.body == {"detail": "File too large: the limit is 1000 bytes.", "status": 413}
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)


async def test_a_file_exactly_at_the_limit_is_taken(api: Api, essay) -> None:
    exact = b"%PDF-" + b"x" * 995
    created = await submit(api, essay["id"], data=form(essay["id"], ("exact.pdf", exact)))
    assert created["files"][0]["size"] == 1000


async def test_a_type_the_assignment_does_not_take_is_415_and_keeps_nothing(
    api: Api, essay, settings: Settings
) -> None:
    data = form(essay["id"], ("notes.txt", b"fine"), ("tool.exe", b"MZ\x90\x00"))
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 415
    assert reply.body == {
        "detail": 'Files ".exe" are not accepted here; accepted: pdf, txt.',
        "status": 415,
    }
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)


async def test_content_that_is_not_what_its_extension_says_is_415(
    api: Api, essay, settings: Settings
) -> None:
    data = form(essay["id"], ("essay.pdf", b"MZ\x90\x00 an executable in disguise"))
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 415
    assert reply.body["detail"] == "The file's content is not a .pdf file."
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)


async def test_binary_content_named_text_is_415(api: Api, essay) -> None:
    data = form(essay["id"], ("notes.txt", b"\x00\x01\x02binary"))
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 415


async def test_an_assignment_without_file_types_takes_text_only(api: Api, course) -> None:
    text_only = await new_assignment(api, course["id"])
    data = form(text_only["id"], ("essay.pdf", PDF))
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 415
    assert reply.body["detail"] == "This assignment takes no files: submit text."


async def test_a_form_naming_its_assignment_after_the_files_is_400(api: Api, essay) -> None:
    data = aiohttp.FormData()
    data.add_field("files", PDF, filename="essay.pdf", content_type="application/pdf")
    data.add_field("assignment", str(essay["id"]))
    reply = await api.post(SUBMISSIONS, data=data, as_="student")
    assert reply.status == 400
    assert reply.body["assignment"] == ["Send this field before the files."]
    assert await rows(api) == (0, 0, 0)


async def test_too_many_files_is_400(api: Api, essay, settings: Settings) -> None:
    files = [(f"n{i}.txt", b"note") for i in range(11)]
    reply = await api.post(SUBMISSIONS, data=form(essay["id"], *files), as_="student")
    assert reply.status == 400
    assert reply.body["files"] == ["Ensure there are no more than 10 files."]
    assert files_under(settings.media_root) == []


async def test_an_empty_submission_is_400(api: Api, essay) -> None:
    reply = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "  "}, as_="student")
    assert reply.status == 400
    assert reply.body["non_field_errors"] == ["Submit a text, at least one file, or both."]
    assert await rows(api) == (0, 0, 0)


async def test_a_learner_not_enrolled_is_400_on_assignment(api: Api, make) -> None:
    outsider = await make.course()
    unseen = await new_assignment(api, outsider["id"])
    reply = await api.post(SUBMISSIONS, {"assignment": unseen["id"], "text": "Hi"}, as_="student")
    assert reply.status == 400
    assert reply.body["assignment"] == [f'Invalid pk "{unseen["id"]}" - object does not exist.']


async def test_the_instructor_does_not_submit(api: Api, essay) -> None:
    reply = await api.post(SUBMISSIONS, {"assignment": essay["id"], "text": "Hi"}, as_="instructor")
    assert reply.status == 403
    assert reply.body["detail"] == "Only the course's enrolled learners submit work."


async def test_an_unpublished_assignment_takes_no_submission(api: Api, course) -> None:
    draft = await new_assignment(api, course["id"], is_published=False)
    reply = await api.post(SUBMISSIONS, {"assignment": draft["id"], "text": "Hi"}, as_="student")
    assert reply.status == 400


# Versions


async def test_resubmitting_adds_a_version_and_keeps_the_earlier_ones(api: Api, essay) -> None:
    first = await submit(api, essay["id"], data=form(essay["id"], ("v1.pdf", PDF), text="One"))
    second = await submit(api, essay["id"], text="Two")
    assert second["id"] == first["id"]
    assert (second["version"], second["text"], second["files"]) == (2, "Two", [])
    assert [(v["number"], v["text"]) for v in second["versions"]] == [(2, "Two"), (1, "One")]
    old_file = second["versions"][1]["files"][0]
    assert old_file["name"] == "v1.pdf"
    for who in ("student", "instructor"):
        assert (await api.get(old_file["url"], as_=who)).body == PDF
    assert await rows(api) == (1, 2, 1)


async def test_a_resubmission_goes_back_to_the_grading_queue(api: Api, essay) -> None:
    first = await submit(api, essay["id"], text="One")
    url = f"{SUBMISSIONS}{first['id']}/"
    assert (await api.post(url + "grade/", {"score": 5}, as_="instructor")).status == 200
    await submit(api, essay["id"], text="Two")
    seen = (await api.get(url, as_="instructor")).body
    assert (seen["status"], seen["version"], seen["graded_version"]) == ("ungraded", 2, 1)


# Due dates


async def test_after_the_due_date_refuse_is_403_and_keeps_nothing(api: Api, course) -> None:
    late = await new_assignment(
        api, course["id"], due_at=iso(timedelta(hours=-1)), late_policy="refuse"
    )
    reply = await api.post(SUBMISSIONS, {"assignment": late["id"], "text": "Late"}, as_="student")
    assert (reply.status, reply.body) == (403, {"detail": PAST_DUE, "status": 403})
    assert await rows(api) == (0, 0, 0)


async def test_after_the_due_date_refuse_keeps_the_earlier_version(api: Api, course) -> None:
    closing = await new_assignment(
        api, course["id"], due_at=iso(timedelta(hours=1)), late_policy="refuse"
    )
    created = await submit(api, closing["id"], text="On time")
    url = f"/api/lms/courses/assignments/{closing['id']}/"
    passed = {"due_at": iso(timedelta(seconds=-1))}
    assert (await api.patch(url, passed, as_="instructor")).status == 200
    reply = await api.post(
        SUBMISSIONS, {"assignment": closing["id"], "text": "Again"}, as_="student"
    )
    assert reply.status == 403
    kept = await api.get(f"{SUBMISSIONS}{created['id']}/", as_="student")
    assert (kept.body["version"], kept.body["text"]) == (1, "On time")


async def test_after_the_due_date_accept_marks_it_late(api: Api, course) -> None:
    late = await new_assignment(api, course["id"], due_at=iso(timedelta(days=-1, hours=-1)))
    created = await submit(api, late["id"], text="Late")
    assert (created["is_late"], created["days_late"]) == (True, 2)


async def test_a_started_day_counts_as_a_day_late(api: Api, course) -> None:
    late = await new_assignment(api, course["id"], due_at=iso(timedelta(minutes=-1)))
    created = await submit(api, late["id"], text="Late")
    assert created["days_late"] == 1


# Who sees what


async def test_a_learner_lists_only_their_own(api: Api, essay) -> None:
    await submit(api, essay["id"], text="Mine")
    await submit(api, essay["id"], as_="student2", text="Theirs")
    mine = await api.get(SUBMISSIONS, as_="student")
    assert [s["text"] for s in mine.body["results"]] == ["Mine"]
    everyone = await api.get(f"{SUBMISSIONS}?assignment={essay['id']}", as_="instructor")
    assert {s["user_id"] for s in everyone.body["results"]} == {"student-1", "student-2"}
    assert (await api.get(SUBMISSIONS, as_="instructor2")).body["count"] == 0


async def test_a_learner_reading_anothers_submission_is_404(api: Api, essay) -> None:
    theirs = await submit(api, essay["id"], as_="student2", text="Theirs")
    url = f"{SUBMISSIONS}{theirs['id']}/"
    assert (await api.get(url, as_="student")).status == 404
    assert (await api.get(url, as_="instructor2")).status == 404
    assert (await api.get(url, as_="instructor")).status == 200


async def test_the_grading_queue_filters_by_status(api: Api, essay) -> None:
    graded = await submit(api, essay["id"], text="Graded")
    await submit(api, essay["id"], as_="student2", text="Waiting")
    url = f"{SUBMISSIONS}{graded['id']}/grade/"
    assert (await api.post(url, {"score": 7}, as_="instructor")).status == 200
    queue = await api.get(f"{SUBMISSIONS}?status=ungraded", as_="instructor")
    assert [s["text"] for s in queue.body["results"]] == ["Waiting"]
    done = await api.get(f"{SUBMISSIONS}?status=graded", as_="instructor")
    assert [s["text"] for s in done.body["results"]] == ["Graded"]
    assert (await api.get(f"{SUBMISSIONS}?status=lost", as_="instructor")).status == 400


async def test_deleting_the_assignment_removes_its_submitted_files(
    api: Api, essay, settings: Settings
) -> None:
    await submit(api, essay["id"], data=form(essay["id"], ("essay.pdf", PDF)))
    assert len(files_under(settings.media_root)) == 1
    url = f"/api/lms/courses/assignments/{essay['id']}/"
    assert (await api.delete(url, as_="instructor")).status == 204
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)


async def test_deleting_the_course_removes_its_submitted_files(
    api: Api, course, essay, settings: Settings
) -> None:
    await submit(api, essay["id"], data=form(essay["id"], ("essay.pdf", PDF)))
    url = f"/api/lms/courses/courses/{course['id']}/"
    assert (await api.delete(url, as_="instructor")).status == 204
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)


def raw_form(*parts: tuple[str, str | None, bytes]) -> tuple[bytes, dict[str, str]]:
    """A multipart body written out: (field name, file name or None, content) per part."""
    boundary = "test-boundary-1234"
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


async def test_a_file_input_left_blank_is_ignored(api: Api, essay) -> None:
    body, headers = raw_form(
        ("assignment", None, str(essay["id"]).encode()),
        ("text", None, b"Text only."),
        ("files", "", b""),
    )
    reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
    assert reply.status == 201, reply.body
    assert (reply.body["text"], reply.body["files"]) == ("Text only.", [])


async def test_file_content_without_a_file_name_is_400(api: Api, essay) -> None:
    body, headers = raw_form(("assignment", None, str(essay["id"]).encode()), ("files", None, PDF))
    reply = await api.call("POST", SUBMISSIONS, data=body, headers=headers, as_="student")
    assert reply.status == 400
    assert reply.body["files"] == ["Each file needs its file name."]
    assert await rows(api) == (0, 0, 0)


async def test_the_instructor_filters_by_learner(api: Api, essay) -> None:
    await submit(api, essay["id"], text="Mine")
    await submit(api, essay["id"], as_="student2", text="Theirs")
    reply = await api.get(f"{SUBMISSIONS}?user_id=student-2", as_="instructor")
    assert [s["text"] for s in reply.body["results"]] == ["Theirs"]
    assert reply.body["results"][0]["user"]["id"] == "student-2"


async def test_the_413_comes_while_the_file_streams(api: Api, essay, settings: Settings) -> None:
    """The body announces 400 KB, 150 KB are sent and the connection stays open: only the
    counter passing the assignment's 1,000 bytes can answer (the parser reads a chunk
    ahead, up to 64 KB, to find the part's end)."""
    boundary = "x" * 16
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="assignment"\r\n\r\n{essay["id"]}\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="files"; filename="big.pdf"\r\n\r\n'
    ).encode()
    reader, writer = await asyncio.open_connection(api.client.host, api.client.port)
    writer.write(
        b"POST " + SUBMISSIONS.encode() + b" HTTP/1.1\r\nHost: test\r\n"
        b"Authorization: Bearer " + api.tokens["student"].encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary.encode() + b"\r\n"
        b"Content-Length: 400000\r\n\r\n" + head + b"%PDF-" + b"x" * 150_000
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=5)
    writer.close()
    await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 413")
    assert files_under(settings.media_root) == []
    assert await rows(api) == (0, 0, 0)
