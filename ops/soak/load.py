"""The soak's mixed load: each connection is one client that signs up, uses and leaves
accounts one after another; every acknowledged write is appended to a JSONL log.

A client works on one account at a time and sends its requests one after the other, so
the order of the writes to an account is known: the last acknowledged profile write is
the value the database must hold at the end."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import IO, Any

import httpx

PASSWORD = "soak test password 1"  # noqa: S105 (the throwaway accounts')

REGISTER = """mutation Register($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken user { id email } } }"""
LOGIN = """mutation Login($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken user { id } } }"""
ME = "query Me { me { id email profile { address } } }"
UPDATE_PROFILE = """mutation UpdateProfile($input: UpdateProfileInput!) {
  updateProfile(input: $input) { id profile { address } } }"""
USERS = """query Users { users(first: 20) { totalCount edges { node { id email } } } }"""
REFRESH = """mutation Refresh($token: String) {
  refresh(refreshToken: $token) { accessToken refreshToken } }"""
LOGOUT = "mutation Logout($token: String) { logout(refreshToken: $token) }"

# What one account does between signing up and signing out, by weight.
MIX = (("me", 40), ("update_profile", 20), ("users", 10), ("refresh", 15), ("login", 5))
# Each acknowledged write and the audit action it leaves.
AUDITED = {
    "register": "REGISTER",
    "login": "LOGIN",
    "update_profile": "PROFILE_UPDATE",
    "refresh": "TOKEN_REFRESH",
    "logout": "LOGOUT",
}


@dataclass
class Stats:
    """What the clients saw: statuses, error codes, latencies and acknowledged writes."""

    requests: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: Counter[str] = field(default_factory=Counter)
    # Writes sent whose outcome the client does not know (no reply, or an error).
    unacknowledged: list[dict[str, Any]] = field(default_factory=list)


class GraphQLError(Exception):
    pass


@dataclass
class SoakClient:
    """One connection; `run` loops over accounts until the deadline."""

    number: int
    url: str
    prefix: str
    stats: Stats
    log: IO[str]
    deadline: float
    actions_per_account: int
    staff_token: str | None
    rng: random.Random
    _last_ms: float = field(default=0.0, init=False)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            account = 0
            while time.monotonic() < self.deadline:
                account += 1
                email = f"{self.prefix}{self.number:03d}-{account:05d}@glassshop.test"
                try:
                    await self._account(http, email)
                except GraphQLError:
                    continue  # counted; this account is left as it is

    async def _account(self, http: httpx.AsyncClient, email: str) -> None:
        body = await self._call(
            http,
            "register",
            REGISTER,
            {"input": {"email": email, "password": PASSWORD}},
            write=(email, None),
            body_token=True,
        )
        session = body["register"]
        self._acknowledge("register", email, session["user"]["id"])
        access, refresh = session["accessToken"], session["refreshToken"]
        kinds = [kind for kind, _ in MIX]
        weights = [weight for _, weight in MIX]
        for step in range(self.actions_per_account):
            if time.monotonic() >= self.deadline:
                break
            kind = self.rng.choices(kinds, weights)[0]
            if kind == "me":
                await self._call(http, "me", ME, {}, token=access)
            elif kind == "users":
                if self.staff_token is not None:
                    await self._call(http, "users", USERS, {}, token=self.staff_token)
            elif kind == "update_profile":
                value = f"{email} #{step}"
                variables = {"input": {"address": value}}
                await self._call(
                    http, kind, UPDATE_PROFILE, variables, token=access, write=(email, value)
                )
                self._acknowledge(kind, email, value)
            elif kind == "refresh":
                body = await self._call(
                    http, kind, REFRESH, {"token": refresh}, write=(email, None), body_token=True
                )
                access, refresh = body["refresh"]["accessToken"], body["refresh"]["refreshToken"]
                self._acknowledge(kind, email, None)
            else:
                variables = {"input": {"email": email, "password": PASSWORD}}
                body = await self._call(
                    http, kind, LOGIN, variables, write=(email, None), body_token=True
                )
                access, refresh = body["login"]["accessToken"], body["login"]["refreshToken"]
                self._acknowledge(kind, email, None)
        await self._call(
            http, "logout", LOGOUT, {"token": refresh}, token=access, write=(email, None)
        )
        self._acknowledge("logout", email, None)

    def _acknowledge(self, kind: str, email: str, value: str | None) -> None:
        self.stats.acknowledged[kind] += 1
        entry = {"kind": kind, "email": email, "value": value, "ms": self._last_ms}
        self.log.write(json.dumps(entry) + "\n")

    async def _call(
        self,
        http: httpx.AsyncClient,
        kind: str,
        query: str,
        variables: dict[str, Any],
        *,
        token: str | None = None,
        write: tuple[str, str | None] | None = None,
        body_token: bool = False,
    ) -> dict[str, Any]:
        headers = {"x-refresh-token-transport": "body"} if body_token else {}
        if token is not None:
            headers["authorization"] = f"Bearer {token}"
        stats = self.stats
        stats.requests[kind] += 1
        started = time.perf_counter()
        try:
            reply = await http.post(
                self.url, json={"query": query, "variables": variables}, headers=headers
            )
        except httpx.HTTPError as exc:
            stats.statuses["transport-error"] += 1
            if write is not None:
                stats.unacknowledged.append({"kind": kind, "email": write[0], "error": repr(exc)})
            raise GraphQLError(repr(exc)) from exc
        finally:
            elapsed = (time.perf_counter() - started) * 1000
        # The refresh cookie is not used: tokens travel in the body.
        http.cookies.clear()
        self._last_ms = round(elapsed, 2)
        stats.latencies_ms[kind].append(elapsed)
        stats.statuses[str(reply.status_code)] += 1
        try:
            body = reply.json()
        except ValueError:
            body = {"errors": [{"extensions": {"code": f"HTTP_{reply.status_code}"}}]}
        errors = body.get("errors") or []
        for error in errors:
            stats.error_codes[str((error.get("extensions") or {}).get("code", "UNKNOWN"))] += 1
        if errors or reply.status_code != 200:
            if write is not None:
                stats.unacknowledged.append(
                    {"kind": kind, "email": write[0], "error": json.dumps(errors)[:300]}
                )
            raise GraphQLError(kind)
        data: dict[str, Any] = body["data"]
        return data


async def staff_login(url: str, email: str, password: str) -> str:
    async with httpx.AsyncClient(timeout=60) as http:
        reply = await http.post(
            url,
            json={"query": LOGIN, "variables": {"input": {"email": email, "password": password}}},
        )
        body = reply.json()
        if body.get("errors"):
            raise RuntimeError(f"staff login failed: {body['errors']}")
        token: str = body["data"]["login"]["accessToken"]
        return token


async def run_load(
    url: str,
    *,
    prefix: str,
    connections: int,
    duration: float,
    actions_per_account: int,
    staff_token: str | None,
    log: IO[str],
    seed: int,
) -> Stats:
    stats = Stats()
    deadline = time.monotonic() + duration
    clients = [
        SoakClient(
            number=n,
            url=url,
            prefix=prefix,
            stats=stats,
            log=log,
            deadline=deadline,
            actions_per_account=actions_per_account,
            staff_token=staff_token,
            rng=random.Random(seed + n),  # noqa: S311 (the load mix, not a secret)
        )
        for n in range(connections)
    ]
    await asyncio.gather(*(client.run() for client in clients))
    return stats
