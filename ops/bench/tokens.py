"""Sign in for ops/bench/run.sh: print an access token, or write refresh tokens to a file.

    python -m ops.bench.tokens --url URL access EMAIL           # password: $BENCH_PASSWORD
    python -m ops.bench.tokens --url URL refresh [--first F] --count N --out FILE

`refresh` signs in as the seeded users userF … user(F+N-1) (F defaults to 1; one
session each) and writes their refresh tokens, one a line, for refresh.lua's
per-connection token chains. run.sh gives each server under test its own users, so no
two servers consume each other's chains."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import httpx

LOGIN = """mutation($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }"""


def login(http: httpx.Client, url: str, email: str, password: str) -> dict[str, Any]:
    reply = http.post(
        url,
        json={"query": LOGIN, "variables": {"input": {"email": email, "password": password}}},
        headers={"x-refresh-token-transport": "body"},
    )
    body = reply.json() if reply.headers.get("content-type", "").endswith("json") else {}
    if reply.status_code != 200 or body.get("errors") or not body.get("data"):
        raise SystemExit(
            f"ops/bench: login as {email} failed: HTTP {reply.status_code} {reply.text}"
        )
    payload: dict[str, Any] = body["data"]["login"]
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    sub = parser.add_subparsers(dest="command", required=True)
    access = sub.add_parser("access", help="print an access token")
    access.add_argument("email")
    refresh = sub.add_parser("refresh", help="write refresh tokens of userF … user(F+N-1)")
    refresh.add_argument("--first", type=int, default=1)
    refresh.add_argument("--count", type=int, required=True)
    refresh.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    password = os.environ.get("BENCH_PASSWORD")
    if not password:
        raise SystemExit("ops/bench: BENCH_PASSWORD is not set")
    with httpx.Client(timeout=120) as http:
        if args.command == "access":
            print(login(http, args.url, args.email, password)["accessToken"])
            return
        tokens = [
            login(http, args.url, f"user{n:05d}@glassshop.test", password)["refreshToken"]
            for n in range(args.first, args.first + args.count)
        ]
    args.out.write_text("".join(f"{token}\n" for token in tokens))


if __name__ == "__main__":
    main()
