"""Log lines carry the request's id; JSON lines in production; no secrets."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import httpx
import pytest

from api.infra.logging import JsonFormatter, RequestContextFilter, request_id_var
from api.settings import Settings
from tests.support.api_process import api_environment, running_api
from tests.support.graphql import LOGIN, GraphQLClient


def test_json_lines_carry_the_request_id_and_escape_the_message() -> None:
    token = request_id_var.set("req-123")
    try:
        record = logging.LogRecord("glassshop", logging.INFO, __file__, 1, 'say "hi"\n', (), None)
        RequestContextFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)

    entry = json.loads(line)
    assert entry["request_id"] == "req-123"
    assert entry["message"] == 'say "hi"\n'
    assert "\n" not in line


def test_production_logs_json_and_development_text() -> None:
    assert Settings(app_env="production").log_output == "json"
    assert Settings(app_env="development").log_output == "text"
    assert Settings(app_env="development", log_format="json").log_output == "json"


async def test_a_well_formed_request_id_is_echoed(client: GraphQLClient) -> None:
    reply = await client.execute("{ me { id } }", headers={"x-request-id": "trace-me-42"})

    assert reply.http.headers["x-request-id"] == "trace-me-42"


async def test_a_failed_login_logs_neither_the_password_nor_a_token(
    client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "a very secret password 123"
    await client.execute(LOGIN, {"input": {"email": "nobody@example.com", "password": password}})

    assert all(password not in r.getMessage() for r in caplog.records)
    assert all("Bearer " not in r.getMessage() for r in caplog.records)


async def test_the_access_log_of_a_served_api_leaves_out_the_query_string(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    # A client's mistake: a login over GET, its password in the URL (refused with 405).
    password = "Tr0ub4dor-in-an-access-log"
    document = f'mutation {{ login(input: {{email: "a@example.com", password: "{password}"}}) }}'
    environment = api_environment(database_url, redis_url, secrets.token_urlsafe(48))
    async with (
        running_api(tmp_path / "api.log", environment) as server,
        httpx.AsyncClient(base_url=server.base_url) as http,
    ):
        response = await http.get(
            "/graphql", params={"query": document}, headers={"apollo-require-preflight": "1"}
        )
    assert response.status_code == 405

    log = server.log()
    assert '"GET /graphql HTTP/1.1" 405' in log
    assert password not in log
