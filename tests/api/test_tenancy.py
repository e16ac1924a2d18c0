"""Tenancy through the API: one tenant never sees or touches another's data."""

from __future__ import annotations

import io
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from migrations.runner import provision_tenant
from models.errors import ValidationFailed
from models.tenancy import Databases
from tests.conftest import Api, Factory, token_for
from web.config import Settings
from web.keys import TENANTS

COURSES = "/api/lms/courses/courses/"
MODULES = "/api/lms/courses/modules/"
LESSONS = "/api/lms/courses/lessons/"
NOT_FOUND = {"detail": "Not found.", "status": 404}
WRONG_DOMAIN = {"detail": "Token tenant does not match this domain.", "status": 403}


def course_url(course_id: int) -> str:
    return f"{COURSES}{course_id}/"


def files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def png_form() -> aiohttp.FormData:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, format="PNG")
    form = aiohttp.FormData()
    form.add_field("file", buffer.getvalue(), filename="cover.png", content_type="image/png")
    return form


def new_slug() -> str:
    # Unique per run: the database is shared by the whole session.
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def acme_course(make: Factory) -> dict[str, Any]:
    return await make.course(title="Acme Secrets", code="ACME1")


# --- another tenant's course -------------------------------------------------------------


async def test_other_tenants_course_is_absent_from_the_list(api: Api, acme_course: dict) -> None:
    reply = await api.get(COURSES, as_="b_admin")
    assert reply.status == 200
    assert reply.body["count"] == 0
    assert reply.body["results"] == []


async def test_other_tenants_course_detail_is_404(api: Api, acme_course: dict) -> None:
    reply = await api.get(course_url(acme_course["id"]), as_="b_admin")
    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_other_tenants_course_cannot_be_patched(api: Api, acme_course: dict) -> None:
    reply = await api.patch(course_url(acme_course["id"]), {"title": "Pwned"}, as_="b_admin")
    assert reply.status == 404
    assert reply.body == NOT_FOUND
    unchanged = await api.get(course_url(acme_course["id"]), as_="instructor")
    assert unchanged.body["title"] == "Acme Secrets"


async def test_other_tenants_course_cannot_be_deleted(api: Api, acme_course: dict) -> None:
    reply = await api.delete(course_url(acme_course["id"]), as_="b_admin")
    assert reply.status == 404
    assert reply.body == NOT_FOUND
    assert (await api.get(course_url(acme_course["id"]), as_="instructor")).status == 200


async def test_other_tenants_course_cannot_be_enrolled_in(api: Api, acme_course: dict) -> None:
    path = f"/api/lms/courses/enrollments/course/{acme_course['id']}/"
    reply = await api.post(path, as_="b_student")
    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_other_tenants_course_cannot_be_rated(api: Api, acme_course: dict) -> None:
    path = f"/api/lms/courses/ratings/course/{acme_course['id']}/"
    reply = await api.post(path, {"rating": 1, "review": "spam"}, as_="b_student")
    assert reply.status == 404
    assert reply.body == NOT_FOUND


async def test_other_tenants_course_thumbnail_upload_is_404_and_writes_nothing(
    api: Api, acme_course: dict, settings: Settings
) -> None:
    path = f"{course_url(acme_course['id'])}upload-thumbnail/"
    reply = await api.post(path, data=png_form(), as_="b_admin")
    assert reply.status == 404
    assert reply.body == NOT_FOUND
    assert files_under(settings.media_root) == []


async def test_other_tenants_modules_and_lessons_are_404(
    api: Api, make: Factory, acme_course: dict
) -> None:
    module = await make.module(acme_course["id"])
    lesson = await make.lesson(module["id"])
    module_url = f"{MODULES}{module['id']}/"
    lesson_url = f"{LESSONS}{lesson['id']}/"
    for reply in (
        await api.get(module_url, as_="b_admin"),
        await api.patch(module_url, {"title": "Pwned"}, as_="b_admin"),
        await api.delete(module_url, as_="b_admin"),
        await api.get(lesson_url, as_="b_admin"),
        await api.patch(lesson_url, {"title": "Pwned"}, as_="b_admin"),
        await api.delete(lesson_url, as_="b_admin"),
    ):
        assert (reply.status, reply.body) == (404, NOT_FOUND)
    assert (await api.get(lesson_url, as_="instructor")).body["title"] == lesson["title"]


async def test_other_tenants_lessons_are_absent_from_lists(
    api: Api, make: Factory, acme_course: dict
) -> None:
    module = await make.module(acme_course["id"])
    await make.lesson(module["id"])
    modules = await api.get(f"{MODULES}?course={acme_course['id']}", as_="b_admin")
    lessons = await api.get(LESSONS, as_="b_admin")
    assert (modules.status, modules.body["count"]) == (200, 0)
    assert (lessons.status, lessons.body["count"]) == (200, 0)


