"""Soak: mixed load for a while, then the books are balanced against PostgreSQL.

    python -m ops.soak.run --database-url postgresql://... --redis-url redis://.../9 \\
        --duration 300 --connections 32

starts `glassshop serve` (on a free port) and `glassshop worker` against those databases,
with rate limits off and argon2id at OWASP's floor (see ops/soak/server.py); or
`--url URL --pid PID --database-url ...` attaches to a running server (PID: its process,
for the memory samples; --staff-email/--staff-password for the staff `users` queries).

Each connection is a client signing up accounts and using them (me, updateProfile,
users as staff, refresh, login, logout; ops/soak/load.py). The server's RSS is read from
/proc every few seconds. At the end: counts by HTTP status and GraphQL error code,
p50/p99 per operation, and the reconciliation of ops/soak/reconcile.py. The summary is
printed and written as JSON beside the JSONL log of acknowledged writes; the exit code
is 1 on any violation: a 5xx, any error or unanswered request, memory growth from the
end of the warm-up to the end above --max-growth-mib, or a reconciliation failure.

    python -m ops.soak.run --reconcile OUT_DIR/summary.json --database-url ...

re-runs only the reconciliation of an earlier run's log."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ops.soak.load import PASSWORD, Stats, run_load, staff_login
from ops.soak.reconcile import reconcile
from ops.soak.server import PROJECT_ROOT, SOAK_SETTINGS, Launched, launch, rss_kib

SAMPLE_SECONDS = 2.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def sample_rss(
    pid: int | None, samples: list[tuple[float, int]], stop: asyncio.Event
) -> None:
    started = time.monotonic()
    while pid is not None and not stop.is_set():
        kib = rss_kib(pid)
        if kib is not None:
            samples.append((round(time.monotonic() - started, 1), kib))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


def memory_summary(
    samples: list[tuple[float, int]], warmup: float, max_growth_mib: float
) -> dict[str, Any]:
    if not samples:
        return {"sampled": False}
    after_warmup = [kib for at, kib in samples if at >= warmup] or [samples[-1][1]]
    start, end = after_warmup[0], samples[-1][1]
    return {
        "sampled": True,
        "samples": len(samples),
        "rss_first_mib": round(samples[0][1] / 1024, 1),
        "rss_after_warmup_mib": round(start / 1024, 1),
        "rss_end_mib": round(end / 1024, 1),
        "rss_max_mib": round(max(kib for _, kib in samples) / 1024, 1),
        "growth_after_warmup_mib": round((end - start) / 1024, 1),
        "bound_mib": max_growth_mib,
    }


def load_summary(stats: Stats) -> dict[str, Any]:
    return {
        "requests": sum(stats.requests.values()),
        "requests_by_operation": dict(sorted(stats.requests.items())),
        "statuses": dict(sorted(stats.statuses.items())),
        "error_codes": dict(sorted(stats.error_codes.items())),
        "writes_acknowledged": dict(sorted(stats.acknowledged.items())),
        "writes_unacknowledged": stats.unacknowledged[:20],
        "latency_ms": {
            kind: {
                "p50": round(statistics.median(values), 1),
                "p99": round(percentile(values, 0.99), 1),
                "max": round(max(values), 1),
            }
            for kind, values in sorted(stats.latencies_ms.items())
        },
    }


def load_violations(load: dict[str, Any], memory: dict[str, Any]) -> list[str]:
    found = []
    server_errors = sum(n for status, n in load["statuses"].items() if status.startswith("5"))
    if server_errors:
        found.append(f"{server_errors} responses with a 5xx status")
    if load["statuses"].get("transport-error"):
        found.append(f"{load['statuses']['transport-error']} requests without a reply")
    if load["error_codes"]:
        found.append(f"GraphQL errors: {load['error_codes']}")
    if memory.get("sampled") and memory["growth_after_warmup_mib"] > memory["bound_mib"]:
        found.append(
            f"RSS grew {memory['growth_after_warmup_mib']} MiB after the warm-up "
            f"(bound {memory['bound_mib']} MiB)"
        )
    return found


def print_summary(summary: dict[str, Any]) -> None:
    load, memory = summary["load"], summary["memory"]
    print(
        f"soak {summary['started_at']}: {summary['duration_s']} s, "
        f"{summary['connections']} connections"
    )
    print(
        f"requests {load['requests']} ({load['requests'] / summary['duration_s']:.1f}/s); "
        f"statuses {load['statuses']}; GraphQL errors {load['error_codes'] or 'none'}"
    )
    print(f"{'operation':<16}{'requests':>10}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for kind, figures in load["latency_ms"].items():
        print(
            f"{kind:<16}{load['requests_by_operation'][kind]:>10}"
            f"{figures['p50']:>10}{figures['p99']:>10}{figures['max']:>10}"
        )
    if memory.get("sampled"):
        print(
            f"server RSS: first {memory['rss_first_mib']} MiB, after warm-up "
            f"{memory['rss_after_warmup_mib']}, end {memory['rss_end_mib']}, max "
            f"{memory['rss_max_mib']}; growth {memory['growth_after_warmup_mib']} MiB "
            f"(bound {memory['bound_mib']})"
        )
    books = summary["reconciliation"]
    print(
        f"reconciled: {books['users_acknowledged']} users, {books['profiles_checked']} "
        f"profiles, audit {books['audit_rows']}, outbox pending {books['outbox_pending']}"
    )
    for violation in summary["violations"]:
        print(f"VIOLATION: {violation}")
    print("OK" if not summary["violations"] else f"FAILED ({len(summary['violations'])})")


async def soak(args: argparse.Namespace, out_dir: Path) -> dict[str, Any]:
    run_id = f"soak-{secrets.token_hex(4)}"
    # The clients' accounts; the staff account is not one of them.
    prefix = f"{run_id}-u"
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    launched: Launched | None = None
    url, pid = args.url, args.pid
    staff_email, staff_password = args.staff_email, args.staff_password
    try:
        if url is None:
            launched = launch(args.database_url, args.redis_url, out_dir)
            url, pid = launched.url, launched.server.pid
            staff_email, staff_password = f"{run_id}-staff@glassshop.test", PASSWORD
            launched.create_staff(staff_email, staff_password)
        staff_token = None
        if staff_email and staff_password:
            staff_token = await staff_login(url, staff_email, staff_password)
        samples: list[tuple[float, int]] = []
        stop = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(pid, samples, stop))
        log_path = out_dir / "writes.jsonl"
        with log_path.open("w") as log:
            stats = await run_load(
                url,
                prefix=prefix,
                connections=args.connections,
                duration=args.duration,
                actions_per_account=args.actions_per_account,
                staff_token=staff_token,
                log=log,
                seed=args.seed,
            )
        stop.set()
        await sampler
        books = await reconcile(args.database_url, prefix, log_path)
        exited = [] if launched is None else launched.exited()
    finally:
        if launched is not None:
            launched.stop()
    warmup = args.warmup if args.warmup is not None else min(60.0, args.duration / 5)
    memory = memory_summary(samples, warmup, args.max_growth_mib)
    load = load_summary(stats)
    return {
        "started_at": started_at,
        "duration_s": args.duration,
        "connections": args.connections,
        "server": "launched" if args.url is None else "attached",
        "settings": SOAK_SETTINGS if args.url is None else None,
        "prefix": prefix,
        "log": str(log_path),
        "load": load,
        "memory": {"warmup_s": warmup, **memory},
        "reconciliation": books,
        "violations": load_violations(load, memory)
        + [f"the {name} exited during the soak" for name in exited]
        + books["violations"],
    }


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    parser.add_argument("--url", help="attach to this running server's /graphql instead")
    parser.add_argument("--pid", type=int, help="the attached server's process id (RSS)")
    parser.add_argument("--staff-email")
    parser.add_argument("--staff-password")
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--actions-per-account", type=int, default=25)
    parser.add_argument("--warmup", type=float, help="seconds (default: 1/5 of it, <= 60)")
    parser.add_argument("--max-growth-mib", type=float, default=64)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--reconcile", type=Path, help="an earlier run's summary.json")
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is needed for the reconciliation")
    if args.url is None and args.reconcile is None and not args.redis_url:
        parser.error("--redis-url (or REDIS_URL) is needed to start the server")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.reconcile is not None:
        earlier = json.loads(args.reconcile.read_text())
        books = asyncio.run(
            reconcile(args.database_url, earlier["prefix"], Path(earlier["log"]), drain_within=0)
        )
        print(json.dumps(books, indent=2))
        return 1 if books["violations"] else 0
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir = args.out_dir or PROJECT_ROOT / ".data" / "soak" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = asyncio.run(soak(args, out_dir))
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print_summary(summary)
    print(f"summary: {out_dir / 'summary.json'}", file=sys.stderr)
    return 1 if summary["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
