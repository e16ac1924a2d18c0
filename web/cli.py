"""The `lms` command: serve, migrate, manage tenants, mint development tokens."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence

from aiohttp import web

from migrations.runner import migrate_all, provision_tenant
from models.errors import ValidationFailed
from models.identity import ROLES
from models.tenancy import Databases, list_tenants
from web.config import Settings
from web.secrets import signing_secret
from web.tokens import mint_token


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lms", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve REST and WebSockets")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)

    commands.add_parser("migrate", help="upgrade the core registry and every tenant")

    worker = commands.add_parser("worker", help="run a Celery worker (needs LMS_REDIS_URL)")
    worker.add_argument("--concurrency", type=int, default=None, help="worker processes")

    tenant = commands.add_parser("tenant", help="tenants").add_subparsers(
        dest="action", required=True
    )
    create = tenant.add_parser("create", help="create a tenant: its schema, tables and domains")
    create.add_argument("slug")
    create.add_argument(
        "--domain", action="append", default=[], help="a domain that selects it (repeatable)"
    )
    create.add_argument("--name", default=None)
    create.add_argument("--if-missing", action="store_true", help="succeed quietly if it exists")
    tenant.add_parser("list", help="list tenants and their domains")

    token = commands.add_parser("token", help="mint a development token (HS256)")
    token.add_argument("--user", default="dev-admin")
    token.add_argument("--tenant", default=None)
    token.add_argument("--role", action="append", choices=ROLES, default=None)
    token.add_argument("--ttl", type=int, default=7 * 24 * 3600, help="seconds")
    token.add_argument("--explain", action="store_true", help="also print how to use it with curl")
    return parser


async def _tenant_create(settings: Settings, args: argparse.Namespace) -> int:
    databases = Databases.connect(settings.database_url)
    try:
        async with databases.core_sessions()() as session:
            existing = {t.slug for t, _ in await list_tenants(session)}
    finally:
        await databases.dispose()
    if args.slug in existing and args.if_missing:
        print(f"tenant {args.slug} exists")
        return 0
    try:
        await provision_tenant(
            settings.database_url, slug=args.slug, name=args.name, domains=args.domain
        )
    except ValidationFailed as exc:
        print(f"lms: {exc.detail}", file=sys.stderr)
        return 2
    print(f"created tenant {args.slug}" + (f" ({', '.join(args.domain)})" if args.domain else ""))
    return 0


async def _tenant_list(settings: Settings) -> int:
    databases = Databases.connect(settings.database_url)
    try:
        async with databases.core_sessions()() as session:
            for tenant, domains in await list_tenants(session):
                print(f"{tenant.slug}\t{tenant.name}\t{' '.join(domains) or '-'}")
    finally:
        await databases.dispose()
    return 0


# What `lms token --explain` shows being created; the tests create the same course.
EXAMPLE_COURSE = {
    "title": "Python Programming Fundamentals",
    "code": "PY101",
    "description": "Learn Python from basics to advanced concepts",
    "short_description": "Complete Python course for beginners",
    "category_id": 1,
    "level": "Beginner",
    "status": "Published",
    "price": "99.99",
    "currency": "USD",
    "completion_hours": 40,
}
SEED_COURSE_JSON = json.dumps(EXAMPLE_COURSE)


def _token(settings: Settings, args: argparse.Namespace) -> int:
    secret = signing_secret(settings)
    if secret is None:
        print(
            "lms: tokens come from the auth-service when a public key or JWKS is configured",
            file=sys.stderr,
        )
        return 2
    tenant = args.tenant or settings.default_tenant
    token = mint_token(
        secret=secret,
        user=args.user,
        tenant=tenant,
        roles=args.role or ["admin"],
        ttl_seconds=args.ttl,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    if not args.explain:
        print(token)
        return 0
    base = f"http://localhost:{settings.port}"
    print(f"""
Development token for {args.user} ({", ".join(args.role or ["admin"])}) in tenant {tenant!r}:

  export LMS_TOKEN={token}

Try it:

  curl -s -H "Authorization: Bearer $LMS_TOKEN" {base}/api/lms/courses/courses/
  curl -s -X POST -H "Authorization: Bearer $LMS_TOKEN" -H "Content-Type: application/json" \\
       -d '{SEED_COURSE_JSON}' \\
       {base}/api/lms/courses/courses/

API docs: {base}/api/lms/docs/   Health: {base}/health/lms/
""")
    return 0


def _event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same asyncio, a faster loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if args.command == "serve":
        from web.app import create_app
        from web.gc_pauses import short_gc_pauses_ctx

        app = create_app(settings)
        app.cleanup_ctx.append(short_gc_pauses_ctx)
        web.run_app(
            app,
            host=args.host or settings.host,
            port=args.port or settings.port,
            access_log=None,
            loop=_event_loop(),
        )
        return 0
    if args.command == "worker":
        if not settings.redis_url:
            print(
                "lms: a worker needs LMS_REDIS_URL (without it, tasks run in `lms serve`)",
                file=sys.stderr,
            )
            return 2
        from workers.app import app as celery

        argv_worker = ["worker", "-Q", settings.celery_queue, "-l", settings.log_level]
        if args.concurrency:
            argv_worker += ["--concurrency", str(args.concurrency)]
        celery.worker_main(argv_worker)
        return 0
    if args.command == "migrate":
        upgraded = asyncio.run(migrate_all(settings.database_url))
        print(f"migrated core and {len(upgraded)} tenant(s)")
        return 0
    if args.command == "tenant":
        if args.action == "create":
            return asyncio.run(_tenant_create(settings, args))
        return asyncio.run(_tenant_list(settings))
    return _token(settings, args)


if __name__ == "__main__":
    sys.exit(main())
