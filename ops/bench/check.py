"""Before ops/bench/run.sh measures: does the baseline answer like the service?

    python -m ops.bench.check --service URL --baseline URL --me-token T --staff-token S \
        --user EMAIL [--ops "me users refresh login register"]

The queries are read from the .lua scripts next to this file, so the check sends what
wrk will send. For `me` and `users` both answers must be equal; for `login`, `register`
and `refresh` they must have the same shape (the same keys, strings where the service
has strings) and the access tokens the same claims. The baseline's rotated refresh
token must then be accepted by the service (its rows are real), and presenting the old
one to the baseline again must be refused, as must a forged access token. EMAIL is a
seeded user none of the measured refresh chains belong to; its password is
$BENCH_PASSWORD. Exits 2 with the difference on the first mismatch."""

from __future__ import annotations

import argparse
import os
import re
import secrets
from pathlib import Path
from typing import Any

import httpx
import jwt

from ops.bench.tokens import login

HERE = Path(__file__).resolve().parent
_LUA_QUERY = re.compile(r'"((?:query|mutation)\b[^"]*)"')


def lua_query(op: str) -> str:
    found = _LUA_QUERY.search((HERE / f"{op}.lua").read_text())
    if found is None:
        raise SystemExit(f"ops/bench: no GraphQL query in {op}.lua")
    return found[1]


def shape(value: Any) -> Any:
    """The value with every leaf replaced by its type's name."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


def claims(token: str) -> list[str]:
    return sorted(jwt.decode(token, options={"verify_signature": False}))


class Check:
    def __init__(self, http: httpx.Client, service: str, baseline: str) -> None:
        self.http, self.service, self.baseline = http, service, baseline

    def post(
        self, url: str, op: str, variables: dict[str, Any], headers: dict[str, str]
    ) -> dict[str, Any]:
        reply = self.http.post(
            url, json={"query": lua_query(op), "variables": variables}, headers=headers
        )
        try:
            body: dict[str, Any] = reply.json()
        except ValueError:
            body = {"unreadable": reply.text[:300]}
        body["status"] = reply.status_code
        return body

    def both(
        self, op: str, variables: dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        answers = []
        for name, url in (("service", self.service), ("baseline", self.baseline)):
            body = self.post(url, op, variables, headers or {})
            if body["status"] != 200 or "errors" in body or not body.get("data"):
                raise SystemExit(f"ops/bench: check {op}: the {name} failed: {body}")
            answers.append(body)
        return answers[0], answers[1]

    def refused(self, op: str, variables: dict[str, Any], headers: dict[str, str]) -> None:
        body = self.post(self.baseline, op, variables, headers)
        if "errors" not in body:
            raise SystemExit(f"ops/bench: check {op}: the baseline accepted {variables}: {body}")


def _same(op: str, what: str, service: Any, baseline: Any) -> None:
    if service != baseline:
        raise SystemExit(
            f"ops/bench: check {op}: the baseline's {what} differs from the service's:\n"
            f"  service:  {str(service)[:600]}\n  baseline: {str(baseline)[:600]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--service", required=True)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--me-token", required=True)
    parser.add_argument("--staff-token", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--ops", default="me users refresh login register")
    args = parser.parse_args()
    password = os.environ.get("BENCH_PASSWORD")
    if not password:
        raise SystemExit("ops/bench: BENCH_PASSWORD is not set")
    ops = args.ops.split()
    body_transport = {"x-refresh-token-transport": "body"}
    done = []
    with httpx.Client(timeout=120) as http:
        check = Check(http, args.service, args.baseline)
        if "me" in ops:
            bearer = {"authorization": f"Bearer {args.me_token}"}
            service, baseline = check.both("me", {}, bearer)
            _same("me", "answer", service, baseline)
            forged = args.me_token[:-4] + ("AAAA" if args.me_token[-4:] != "AAAA" else "BBBB")
            check.refused("me", {}, {"authorization": f"Bearer {forged}"})
            done.append("me")
        if "users" in ops:
            staff = {"authorization": f"Bearer {args.staff_token}"}
            service, baseline = check.both("users", {}, staff)
            _same("users", "answer", service, baseline)
            check.refused("users", {}, {"authorization": f"Bearer {args.me_token}"})
            done.append("users")
        if "login" in ops:
            credentials = {"input": {"email": args.user, "password": password}}
            service, baseline = check.both("login", credentials)
            _same("login", "shape", shape(service), shape(baseline))
            _same(
                "login",
                "access token claims",
                claims(service["data"]["login"]["accessToken"]),
                claims(baseline["data"]["login"]["accessToken"]),
            )
            wrong = {"input": {"email": args.user, "password": password + " wrong"}}
            check.refused("login", wrong, {})
            done.append("login")
        if "register" in ops:
            run = secrets.token_hex(4)
            answers = [
                check.post(
                    url,
                    "register",
                    {"input": {"email": f"check-{run}-{n}@glassshop.test", "password": password}},
                    {},
                )
                for n, url in enumerate((args.service, args.baseline))
            ]
            if any("errors" in answer for answer in answers):
                raise SystemExit(f"ops/bench: check register failed: {answers}")
            _same("register", "shape", shape(answers[0]), shape(answers[1]))
            done.append("register")
        if "refresh" in ops:
            # Two sessions of one user: one rotated by each server.
            tokens = [login(http, args.service, args.user, password)["refreshToken"] for _ in "ab"]
            answers = [
                check.post(url, "refresh", {"token": token}, body_transport)
                for url, token in zip((args.service, args.baseline), tokens, strict=True)
            ]
            if any("errors" in answer for answer in answers):
                raise SystemExit(f"ops/bench: check refresh failed: {answers}")
            _same("refresh", "shape", shape(answers[0]), shape(answers[1]))
            rotated = answers[1]["data"]["refresh"]["refreshToken"]
            again = check.post(args.service, "refresh", {"token": rotated}, body_transport)
            if "errors" in again:
                raise SystemExit(
                    f"ops/bench: check refresh: the service refuses the token the baseline "
                    f"issued: {again}"
                )
            check.refused("refresh", {"token": tokens[1]}, body_transport)
            done.append("refresh")
    print(f"check: the baseline answers {', '.join(done)} like the service")


if __name__ == "__main__":
    main()