async def test_other_tenants_lesson_file_upload_is_404_and_writes_nothing(
    api: Api, make: Factory, acme_course: dict, settings: Settings
) -> None:
    module = await make.module(acme_course["id"])
    lesson = await make.lesson(module["id"])
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 hello", filename="notes.pdf")
    reply = await api.post(f"{LESSONS}{lesson['id']}/upload-file/", data=form, as_="b_admin")
    assert reply.status == 404
    assert reply.body == NOT_FOUND
    assert files_under(settings.media_root) == []


async def test_module_cannot_be_added_to_another_tenants_course(
    api: Api, acme_course: dict
) -> None:
    reply = await api.post(MODULES, {"course": acme_course["id"], "title": "X"}, as_="b_admin")
    assert reply.status == 400
    assert reply.body == {
        "course": [f'Invalid pk "{acme_course["id"]}" - object does not exist.'],
        "status": 400,
    }


async def test_same_course_code_may_exist_in_two_tenants(api: Api, make: Factory) -> None:
    acme = await make.course(code="PY101")
    globex = await make.course(as_="b_instructor", code="PY101")
    assert acme["code"] == globex["code"] == "PY101"


async def test_course_code_is_unique_within_a_tenant(api: Api, make: Factory) -> None:
    await make.course(code="PY101")
    body = {"title": "Another", "code": "PY101", "price": "0.00"}
    reply = await api.post(COURSES, body, as_="instructor2")
    assert reply.status == 400
    assert reply.body == {"code": ["course with this code already exists."], "status": 400}


# --- Host and token ----------------------------------------------------------------------


async def test_token_of_another_tenant_on_a_tenants_domain_is_403(api: Api) -> None:
    reply = await api.get(COURSES, as_="admin", headers={"Host": "globex.test"})
    assert reply.status == 403
    assert reply.body == WRONG_DOMAIN


async def test_token_of_the_domains_tenant_is_200(api: Api, acme_course: dict) -> None:
    reply = await api.get(COURSES, as_="student", headers={"Host": "acme.test"})
    assert reply.status == 200
    assert [course["code"] for course in reply.body["results"]] == ["ACME1"]


async def test_host_port_is_ignored_when_matching_domains(api: Api) -> None:
    ok = await api.get(COURSES, as_="student", headers={"Host": "acme.test:8443"})
    refused = await api.get(COURSES, as_="student", headers={"Host": "globex.test:8443"})
    assert ok.status == 200
    assert (refused.status, refused.body) == (403, WRONG_DOMAIN)


async def test_host_is_matched_case_insensitively(api: Api) -> None:
    reply = await api.get(COURSES, as_="admin", headers={"Host": "GLOBEX.TEST"})
    assert reply.status == 403
    assert reply.body == WRONG_DOMAIN


async def test_host_with_a_trailing_dot_is_the_same_domain(api: Api) -> None:
    reply = await api.get(COURSES, as_="b_admin", headers={"Host": "acme.test."})
    assert reply.status == 403
    assert reply.body == WRONG_DOMAIN


async def test_host_with_a_trailing_dot_and_a_port_is_the_same_domain(api: Api) -> None:
    reply = await api.get(COURSES, as_="b_admin", headers={"Host": "acme.test.:8443"})
    assert reply.status == 403
    assert reply.body == WRONG_DOMAIN


async def test_host_with_a_trailing_dot_resolves_to_its_tenant(api: Api) -> None:
    tenants = api.client.app[TENANTS]
    assert await tenants.tenant_for_host("acme.test.") == "acme"
    assert await tenants.tenant_for_host("ACME.TEST.:8443") == "acme"
    assert await tenants.tenant_for_host("acme.test..") is None


async def test_token_without_tenant_claim_on_a_tenants_domain_is_403(api: Api) -> None:
    token = token_for("admin-1", "admin", tenant=None)
    reply = await api.get(COURSES, token=token, headers={"Host": "acme.test"})
    assert reply.status == 403
    assert reply.body == WRONG_DOMAIN


async def test_token_without_tenant_claim_is_served_by_the_default_tenant(
    api: Api, acme_course: dict
) -> None:
    token = token_for("instructor-9", "instructor", tenant=None)
    created = await api.post(
        COURSES, {"title": "Default Course", "code": "DEF1", "price": "0.00"}, token=token
    )
    assert created.status == 201
    default_codes = [c["code"] for c in (await api.get(COURSES, token=token)).body["results"]]
    acme_codes = [c["code"] for c in (await api.get(COURSES, as_="admin")).body["results"]]
    assert default_codes == ["DEF1"]
    assert acme_codes == ["ACME1"]


