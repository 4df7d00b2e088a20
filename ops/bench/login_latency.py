"""Median latency of one `login` against a live server, measured sequentially.

    python -m ops.bench.login_latency --url http://127.0.0.1:8000/graphql --logins 50

It registers a throwaway account, then logs in with it `--logins` times, one request
at a time, and prints the median, p95 and max wall-clock time per login. The figure is
dominated by argon2id verification with the server's configured parameters."""

from __future__ import annotations

import argparse
import secrets
import statistics
import time

import httpx

REGISTER = """mutation($input: RegisterInput!) { register(input: $input) { user { id } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { accessToken } }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--logins", type=int, default=50)
    args = parser.parse_args()

    email = f"bench-{secrets.token_hex(6)}@glassshop.test"
    password = f"bench {secrets.token_urlsafe(12)}"
    credentials = {"input": {"email": email, "password": password}}
    with httpx.Client(timeout=30) as http:
        reply = http.post(args.url, json={"query": REGISTER, "variables": credentials})
        reply.raise_for_status()
        if reply.json().get("errors"):
            raise SystemExit(f"register failed: {reply.json()['errors']}")
        timings = []
        for _ in range(args.logins):
            started = time.perf_counter()
            reply = http.post(args.url, json={"query": LOGIN, "variables": credentials})
            elapsed = time.perf_counter() - started
            if reply.status_code != 200 or reply.json().get("errors"):
                raise SystemExit(f"login failed: {reply.text}")
            timings.append(elapsed * 1000)
    timings.sort()
    p95 = timings[max(0, round(0.95 * len(timings)) - 1)]
    print(
        f"logins={len(timings)} median={statistics.median(timings):.1f}ms "
        f"p95={p95:.1f}ms max={timings[-1]:.1f}ms"
    )


if __name__ == "__main__":
    main()
