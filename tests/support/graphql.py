"""A small GraphQL client over httpx for the tests, plus the account steps most tests need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_PASSWORD = "correct horse battery staple"

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt
    user { id email username firstName lastName isActive isStaff emailVerified }
  }
}"""

LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    accessToken refreshToken refreshTokenExpiresAt user { id email lastLogin }
  }
}"""

REFRESH = """
mutation Refresh($token: String) {
  refresh(refreshToken: $token) { accessToken refreshToken user { id } }
}"""

ME = "query { me { id email } }"


@dataclass
class Response:
    status: int
    body: dict[str, Any]
    http: httpx.Response

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.body.get("errors") or []
        return errors

    @property
    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]

    def ok(self) -> Any:
        assert not self.errors, self.errors
        return self.data


@dataclass
class Account:
    id: str
    email: str
    password: str
    access_token: str
    refresh_token: str


@dataclass
class GraphQLClient:
    http: httpx.AsyncClient
    default_headers: dict[str, str] = field(default_factory=dict)

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = {**self.default_headers, **(headers or {})}
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        reply = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        return Response(reply.status_code, reply.json(), reply)

    async def register(self, email: str, password: str = DEFAULT_PASSWORD, **extra: Any) -> Account:
        result = await self.execute(
            REGISTER,
            {"input": {"email": email, "password": password, **extra}},
            headers={"x-refresh-token-transport": "body"},
        )
        payload = result.ok()["register"]
        return Account(
            id=payload["user"]["id"],
            email=payload["user"]["email"],
            password=password,
            access_token=payload["accessToken"],
            refresh_token=payload["refreshToken"],
        )

    async def login(self, email: str, password: str = DEFAULT_PASSWORD) -> Account:
        result = await self.execute(
            LOGIN,
            {"input": {"email": email, "password": password}},
            headers={"x-refresh-token-transport": "body"},
        )
        payload = result.ok()["login"]
        return Account(
            id=payload["user"]["id"],
            email=payload["user"]["email"],
            password=password,
            access_token=payload["accessToken"],
            refresh_token=payload["refreshToken"],
        )

    async def refresh(self, refresh_token: str | None) -> Response:
        return await self.execute(
            REFRESH, {"token": refresh_token}, headers={"x-refresh-token-transport": "body"}
        )
