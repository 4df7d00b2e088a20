"""`glassshop seed`: bulk test accounts that can sign in, created once however often it runs."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

from sqlalchemy.ext.asyncio import AsyncEngine

from api.settings import PROJECT_ROOT, Settings
from schema.users.seed import seed_email
from tests.support.accounts import scalar
from tests.support.graphql import GraphQLClient

PASSWORD = "seeded pass phrase"


def glassshop(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "APP_ENV": "test",
            "DATABASE_URL": settings.database_url or "",
            "REDIS_URL": settings.redis_url or "",
            # The test app's argon2 parameters, so signing in does not rehash.
            "ARGON2_TIME_COST": str(settings.argon2_time_cost),
            "ARGON2_MEMORY_COST_KIB": str(settings.argon2_memory_cost_kib),
            "ARGON2_PARALLELISM": str(settings.argon2_parallelism),
            **env,
        },
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )


async def counts(engine: AsyncEngine) -> dict[str, int]:
    return {
        table: await scalar(engine, f"SELECT count(*) FROM {table}")
        for table in ("users", "user_profiles", "audit_logs")
    }


async def test_seeded_users_sign_in_with_the_common_password(
    client: GraphQLClient, settings: Settings, engine: AsyncEngine
) -> None:
    done = glassshop(settings, "seed", "--users", "50", "--password", PASSWORD)
    assert done.returncode == 0, done.stderr
    assert "50 created" in done.stdout

    account = await client.login("user00050@glassshop.test", PASSWORD)

    me = (
        await client.execute(
            "{ me { email username profile { phone } } }", token=account.access_token
        )
    ).ok()
    assert me == {
        "me": {
            "email": "user00050@glassshop.test",
            "username": "user00050",
            "profile": {"phone": None},
        }
    }


async def test_seeding_creates_numbered_users_with_profiles_audit_rows_and_one_shared_hash(
    settings: Settings, engine: AsyncEngine
) -> None:
    done = glassshop(settings, "seed", "--users", "50", "--password", PASSWORD)
    assert done.returncode == 0, done.stderr

    assert await counts(engine) == {"users": 50, "user_profiles": 50, "audit_logs": 100}
    assert await scalar(engine, "SELECT min(email) FROM users") == seed_email(1)
    assert await scalar(engine, "SELECT max(username) FROM users") == "user00050"
    # Hashed once and reused: one argon2id hash for all of them.
    assert await scalar(engine, "SELECT count(DISTINCT password_hash) FROM users") == 1
    assert (
        await scalar(
            engine,
            "SELECT count(*) FROM audit_logs a JOIN users u ON u.id = a.user_id "
            "WHERE a.action = 'REGISTER' AND a.object_id = u.id::text "
            "AND a.changes = jsonb_build_object('email', u.email, 'username', u.username)",
        )
        == 50
    )
    assert await scalar(engine, "SELECT count(*) FROM audit_logs WHERE action = 'LOGIN'") == 50


async def test_running_the_seed_again_creates_nothing_and_succeeds(
    client: GraphQLClient, settings: Settings, engine: AsyncEngine
) -> None:
    assert glassshop(settings, "seed", "--users", "50", "--password", PASSWORD).returncode == 0
    before = await counts(engine)

    again = glassshop(settings, "seed", "--users", "50", "--password", "another pass phrase")

    assert again.returncode == 0, again.stderr
    assert "0 created, 50 already there" in again.stdout
    assert await counts(engine) == before
    # The existing accounts keep their password.
    await client.login("user00001@glassshop.test", PASSWORD)


async def test_seeding_more_adds_only_the_missing_users(
    settings: Settings, engine: AsyncEngine
) -> None:
    assert glassshop(settings, "seed", "--users", "10", "--password", PASSWORD).returncode == 0

    done = glassshop(settings, "seed", "--users", "25", "--password", PASSWORD)

    assert done.returncode == 0, done.stderr
    assert "15 created, 10 already there" in done.stdout
    assert await counts(engine) == {"users": 25, "user_profiles": 25, "audit_logs": 50}


async def test_an_existing_account_with_a_seed_email_in_other_case_is_skipped(
    client: GraphQLClient, settings: Settings, engine: AsyncEngine
) -> None:
    await client.register("User00002@GlassShop.test")

    done = glassshop(settings, "seed", "--users", "3", "--password", PASSWORD)

    assert done.returncode == 0, done.stderr
    assert "2 created, 1 already there" in done.stdout
    assert await scalar(engine, "SELECT count(*) FROM users") == 3


async def test_seed_refuses_a_weak_password_and_writes_nothing(
    settings: Settings, engine: AsyncEngine
) -> None:
    done = glassshop(settings, "seed", "--users", "5", "--password", "short")

    assert done.returncode == 1
    assert "password" in done.stderr and "Traceback" not in done.stderr
    assert await scalar(engine, "SELECT count(*) FROM users") == 0


async def test_seed_refuses_to_run_in_production(settings: Settings, engine: AsyncEngine) -> None:
    done = glassshop(
        settings,
        "seed",
        "--users",
        "5",
        "--password",
        PASSWORD,
        APP_ENV="production",
        JWT_SECRET=secrets.token_urlsafe(48),
    )

    assert done.returncode == 2
    assert "production" in done.stderr
    assert await scalar(engine, "SELECT count(*) FROM users") == 0
