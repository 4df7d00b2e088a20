"""The `glassshop` command's account and schema tools."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from api.settings import PROJECT_ROOT, Settings
from tests.support.graphql import GraphQLClient


def glassshop(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "APP_ENV": "test",
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "ARGON2_TIME_COST": "2",
        "ARGON2_MEMORY_COST_KIB": str(19 * 1024),
    }
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )


async def test_create_staff_reads_the_password_from_stdin_and_the_account_can_sign_in(
    client: GraphQLClient, settings: Settings
) -> None:
    done = glassshop(
        settings, "create-staff", "--email", "Ops@Example.com", stdin="a staff pass phrase\n"
    )
    assert done.returncode == 0, done.stderr

    account = await client.login("ops@example.com", "a staff pass phrase")

    me = (await client.execute("{ me { isStaff } }", token=account.access_token)).ok()
    assert me == {"me": {"isStaff": True}}


async def test_create_staff_refuses_a_weak_password(settings: Settings) -> None:
    done = glassshop(settings, "create-staff", "--email", "ops@example.com", stdin="short\n")

    assert done.returncode == 1
    assert "password" in done.stderr and "Traceback" not in done.stderr


async def test_create_staff_refuses_a_taken_email(
    client: GraphQLClient, settings: Settings
) -> None:
    await client.register("ops@example.com")

    done = glassshop(
        settings, "create-staff", "--email", "ops@example.com", stdin="a staff pass phrase\n"
    )

    assert done.returncode == 1
    assert "already exists" in done.stderr


def test_production_without_a_database_url_fails_with_one_line(settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "migrate"],
        env={
            **env,
            "APP_ENV": "production",
            "JWT_SECRET": secrets.token_urlsafe(48),
            "SMTP_HOST": "smtp",
        },
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "glassshop: production needs DATABASE_URL and REDIS_URL to be set"
    ]


def test_export_schema_check_passes_for_the_committed_file(settings: Settings) -> None:
    done = glassshop(settings, "export-schema", "--check")

    assert done.returncode == 0, done.stderr
