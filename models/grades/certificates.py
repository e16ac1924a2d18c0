"""Certificates: issued once per learner and course when they complete it (a task, see
models/grades/completion.py), verified by anyone through their code, downloaded as a PDF
by their holder and the course's instructor and admins, revoked by the latter.

A code is `<tenant>.<random>`: a verification link names its tenant whatever host it is
opened on (a tenant without a domain of its own is served on LMS_PUBLIC_URL)."""

from __future__ import annotations

import io
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.courses.operations import row_with_course
from models.courses.tables import Course
from models.courses.visibility import can_change_course
from models.dialects import conflict_insert, dialect_of
from models.errors import NotFound, PermissionDenied, ValidationFailed
from models.grades.completion import completers
from models.grades.tables import Certificate
from models.identity import Principal
from models.notifications.operations import notify_users
from models.people.tables import User
from models.tenancy import SLUG_RE, Databases, Tenant, TenantDomain

VERIFY_PAGE = "/lms/certificates/verify/"
VERIFY_API = "/api/lms/certificates/verify/"
CODE_PATTERN = r"[a-z][a-z0-9_]{1,40}\.[A-Za-z0-9_-]{16,40}"
VALID, REVOKED = "valid", "revoked"


def new_code(tenant: str) -> str:
    return f"{tenant}.{secrets.token_urlsafe(18)}"


def tenant_of_code(code: str) -> str | None:
    tenant, dot, _ = code.partition(".")
    return tenant if dot and SLUG_RE.fullmatch(tenant) else None


def status_of(certificate: Certificate) -> str:
    return REVOKED if certificate.revoked_at is not None else VALID


def verify_path(code: str) -> str:
    return f"{VERIFY_PAGE}{code}/"


# Issuing


async def do_check_completion(
    session: AsyncSession, *, tenant: str, course_id: int, who: dict[str, Any]
) -> list[Certificate]:
    """The completion check's task: a certificate for each of `who` who meets the course's
    rule and has none yet. Run twice (a redelivered task), it issues nothing twice."""
    users = await completers(session, course_id=course_id, who=who)
    issued = []
    for user_id in users:
        certificate = await do_issue(session, tenant=tenant, course_id=course_id, user_id=user_id)
        if certificate is not None:
            issued.append(certificate)
    return issued


async def do_issue(
    session: AsyncSession, *, tenant: str, course_id: int, user_id: str
) -> Certificate | None:
    """The learner's certificate for the course, if they had none (None if they had: the
    INSERT yields to the one there, whichever task or worker put it there first)."""
    course = await session.get(Course, course_id)
    if course is None:
        return None
    name = await session.scalar(select(User.name).where(User.user_id == user_id))
    insert = conflict_insert(dialect_of(session))(Certificate.__table__).values(
        user_id=user_id,
        course_id=course_id,
        code=new_code(tenant),
        holder_name=(name or user_id)[:200],
        course_title=course.title,
        issued_at=utcnow(),
        revoked_at=None,
        revoke_reason="",
    )
    new_id = await session.scalar(
        insert.on_conflict_do_nothing(index_elements=["user_id", "course_id"]).returning(
            Certificate.__table__.c.id
        )
    )
    if new_id is None:
        return None
    certificate = await session.get(Certificate, new_id)
    assert certificate is not None
    notify_users(
        session,
        actor_id=None,
        event_key=f"certificate:{certificate.id}",
        type_="certificate",
        recipients=[user_id],
        title=f"Certificate earned: {course.title}"[:255],
        data={
            "certificate_id": certificate.id,
            "course_id": course_id,
            "code": certificate.code,
        },
    )
    return certificate


# Reading and revoking


async def certificate_by_code(session: AsyncSession, *, code: str) -> Certificate:
    found: Certificate | None = await session.scalar(
        select(Certificate).where(Certificate.code == code)
    )
    if found is None:
        raise NotFound()
    return found


async def access_certificate(
    session: AsyncSession, *, actor: Principal, certificate_id: int, for_change: bool = False
) -> Certificate:
    """Its holder's, and its course's instructor's and admins' (404 for anyone else); to
    change it (revoke), the latter only (403 for its holder)."""
    row = await row_with_course(session, Certificate, certificate_id)
    if row is None:
        raise NotFound()
    certificate: Certificate = row[0]
    if can_change_course(actor, row[1]):
        return certificate
    if certificate.user_id != actor.user_id:
        raise NotFound()
    if for_change:
        raise PermissionDenied()
    return certificate


def my_certificates_query(actor: Principal) -> Any:
    return (
        select(Certificate)
        .where(Certificate.user_id == actor.user_id)
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


async def do_revoke(session: AsyncSession, *, certificate: Certificate, reason: str) -> Certificate:
    if certificate.revoked_at is not None:
        raise ValidationFailed("This certificate is already revoked.")
    certificate.revoked_at = utcnow()
    certificate.revoke_reason = reason
    await session.flush()
    return certificate


# The PDF


def render_pdf(certificate: Certificate, *, verify_url: str) -> bytes:
    """A one-page landscape A4: the holder, the course, the date, the code, and a QR code
    of the verification URL (drawn module by module: no image library needed)."""
    import segno
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    width, height = landscape(A4)
    # Uncompressed: the code and the name stay searchable as plain text in the file.
    pdf = canvas.Canvas(buffer, pagesize=(width, height), pageCompression=0)
    pdf.setTitle(f"Certificate {certificate.code}")
    pdf.setSubject(f"{certificate.holder_name}: {certificate.course_title}")
    pdf.setFont("Helvetica-Bold", 34)
    pdf.drawCentredString(width / 2, height - 110, "Certificate of Completion")
    pdf.setFont("Helvetica", 16)
    pdf.drawCentredString(width / 2, height - 170, "This certifies that")
    pdf.setFont("Helvetica-Bold", 28)
    pdf.drawCentredString(width / 2, height - 215, certificate.holder_name)
    pdf.setFont("Helvetica", 16)
    pdf.drawCentredString(width / 2, height - 260, "has completed the course")
    pdf.setFont("Helvetica-Bold", 22)
    pdf.drawCentredString(width / 2, height - 300, certificate.course_title)
    pdf.setFont("Helvetica", 14)
    pdf.drawCentredString(width / 2, height - 340, f"Issued on {certificate.issued_at:%d %B %Y}")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(60, 80, f"Verification code: {certificate.code}")
    pdf.drawString(60, 64, f"Verify at: {verify_url}")
    qr = segno.make(verify_url, error="m")
    module = 3.0
    size = qr.symbol_size(scale=1, border=0)[0]
    left, top = width - 60 - size * module, 60 + size * module
    for y, row in enumerate(qr.matrix_iter(scale=1, border=0)):
        for x, dark in enumerate(row):
            if dark:
                pdf.rect(left + x * module, top - (y + 1) * module, module, module, 0, 1)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


async def public_base(databases: Databases, *, tenant: str, fallback: str) -> str:
    """Where the tenant's pages are served: its own domain (its first, over https), else
    `fallback` (LMS_PUBLIC_URL), as email links are."""
    async with databases.core_sessions()() as session:
        domain = await session.scalar(
            select(TenantDomain.domain)
            .join(Tenant, Tenant.id == TenantDomain.tenant_id)
            .where(Tenant.slug == tenant)
            .order_by(TenantDomain.domain)
            .limit(1)
        )
    return f"https://{domain}" if domain else fallback.rstrip("/")
