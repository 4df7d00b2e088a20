"""The `glassshop` command: serve, migrate, create-staff, seed, export-schema."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from api.errors import AppError, BadUserInput
from api.infra.logging import configure_logging
from api.settings import PROJECT_ROOT, Settings, SettingsError, load_settings

log = logging.getLogger("glassshop.cli")


def _settings() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        print(f"glassshop: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _database_url(settings: Settings) -> str:
    from api.resources import resolve_database_url

    return resolve_database_url(settings)


def cmd_serve(args: argparse.Namespace) -> int:
    from api.app import create_app
    from api.dev.client_build import ensure_client_built
    from api.http.serving import serve
    from db.upgrade import upgrade_to_head

    settings = _settings()
    configure_logging(settings.log_level, settings.log_output)
    url = _database_url(settings)
    upgrade_to_head(url)
    # Before the app is built: it serves the client when the build is there at start.
    ensure_client_built(settings)
    common = {
        "host": args.host,
        "port": args.port,
        # X-Forwarded-For is handled by the app's own middleware (TRUSTED_PROXIES).
        "proxy_headers": False,
        "log_level": settings.log_level.lower(),
        "log_config": None,  # keep ours (JSON in production)
        "timeout_graceful_shutdown": 30,
    }
    if args.workers > 1:
        if not (settings.database_url and settings.redis_url):
            print("glassshop: --workers > 1 needs DATABASE_URL and REDIS_URL", file=sys.stderr)
            return 2
        serve("api.app:app", workers=args.workers, **common)
    else:
        serve(create_app(settings, database_url=url), **common)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from db.upgrade import upgrade_to_head

    upgrade_to_head(_database_url(_settings()))
    return 0


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise SystemExit("glassshop: the passwords do not match")
    return first


async def _create_staff(settings: Settings, url: str, email: str, password: str) -> str:
    from api.identity import RequestMeta
    from api.resources import build_resources
    from api.unit_of_work import UnitOfWork
    from schema.accounts.service import create_staff

    resources = build_resources(settings, url)
    uow = UnitOfWork(
        resources.database,
        RequestMeta(None, "glassshop-cli", None),
        publish_audit=resources.audit_feed.publish,
    )
    try:
        async with uow.transaction():
            user = await create_staff(uow, resources, email, password)
        return str(user.id)
    finally:
        await uow.close()
        await resources.close()


def cmd_create_staff(args: argparse.Namespace) -> int:
    settings = _settings()
    url = _database_url(settings)
    password = _read_password()
    try:
        user_id = asyncio.run(_create_staff(settings, url, args.email, password))
    except BadUserInput as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())
        print(f"glassshop: {problems}", file=sys.stderr)
        return 1
    except AppError as exc:
        print(f"glassshop: {exc.message}", file=sys.stderr)
        return 1
    print(f"created staff user {args.email} ({user_id})")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from schema.accounts.validation import new_password_problems
    from schema.users.seed import seed_database, seed_email

    settings = _settings()
    if settings.is_production:
        print(
            "glassshop: seed creates test accounts and refuses to run in production",
            file=sys.stderr,
        )
        return 2
    if args.users < 0:
        print("glassshop: --users must be 0 or more", file=sys.stderr)
        return 2
    password = args.password if args.password is not None else _read_password()
    problems = new_password_problems(password, settings)
    if problems:
        print(f"glassshop: password: {' '.join(problems)}", file=sys.stderr)
        return 1
    url = _database_url(settings)
    result = asyncio.run(seed_database(settings, url, users=args.users, password=password))
    last = f"…{seed_email(args.users)}" if args.users > 1 else ""
    print(
        f"seeded {seed_email(1) if args.users else 'no users'}{last}: "
        f"{result.created} created, {result.existing} already there, {result.seconds:.2f}s"
    )
    return 0


def export_sdl() -> str:
    from schema.root import schema

    return schema.as_str() + "\n"


def cmd_export_schema(args: argparse.Namespace) -> int:
    target = Path(args.output)
    sdl = export_sdl()
    if args.check:
        if not target.exists() or target.read_text() != sdl:
            print(f"glassshop: {target} is stale; run `glassshop export-schema`", file=sys.stderr)
            return 1
        return 0
    target.write_text(sdl)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from api.jobs.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_level, settings.log_output)
    if not settings.redis_url:
        print(
            "glassshop: the worker needs REDIS_URL (its job queue); without it, "
            "`glassshop serve` runs the jobs itself",
            file=sys.stderr,
        )
        return 2
    return run_worker(settings, _database_url(settings))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glassshop", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then run the API (embedded defaults in dev)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply database migrations (alembic upgrade head)")
    migrate.set_defaults(func=cmd_migrate)

    worker = sub.add_parser("worker", help="run background jobs (emails) and the outbox relay")
    worker.set_defaults(func=cmd_worker)

    staff = sub.add_parser("create-staff", help="create a staff account")
    staff.add_argument("--email", required=True)
    staff.set_defaults(func=cmd_create_staff)

    seed = sub.add_parser(
        "seed",
        help="create test users user00001@glassshop.test … (idempotent; not in production)",
    )
    seed.add_argument("--users", type=int, required=True, help="how many (1-based, five digits)")
    seed.add_argument("--password", help="their common password (else read from stdin)")
    seed.set_defaults(func=cmd_seed)

    export = sub.add_parser("export-schema", help="write the GraphQL SDL to schema.graphql")
    export.add_argument("--output", default=str(PROJECT_ROOT / "schema.graphql"))
    export.add_argument("--check", action="store_true", help="fail if the file is stale")
    export.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("INFO")  # until the command has read its settings
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
