"""The soak script (ops/soak/) in a short run: it starts the server and the worker, drives
every operation of its mix, reconciles the client's log with PostgreSQL and exits 0; its
reconciliation catches a write the database lost and an audit row nobody acknowledged.

A correctness check of the script, not a measurement: it asserts no speed."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from api.settings import PROJECT_ROOT

OPERATIONS = {"register", "login", "me", "update_profile", "users", "refresh", "logout"}


@dataclass(frozen=True)
class SoakRun:
    exit_code: int
    output: str
    summary: dict[str, Any]
    summary_path: Path
    # The client's log of acknowledged writes (JSON lines).
    writes: list[dict[str, Any]]


def run_soak(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ops.soak.run", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def soak_run(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> SoakRun:
    out_dir = tmp_path_factory.mktemp("soak")
    done = run_soak(
        "--database-url", database_url, "--redis-url", redis_url,
        "--duration", "20", "--connections", "8", "--actions-per-account", "10",
        "--out-dir", str(out_dir),
    )  # fmt: skip
    summary_path = out_dir / "summary.json"
    assert summary_path.exists(), done.stdout + done.stderr
    summary = json.loads(summary_path.read_text())
    lines = Path(summary["log"]).read_text().splitlines()
    writes = [json.loads(line) for line in lines]
    return SoakRun(done.returncode, done.stdout + done.stderr, summary, summary_path, writes)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


def reconcile_again(soak_run: SoakRun, database_url: str) -> subprocess.CompletedProcess[str]:
    return run_soak("--reconcile", str(soak_run.summary_path), "--database-url", database_url)


def test_a_short_soak_exits_zero_with_nothing_lost_or_duplicated(soak_run: SoakRun) -> None:
    assert soak_run.exit_code == 0, soak_run.output
    assert soak_run.summary["violations"] == []
    books = soak_run.summary["reconciliation"]
    assert books["users_acknowledged"] > 0
    assert books["users_in_database"] == books["users_acknowledged"]
    assert books["audit_rows"] == books["audit_acknowledged"]
    assert books["outbox_pending"] == 0


def test_the_soak_drives_every_operation_of_its_mix_without_errors(soak_run: SoakRun) -> None:
    load = soak_run.summary["load"]

    assert set(load["requests_by_operation"]) == OPERATIONS
    assert set(load["statuses"]) == {"200"}
    assert load["error_codes"] == {}
    assert set(load["latency_ms"]) == OPERATIONS


def test_the_soak_logs_every_acknowledged_write(soak_run: SoakRun) -> None:
    logged: dict[str, int] = {}
    for entry in soak_run.writes:
        logged[entry["kind"]] = logged.get(entry["kind"], 0) + 1

    assert logged == soak_run.summary["load"]["writes_acknowledged"]
    assert {"register", "update_profile", "login", "refresh", "logout"} <= set(logged)


def test_the_soak_samples_the_server_memory(soak_run: SoakRun) -> None:
    memory = soak_run.summary["memory"]

    assert memory["sampled"] is True
    assert memory["samples"] >= 5
    assert memory["rss_end_mib"] > 0


async def test_the_reconciliation_finds_a_profile_write_the_database_lost(
    soak_run: SoakRun, db: AsyncEngine, database_url: str
) -> None:
    email = next(e["email"] for e in soak_run.writes if e["kind"] == "update_profile")
    where = "WHERE user_id = (SELECT id FROM users WHERE email = :email)"
    change = text(f"UPDATE user_profiles SET address = :address {where}")
    async with db.begin() as connection:
        read = text(f"SELECT address FROM user_profiles {where}")
        before = (await connection.execute(read, {"email": email})).scalar_one()
        await connection.execute(change, {"address": "not what the client wrote", "email": email})
    try:
        done = reconcile_again(soak_run, database_url)
    finally:
        async with db.begin() as connection:
            await connection.execute(change, {"address": before, "email": email})

    assert done.returncode == 1
    assert "accounts whose address is not their last acknowledged write" in done.stdout
    assert email in done.stdout


async def test_the_reconciliation_finds_an_audit_row_nobody_acknowledged(
    soak_run: SoakRun, db: AsyncEngine, database_url: str
) -> None:
    prefix = soak_run.summary["prefix"]
    insert = (
        "INSERT INTO audit_logs (id, user_id, action, model_name, changes, created_at) "
        "SELECT gen_random_uuid(), id, 'LOGIN', 'User', '{}', now() FROM users "
        "WHERE starts_with(email, :prefix) LIMIT 1 RETURNING id"
    )
    async with db.begin() as connection:
        row_id = (await connection.execute(text(insert), {"prefix": prefix})).scalar_one()
    try:
        done = reconcile_again(soak_run, database_url)
    finally:
        async with db.begin() as connection:
            await connection.execute(text("DELETE FROM audit_logs WHERE id = :id"), {"id": row_id})

    assert done.returncode == 1
    assert "audit LOGIN" in done.stdout
