"""Routes: certificates (mine, a PDF download, revocation) and their public verification,
as JSON and as a page, without a token."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from models.errors import NotFound
from models.grades import certificates
from models.grades.schemas import CertificateRead, CertificateVerification, RevokeBody
from models.grades.tables import Certificate
from models.listing import paginate
from models.people.names import person
from web.handlers import actor, ok, open_unit, path_id, session
from web.jsonio import read_body
from web.keys import DATABASES, SETTINGS, TENANTS
from web.pages import SECURITY_HEADERS, STATIC_PREFIX
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
TAG = "certificates"
CERTIFICATES = "/api/lms/courses/certificates/"
CERTIFICATE = CERTIFICATES + r"{certificate_id:[0-9]+}/"
CODE = r"{code:" + certificates.CODE_PATTERN + "}/"


async def _base(request: web.Request, tenant: str) -> str:
    return await certificates.public_base(
        request.app[DATABASES], tenant=tenant, fallback=request.app[SETTINGS].public_url
    )


def certificate_body(certificate: Certificate, base: str) -> dict[str, Any]:
    """A certificate as CertificateRead renders it."""
    return {
        "id": certificate.id,
        "user_id": certificate.user_id,
        "user": person(certificate.user_id, certificate.holder_name),
        "course": certificate.course_id,
        "course_title": certificate.course_title,
        "holder_name": certificate.holder_name,
        "code": certificate.code,
        "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at,
        "revoke_reason": certificate.revoke_reason,
        "status": certificates.status_of(certificate),
        "verify_url": base + certificates.verify_path(certificate.code),
        "download_url": f"{CERTIFICATES}{certificate.id}/download/",
    }


def verification_body(certificate: Certificate) -> dict[str, Any]:
    return {
        "code": certificate.code,
        "holder_name": certificate.holder_name,
        "course_title": certificate.course_title,
        "issued_at": certificate.issued_at,
        "status": certificates.status_of(certificate),
        "revoked_at": certificate.revoked_at,
    }


@routes.read(CERTIFICATES, tag=TAG, response=CertificateRead, paginated=True)
async def my_certificates(request: web.Request) -> web.Response:
    """My certificates, newest first, each with its verification and download links."""
    stmt = certificates.my_certificates_query(actor(request))
    result = await paginate(session(request), stmt, page_request(request))
    base = await _base(request, actor(request).tenant)
    return ok(page_body(request, result, [certificate_body(c, base) for c in result.rows]))


@routes.route(
    "GET", CERTIFICATE + "download/", tag=TAG, media_type="application/pdf", errors=(404,)
)
async def download_certificate(request: web.Request) -> web.Response:
    """A certificate as a PDF (its holder, its course's instructor and admins)."""
    certificate = await certificates.access_certificate(
        session(request), actor=actor(request), certificate_id=path_id(request, "certificate_id")
    )
    url = await _base(request, actor(request).tenant) + certificates.verify_path(certificate.code)
    pdf = await asyncio.to_thread(certificates.render_pdf, certificate, verify_url=url)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{certificate.id}.pdf"'},
    )


@routes.route("POST", CERTIFICATE + "revoke/", tag=TAG, body=RevokeBody, response=CertificateRead)
async def revoke_certificate(request: web.Request) -> web.Response:
    """Revoke a certificate (its course's instructor and admins), saying why."""
    certificate = await certificates.access_certificate(
        session(request),
        actor=actor(request),
        certificate_id=path_id(request, "certificate_id"),
        for_change=True,
    )
    data = await read_body(request, RevokeBody)
    certificate = await certificates.do_revoke(
        session(request), certificate=certificate, reason=data.reason
    )
    return ok(certificate_body(certificate, await _base(request, actor(request).tenant)))


# Public verification


async def _verified(request: web.Request) -> Certificate:
    """The certificate of the path's code, in the tenant the code names (404 for a code
    of no certificate, or of another tenant than the host's)."""
    code = request.match_info["code"]
    tenant = certificates.tenant_of_code(code)
    tenants = request.app[TENANTS]
    if tenant is None:
        raise NotFound()
    host_tenant = await tenants.tenant_for_host(request.host or "")
    if host_tenant not in (None, tenant) or not await tenants.exists(tenant):
        raise NotFound()
    async with open_unit(request.app, tenant, read_only=True) as uow:
        return await certificates.certificate_by_code(uow.session, code=code)


@routes.route(
    "GET",
    certificates.VERIFY_API + CODE,
    tag=TAG,
    public=True,
    response=CertificateVerification,
    errors=(404,),
)
async def verify_certificate(request: web.Request) -> web.Response:
    """Whether a certificate is valid or revoked, by its code (no token needed)."""
    return ok(verification_body(await _verified(request)))


@routes.route(
    "GET",
    certificates.VERIFY_PAGE + CODE,
    tag="pages",
    public=True,
    media_type="text/html",
    summary="Web client: a certificate's verification page",
)
async def verify_page(request: web.Request) -> web.Response:
    # As every page: 200, saying on the page itself when no certificate has the code.
    try:
        certificate: Certificate | None = await _verified(request)
    except NotFound:
        certificate = None
    shown = None
    if certificate is not None:
        shown = {
            **verification_body(certificate),
            "issued_on": f"{certificate.issued_at:%d %B %Y}",
            "revoked_on": (f"{certificate.revoked_at:%d %B %Y}" if certificate.revoked_at else ""),
        }
    response = aiohttp_jinja2.render_template(
        "lms/certificate.html",
        request,
        {
            "title": "Certificate",
            "static": STATIC_PREFIX,
            "script": "app",
            "certificate": shown,
        },
    )
    response.headers.update(SECURITY_HEADERS)
    return response
