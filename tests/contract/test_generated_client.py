"""A typed client generated from the OpenAPI document (openapi-python-client) drives a
course's life: the document is complete enough to write a client against.

The client is generated at test time into a temporary folder, never committed: generating
takes a few seconds, and a committed copy could drift from the document it came from.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from http import HTTPStatus
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import DEFAULT_TENANT, token_for
from tests.contract.conftest import Served, served_document

PACKAGE = "lms_generated_client"


@pytest.fixture(scope="module")
def client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("client")
    document = folder / "openapi.json"
    document.write_text(json.dumps(served_document()))
    config = folder / "config.json"
    # No formatting hooks: the generated code is imported, never read by people.
    # A certificate's PDF is bytes to the client, as any file it does not know the type of.
    overrides = {"application/pdf": "application/octet-stream"}
    config.write_text(
        json.dumps(
            {
                "package_name_override": PACKAGE,
                "post_hooks": [],
                "content_type_overrides": overrides,
            }
        )
    )
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--output-path",
            str(folder / "out"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    # The generator warns about what it cannot type; the document must leave it nothing.
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout
    sys.path.insert(0, str(folder / "out"))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder / "out"))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def _api(package: ModuleType, module: str) -> Any:
    return importlib.import_module(f"{package.__name__}.api.{module}")


def _model(package: ModuleType, name: str) -> Any:
    return getattr(importlib.import_module(f"{package.__name__}.models"), name)


def test_a_generated_client_creates_a_course_fills_it_lists_it_and_enrolls(
    client_package: ModuleType, served: Served
) -> None:
    client = client_package.AuthenticatedClient
    with (
        client(
            base_url=served.base_url,
            token=token_for("client-instructor", "instructor", tenant=DEFAULT_TENANT),
        ) as instructor,
        client(
            base_url=served.base_url,
            token=token_for("client-student", "student", tenant=DEFAULT_TENANT),
        ) as student,
    ):
        _drive_a_course(client_package, instructor, student)


def _drive_a_course(client_package: ModuleType, instructor: Any, student: Any) -> None:
    course_create = _model(client_package, "CourseCreate")
    published = _model(client_package, "CourseCreateStatus").PUBLISHED

    created = _api(client_package, "courses.post_api_lms_courses_courses").sync_detailed(
        client=instructor,
        body=course_create(title="Typed client", code="TYPED1", status=published),
    )
    assert created.status_code == HTTPStatus.CREATED
    course = created.parsed
    assert (course.title, course.slug, course.current_price) == (
        "Typed client",
        "typed-client",
        "0.00",
    )

    module = _api(client_package, "courses.post_api_lms_courses_modules").sync(
        client=instructor,
        body=_model(client_package, "ModuleCreate")(course=course.id, title="Basics"),
    )
    lesson = _api(client_package, "courses.post_api_lms_courses_lessons").sync(
        client=instructor,
        body=_model(client_package, "LessonCreate")(module=module.id, title="Hello"),
    )
    assert (module.course, lesson.module, lesson.course) == (course.id, module.id, course.id)

    listed = _api(client_package, "courses.get_api_lms_courses_courses").sync(
        client=student, search="Typed client"
    )
    assert [c.id for c in listed.results] == [course.id]
    assert listed.count == 1

    enroll = _api(client_package, "enrollments.post_api_lms_courses_enrollments_course_course_id")
    first = enroll.sync_detailed(course.id, client=student)
    again = enroll.sync_detailed(course.id, client=student)
    assert (first.status_code, again.status_code) == (HTTPStatus.CREATED, HTTPStatus.OK)
    assert first.parsed.course == course.id
    assert again.parsed.id == first.parsed.id
    assert first.parsed.progress == 0