async def test_a_request_to_a_domain_still_needs_a_token(api: Api) -> None:
    reply = await api.get(COURSES, headers={"Host": "acme.test"})
    assert reply.status == 401
    assert reply.body == {"detail": "Authentication credentials were not provided.", "status": 401}


# --- tenants created while the service runs ----------------------------------------------


async def test_tenant_provisioned_while_running_is_served_at_once_with_its_token(
    api: Api, settings: Settings
) -> None:
    assert (await api.get(COURSES, as_="admin")).status == 200
    slug = new_slug()
    await provision_tenant(settings.database_url, slug=slug, domains=[f"{slug}.test"])

    token = token_for("instructor-1", "instructor", tenant=slug)
    created = await api.post(
        COURSES, {"title": "Fresh", "code": "NEW1", "price": "0.00"}, token=token
    )
    listed = await api.get(COURSES, token=token)
    assert created.status == 201
    assert [c["code"] for c in listed.body["results"]] == ["NEW1"]
    assert (await api.get(COURSES, as_="admin")).body["count"] == 0


async def test_tenant_provisioned_while_running_is_served_at_once_by_its_domain(
    api: Api, settings: Settings
) -> None:
    assert (await api.get(COURSES, as_="admin")).status == 200
    slug = new_slug()
    domain = f"{slug}.test"
    await provision_tenant(settings.database_url, slug=slug, domains=[domain])

    own = await api.get(COURSES, token=token_for("u-1", tenant=slug), headers={"Host": domain})
    foreign = await api.get(COURSES, as_="admin", headers={"Host": domain})
    assert own.status == 200
    assert own.body["count"] == 0
    assert (foreign.status, foreign.body) == (403, WRONG_DOMAIN)


async def test_new_tenants_have_the_seeded_general_category(api: Api, settings: Settings) -> None:
    slug = new_slug()
    await provision_tenant(settings.database_url, slug=slug)
    reply = await api.get("/api/lms/courses/categories/", token=token_for("u-1", tenant=slug))
    assert reply.status == 200
    assert [c["slug"] for c in reply.body["results"]] == ["general"]


# --- provisioning rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug",
    [
        "public",
        "pg_catalog",
        "pg_toast",
        "information_schema",
        "tenant",
        "Bad-Slug",
        "x",
        "1abc",
        "a" * 42,
        pytest.param("evil\n", id="trailing-newline"),
    ],
)
async def test_provisioning_rejects_an_invalid_or_reserved_slug(
    settings: Settings, slug: str
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await provision_tenant(settings.database_url, slug=slug)
    assert list(raised.value.errors) == ["slug"]


async def test_provisioning_rejects_an_existing_slug(settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await provision_tenant(settings.database_url, slug="acme")
    assert raised.value.errors == {"slug": ["Tenant 'acme' already exists."]}


async def test_provisioning_rejects_a_domain_already_in_use(settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await provision_tenant(settings.database_url, slug=new_slug(), domains=["acme.test"])
    assert raised.value.errors == {"domain": ["Domain already in use: acme.test."]}


async def test_provisioning_rejects_an_invalid_domain(settings: Settings) -> None:
    with pytest.raises(ValidationFailed) as raised:
        await provision_tenant(settings.database_url, slug=new_slug(), domains=["bad domain"])
    assert list(raised.value.errors) == ["domain"]


async def _foreign_storage(databases: Databases, slug: str) -> None:
    """A schema (or SQLite file) of that name that is not this service's: another app's."""
    if databases.is_sqlite:
        path = Path(databases.tenant_url(slug).database or "")
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as connection, connection:
            connection.execute("CREATE TABLE courses (note TEXT)")
            connection.execute("INSERT INTO courses VALUES ('keep me')")
        return
    async with databases.core_engine.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{slug}"'))
        await connection.execute(text(f'CREATE TABLE "{slug}".courses (note TEXT)'))
        await connection.execute(text(f"INSERT INTO \"{slug}\".courses VALUES ('keep me')"))


async def _foreign_notes(databases: Databases, slug: str) -> list[str]:
    if databases.is_sqlite:
        path = databases.tenant_url(slug).database or ""
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            return [row[0] for row in connection.execute("SELECT note FROM courses")]
    async with databases.core_engine.connect() as connection:
        return list((await connection.scalars(text(f'SELECT note FROM "{slug}".courses'))).all())


async def test_failed_provisioning_leaves_storage_it_did_not_create(settings: Settings) -> None:
    slug = new_slug()
    databases = Databases.connect(settings.database_url)
    try:
        await _foreign_storage(databases, slug)
        with pytest.raises(DBAPIError):
            await provision_tenant(settings.database_url, slug=slug)
        assert await _foreign_notes(databases, slug) == ["keep me"]
    finally:
        await databases.dispose()
