"""graphql-http's GraphQL-over-HTTP conformance audits pass against a live server.

The audits are the reference suite's own (ops/graphql-http-audit), run by Node against a
real uvicorn serving the app on a free loopback port, so they see the bytes a client sees."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.settings import Settings
from tests.support.live_server import live_server

AUDIT_DIR = Path(__file__).resolve().parents[2] / "ops" / "graphql-http-audit"
NPM_CI_TIMEOUT_SECONDS = 300
AUDIT_TIMEOUT_SECONDS = 180


@dataclass(frozen=True)
class AuditReport:
    exit_code: int
    results: list[dict[str, Any]]
    output: str

    def failures(self, requirement: str) -> list[str]:
        return [
            f"{r['id']} {r['name']}: {r['status']}, {r['reason']} (HTTP {r['httpStatus']})"
            for r in self.results
            if r["requirement"] == requirement and r["status"] != "ok"
        ]

    def count(self, requirement: str) -> int:
        return sum(1 for r in self.results if r["requirement"] == requirement)


@pytest.fixture(scope="module")
def audit_script() -> Path:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed; the graphql-http audit runs on Node 20+")
    if not (AUDIT_DIR / "node_modules" / "graphql-http").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "node is installed but npm is not: cannot install the audit"
        installed = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT_SECONDS,
            check=False,
        )
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}{installed.stderr}"
    return AUDIT_DIR / "audit.mjs"


@pytest.fixture(scope="module")
def live_graphql_url(settings: Settings) -> Iterator[str]:
    with live_server(settings, "uvicorn-graphql-http-audit") as base_url:
        yield f"{base_url}/graphql"


@pytest.fixture(scope="module")
def audit_report(audit_script: Path, live_graphql_url: str) -> AuditReport:
    node = shutil.which("node")
    assert node is not None
    completed = subprocess.run(
        [node, str(audit_script), "--json", live_graphql_url],
        cwd=AUDIT_DIR,
        capture_output=True,
        text=True,
        timeout=AUDIT_TIMEOUT_SECONDS,
        check=False,
    )
    assert completed.stdout, f"the audit printed nothing:\n{completed.stderr}"
    report = json.loads(completed.stdout)
    return AuditReport(completed.returncode, report["results"], completed.stdout)


def test_every_must_audit_passes(audit_report: AuditReport) -> None:
    assert audit_report.count("MUST") > 0, audit_report.output
    assert audit_report.failures("MUST") == []


def test_every_should_audit_passes(audit_report: AuditReport) -> None:
    assert audit_report.count("SHOULD") > 0, audit_report.output
    assert audit_report.failures("SHOULD") == []


def test_no_audit_fails_to_get_an_answer(audit_report: AuditReport) -> None:
    unanswered = [r["id"] for r in audit_report.results if r["status"] == "fatal"]

    assert unanswered == []


def test_the_audit_script_exits_zero_when_every_must_and_should_passes(
    audit_report: AuditReport,
) -> None:
    assert audit_report.exit_code == 0, audit_report.output


# GET queries with URL-encoded variables are MAY audits. The API refuses a GET without a
# header forcing a CORS preflight (CSRF prevention); they pass because audit.mjs sends
# apollo-require-preflight, as any non-browser client of this API must.
GET_QUERY_AUDITS = ("D6D5", "6A70")


def test_get_queries_run_for_a_client_sending_the_preflight_header(
    audit_report: AuditReport,
) -> None:
    statuses = {r["id"]: r["status"] for r in audit_report.results}

    assert [statuses[audit] for audit in GET_QUERY_AUDITS] == ["ok", "ok"], audit_report.output
