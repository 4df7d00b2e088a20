"""What ops/bench/run.sh needs to know of the service's settings (api/settings.py).

    python -m ops.bench.settings_probe baseline-config FILE   # JSON for ops/bench/baseline
    python -m ops.bench.settings_probe response-cache         # "OFF<TAB>ON<TAB>DEFAULT" or ""

`baseline-config` resolves the settings from the environment exactly as the server
does (JWT_*, ACCESS_TOKEN_TTL, REFRESH_TOKEN_TTL, ARGON2_*, PASSWORD_HASH_WORKERS,
DB_POOL_SIZE + DB_MAX_OVERFLOW, DATABASE_URL) and writes them for the baseline, which
then does not import pydantic itself (its memory is part of what is measured).

`response-cache` prints nothing when api/settings.py declares no RESPONSE_CACHE
variable; otherwise the values that turn the cache off and on, and which of the two is
the default. A bool setting is "false"/"true"; RESPONSE_CACHE_OFF and RESPONSE_CACHE_ON
override the values (needed when the setting is neither a bool nor an on/off choice)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import types
import typing
from pathlib import Path
from typing import Any

from api.settings import Settings

_OFF_WORDS = ("off", "false", "none", "disabled", "no", "0")


def baseline_config(settings: Settings) -> dict[str, Any]:
    url = settings.database_url
    if url is None:
        raise SystemExit("ops/bench: DATABASE_URL is not set")
    return {
        # asyncpg wants the libpq spelling; the settings store SQLAlchemy's.
        "database_url": url.replace("postgresql+asyncpg://", "postgresql://", 1),
        "jwt_secret": settings.jwt_secret.get_secret_value(),
        "jwt_issuer": settings.jwt_issuer,
        "jwt_audience": settings.jwt_audience,
        "access_token_ttl_seconds": settings.access_token_ttl_seconds,
        "refresh_token_ttl_seconds": settings.refresh_token_ttl_seconds,
        "argon2_time_cost": settings.argon2_time_cost,
        "argon2_memory_cost_kib": settings.argon2_memory_cost_kib,
        "argon2_parallelism": settings.argon2_parallelism,
        "password_hash_workers": settings.password_hash_workers,
        # As many connections as the service's SQLAlchemy pool may open.
        "db_pool_size": settings.db_pool_size + settings.db_max_overflow,
    }


def _choices(annotation: Any) -> list[str] | None:
    """The string values of a bool or Literal setting (optionally `| None`)."""
    if annotation is bool:
        return ["false", "true"]
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(value).lower() for value in typing.get_args(annotation)]
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            return _choices(inner[0])
    return None


def response_cache() -> str:
    """Empty without the setting; else "OFF<TAB>ON<TAB>DEFAULT" (DEFAULT: "on" or "off")."""
    field = next(
        (f for f in Settings.model_fields.values() if f.validation_alias == "RESPONSE_CACHE"),
        None,
    )
    if field is None:
        return ""
    choices = _choices(field.annotation) or []
    off = os.environ.get("RESPONSE_CACHE_OFF") or next(
        (c for c in choices if c in _OFF_WORDS), None
    )
    on = os.environ.get("RESPONSE_CACHE_ON") or next(
        (c for c in choices if c not in _OFF_WORDS), None
    )
    if off is None or on is None:
        raise SystemExit(
            f"ops/bench: RESPONSE_CACHE is a {field.annotation}: set RESPONSE_CACHE_OFF and "
            "RESPONSE_CACHE_ON to the values that turn it off and on"
        )
    default = field.get_default(call_default_factory=True)
    default_word = "off" if default is None or str(default).lower() in _OFF_WORDS else "on"
    return f"{off}\t{on}\t{default_word}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    config = sub.add_parser("baseline-config", help="write the baseline's settings as JSON")
    config.add_argument("out", type=Path)
    sub.add_parser("response-cache", help="the RESPONSE_CACHE values, if the setting exists")
    args = parser.parse_args()
    if args.command == "baseline-config":
        args.out.write_text(json.dumps(baseline_config(Settings()), indent=2) + "\n")
    else:
        found = response_cache()
        if found:
            sys.stdout.write(found + "\n")


if __name__ == "__main__":
    main()
