"""The one settings object: every environment variable the service reads is declared here."""

from __future__ import annotations

import ipaddress
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["development", "test", "production"]

# Shipped so that development works out of the box; production refuses it.
DEV_JWT_SECRET = "glassshop-development-secret-do-not-use-in-production"  # noqa: S105
MIN_SECRET_LENGTH = 32
# HS256 keys are guessable offline from any one token: production wants at least this
# much entropy, as estimated by `estimated_secret_bits`.
MIN_SECRET_BITS = 128

# OWASP's floor for argon2id: 19 MiB of memory and 2 passes.
OWASP_MIN_MEMORY_KIB = 19 * 1024
OWASP_MIN_TIME_COST = 2

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# CORS-safelisted request headers (a page may set them cross-site without a preflight)
# and headers the browser itself adds: none of them can be a CSRF preflight header.
BROWSER_SET_HEADERS = frozenset(
    {
        "accept",
        "accept-language",
        "content-language",
        "content-type",
        "range",
        "cookie",
        "host",
        "origin",
        "referer",
        "user-agent",
        "connection",
        "content-length",
    }
)


class SettingsError(Exception):
    """The configuration cannot be used; the message is one line saying what is wrong."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _shannon_bits(symbols: Sequence[object]) -> float:
    """Length times the Shannon entropy of the symbols' frequencies: what the sequence
    would carry if it were drawn at random from the symbols it shows. A short sample
    rarely shows every symbol of its alphabet, so the plain estimate is low; the
    Miller-Madow term ((distinct - 1) / 2 ln 2) corrects for that."""
    if not symbols:
        return 0.0
    total = len(symbols)
    counts = Counter(symbols).values()
    plain = -sum(n * math.log2(n / total) for n in counts)
    return plain + (len(counts) - 1) / (2 * math.log(2))


def _is_repeated(text: str) -> bool:
    """Whether `text` is a shorter piece repeated (at least twice, the last one cut)."""
    return any(
        text == (text[:period] * (len(text) // period + 1))[: len(text)]
        for period in range(1, len(text) // 2 + 1)
    )


def estimated_secret_bits(secret: str) -> float:
    """A cautious estimate of a secret's entropy in bits: 0 for a repeated piece
    ("abcabc..."); otherwise the smaller Shannon estimate over its characters and over
    the steps between neighbours, so that runs ("abcdef...", "123456...") count as
    little as one repeated character."""
    if _is_repeated(secret):
        return 0.0
    steps = [ord(b) - ord(a) for a, b in itertools.pairwise(secret)]
    return min(_shannon_bits(secret), _shannon_bits(steps))


def normalize_database_url(url: str) -> str:
    """Accept the usual libpq spellings and select the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// or postgresql+asyncpg:// URL")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=None, extra="ignore", frozen=True, populate_by_name=True
    )

    app_env: Environment = Field("development", validation_alias="APP_ENV")
    database_url: str | None = Field(None, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    # Where the embedded development database keeps its files (git-ignored).
    data_dir: Path = Field(PROJECT_ROOT / ".data", validation_alias="GLASSSHOP_DATA_DIR")

    # The web client's production build (`npm run build` in client/): served at / when it
    # holds an index.html. The container image sets it to the build copied into the image.
    client_dist_dir: Path = Field(
        PROJECT_ROOT / "client" / "dist", validation_alias="CLIENT_DIST_DIR"
    )

    jwt_secret: SecretStr = Field(SecretStr(DEV_JWT_SECRET), validation_alias="JWT_SECRET")
    jwt_issuer: str = Field("glassshop", validation_alias="JWT_ISSUER")
    jwt_audience: str = Field("glassshop-api", validation_alias="JWT_AUDIENCE")
    access_token_ttl_seconds: int = Field(15 * 60, gt=0, validation_alias="ACCESS_TOKEN_TTL")
    refresh_token_ttl_seconds: int = Field(
        7 * 24 * 3600, gt=0, validation_alias="REFRESH_TOKEN_TTL"
    )
    # Two tabs refreshing at once present the same token; within this window the
    # second presentation is a race, not a theft.
    refresh_reuse_grace_seconds: int = Field(10, ge=0, validation_alias="REFRESH_REUSE_GRACE")

    refresh_cookie_name: str = Field("glassshop_refresh", validation_alias="REFRESH_COOKIE_NAME")
    refresh_cookie_path: str = Field("/graphql", validation_alias="REFRESH_COOKIE_PATH")
    refresh_cookie_domain: str | None = Field(None, validation_alias="REFRESH_COOKIE_DOMAIN")
    refresh_cookie_samesite: Literal["lax", "strict", "none"] = Field(
        "strict", validation_alias="REFRESH_COOKIE_SAMESITE"
    )
    # None means: Secure everywhere but development (plain http on localhost).
    refresh_cookie_secure: bool | None = Field(None, validation_alias="REFRESH_COOKIE_SECURE")

    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="CORS_ORIGINS"
    )
    # Proxies whose X-Forwarded-For is believed (addresses or CIDR networks).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"], validation_alias="TRUSTED_PROXIES"
    )

    # argon2-cffi's defaults are RFC 9106's low-memory profile.
    argon2_time_cost: int = Field(3, validation_alias="ARGON2_TIME_COST")
    argon2_memory_cost_kib: int = Field(65536, validation_alias="ARGON2_MEMORY_COST_KIB")
    argon2_parallelism: int = Field(4, ge=1, validation_alias="ARGON2_PARALLELISM")
    # Hashing is CPU and memory heavy: a small pool bounds both.
    password_hash_workers: int = Field(2, ge=1, validation_alias="PASSWORD_HASH_WORKERS")

    password_min_length: int = Field(8, ge=8, validation_alias="PASSWORD_MIN_LENGTH")
    password_max_length: int = Field(128, ge=8, le=1024, validation_alias="PASSWORD_MAX_LENGTH")

    db_pool_size: int = Field(10, ge=1, validation_alias="DB_POOL_SIZE")
    db_max_overflow: int = Field(10, ge=0, validation_alias="DB_MAX_OVERFLOW")
    db_statement_timeout_ms: int = Field(15_000, ge=0, validation_alias="DB_STATEMENT_TIMEOUT_MS")
    # Read models cached in Redis expire after this even without a write.
    cache_ttl_seconds: int = Field(300, ge=1, validation_alias="CACHE_TTL")
    redis_socket_timeout_seconds: float = Field(2.0, gt=0, validation_alias="REDIS_SOCKET_TIMEOUT")

    # Larger GraphQL request bodies are refused (413) before they are read to the end.
    max_body_bytes: int = Field(100 * 1024, gt=0, validation_alias="MAX_BODY_BYTES")

    # Where links in emails point (the web client's origin).
    public_url: str = Field("http://127.0.0.1:8000", validation_alias="PUBLIC_URL")
    smtp_host: str | None = Field(None, validation_alias="SMTP_HOST")
    smtp_port: int = Field(587, validation_alias="SMTP_PORT")
    smtp_username: str | None = Field(None, validation_alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, validation_alias="SMTP_PASSWORD")
    smtp_tls: Literal["starttls", "ssl", "none"] = Field("starttls", validation_alias="SMTP_TLS")
    smtp_timeout_seconds: float = Field(15.0, gt=0, validation_alias="SMTP_TIMEOUT")
    mail_from: str = Field("GlassShop <no-reply@glassshop.test>", validation_alias="MAIL_FROM")
    email_verification_ttl_seconds: int = Field(
        24 * 3600, gt=0, validation_alias="EMAIL_VERIFICATION_TTL"
    )
    password_reset_ttl_seconds: int = Field(3600, gt=0, validation_alias="PASSWORD_RESET_TTL")
    worker_threads: int = Field(4, ge=1, validation_alias="WORKER_THREADS")
    # A handed-over outbox row not done after this long is handed over again.
    outbox_redeliver_seconds: int = Field(300, ge=1, validation_alias="OUTBOX_REDELIVER_AFTER")
    outbox_relay_interval_seconds: float = Field(
        2.0, gt=0, validation_alias="OUTBOX_RELAY_INTERVAL"
    )
    outbox_retention_days: int = Field(7, ge=1, validation_alias="OUTBOX_RETENTION_DAYS")
    cleanup_interval_seconds: int = Field(3600, ge=1, validation_alias="CLEANUP_INTERVAL")

    # Rate limits: COUNT/SECONDS per subject. RATE_LIMITS=off disables them (benchmarks).
    rate_limits: bool = Field(True, validation_alias="RATE_LIMITS")
    rate_login_ip: str = Field("30/300", validation_alias="RATE_LIMIT_LOGIN_IP")
    rate_register_ip: str = Field("10/600", validation_alias="RATE_LIMIT_REGISTER_IP")
    rate_password_reset_ip: str = Field("5/900", validation_alias="RATE_LIMIT_RESET_IP")
    rate_password_reset_email: str = Field("3/3600", validation_alias="RATE_LIMIT_RESET_EMAIL")
    rate_verification_user: str = Field("3/900", validation_alias="RATE_LIMIT_VERIFICATION")
    rate_refresh_session: str = Field("30/60", validation_alias="RATE_LIMIT_REFRESH")
    rate_requests_ip: str = Field("600/60", validation_alias="RATE_LIMIT_REQUESTS_IP")
    # New persisted-query hashes one client IP may register (a client app has tens).
    rate_apq_register_ip: str = Field("100/3600", validation_alias="RATE_LIMIT_APQ_IP")
    # Failed logins per account (any IP) before each further failure locks the account
    # for 1, 2, 4, ... seconds, up to the maximum.
    login_free_failures: int = Field(5, ge=1, validation_alias="LOGIN_FREE_FAILURES")
    login_failure_window_seconds: int = Field(900, ge=1, validation_alias="LOGIN_FAILURE_WINDOW")
    login_lockout_max_seconds: int = Field(900, ge=1, validation_alias="LOGIN_LOCKOUT_MAX")

    # What one GraphQL document may ask for (checked before execution).
    max_query_depth: int = Field(10, ge=1, validation_alias="MAX_QUERY_DEPTH")
    max_aliases: int = Field(15, ge=0, validation_alias="MAX_ALIASES")
    max_directives: int = Field(5, ge=0, validation_alias="MAX_DIRECTIVES")
    max_tokens: int = Field(1000, ge=1, validation_alias="MAX_TOKENS")
    max_document_chars: int = Field(15_000, ge=1, validation_alias="MAX_DOCUMENT_CHARS")
    max_query_cost: int = Field(5000, ge=1, validation_alias="MAX_QUERY_COST")
    request_timeout_seconds: float = Field(30.0, gt=0, validation_alias="REQUEST_TIMEOUT")
    persisted_query_ttl_seconds: int = Field(7 * 24 * 3600, ge=1, validation_alias="APQ_TTL")
    # The persisted-query store's bound: beyond it the oldest registrations leave.
    persisted_query_max_entries: int = Field(10_000, ge=1, validation_alias="APQ_MAX_ENTRIES")
    # Anonymous GET queries may be cached this long by browsers and CDNs.
    public_cache_seconds: int = Field(30, ge=0, validation_alias="PUBLIC_CACHE_SECONDS")
    # None: on everywhere but production.
    introspection: bool | None = Field(None, validation_alias="INTROSPECTION")
    field_suggestions: bool | None = Field(None, validation_alias="FIELD_SUGGESTIONS")

    # --- CSRF preflight and batching (api/http/graphql/view.py) ---
    # A GET runs only when a browser could not have sent it cross-site without a CORS
    # preflight: a non-simple Content-Type, or a non-empty value for one of these headers.
    csrf_prevention: bool = Field(True, validation_alias="CSRF_PREVENTION")
    csrf_preflight_headers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["apollo-require-preflight", "x-apollo-operation-name"],
        validation_alias="CSRF_PREFLIGHT_HEADERS",
    )
    # A JSON array of operations in one POST: off unless enabled, and capped.
    batching: bool = Field(False, validation_alias="BATCHING")
    max_batch_operations: int = Field(10, ge=1, validation_alias="MAX_BATCH_OPERATIONS")

    @field_validator("csrf_preflight_headers", mode="before")
    @classmethod
    def _header_names(cls, value: object) -> object:
        names = _split_csv(value)
        return [str(name).lower() for name in names] if isinstance(names, list) else names

    @field_validator("csrf_preflight_headers")
    @classmethod
    def _preflighted_headers(cls, value: list[str]) -> list[str]:
        for name in value:
            # Headers a browser sends cross-site on its own, or lets a page set without
            # a preflight, prove nothing.
            if name in BROWSER_SET_HEADERS or name.startswith(("sec-", "proxy-")):
                raise ValueError(f"{name!r} does not force a CORS preflight")
        return value

    graphiql: bool | None = Field(None, validation_alias="GRAPHIQL")
    # Who may read /metrics (addresses or CIDR networks); everyone else gets 404.
    metrics_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"], validation_alias="METRICS_NETWORKS"
    )
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    # None: JSON lines in production, plain text elsewhere.
    log_format: Literal["json", "text"] | None = Field(None, validation_alias="LOG_FORMAT")

    # --- Worker metrics, tracing and error reporting (api/infra/metrics.py, telemetry.py) ---
    # `glassshop worker` serves its own Prometheus metrics on this port (off when unset).
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, validation_alias="WORKER_METRICS_PORT"
    )
    worker_metrics_host: str = Field("127.0.0.1", validation_alias="WORKER_METRICS_HOST")
    # OpenTelemetry tracing: on with OTEL_ENABLED=true or when an OTLP endpoint is set.
    otel_enabled: bool | None = Field(None, validation_alias="OTEL_ENABLED")
    otel_endpoint: str | None = Field(None, validation_alias="OTEL_EXPORTER_OTLP_ENDPOINT")
    otel_service_name: str = Field("glassshop-api", validation_alias="OTEL_SERVICE_NAME")
    # Sentry error reporting: on when a DSN is set.
    sentry_dsn: SecretStr | None = Field(None, validation_alias="SENTRY_DSN")

    @property
    def tracing_enabled(self) -> bool:
        if self.otel_enabled is not None:
            return self.otel_enabled
        return bool(self.otel_endpoint)

    @field_validator("cors_origins", "trusted_proxies", "metrics_networks", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("cors_origins")
    @classmethod
    def _no_wildcard_origin(cls, value: list[str]) -> list[str]:
        # The app allows credentials, and Starlette answers "*" by echoing whatever Origin
        # asks: any web page could read the API as the signed-in user. "null" is the Origin
        # of every sandboxed frame and file:// page, so it is as open. Refused in every
        # environment, since a developer's browser visits hostile pages too. Patterns
        # ("https://*.example.com") are refused as well: Starlette matches exact strings.
        unsafe = [origin for origin in value if "*" in origin or origin.lower() == "null"]
        if unsafe:
            raise ValueError(
                f"{', '.join(unsafe)} cannot be allowed with credentials; "
                "list each origin exactly (https://app.example.com)"
            )
        return value

    @field_validator("trusted_proxies", "metrics_networks")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)
        return value

    @field_validator(
        "rate_login_ip",
        "rate_register_ip",
        "rate_password_reset_ip",
        "rate_password_reset_email",
        "rate_verification_user",
        "rate_refresh_session",
        "rate_requests_ip",
        "rate_apq_register_ip",
    )
    @classmethod
    def _rate_spec(cls, value: str) -> str:
        count, slash, seconds = value.partition("/")
        if not (slash and count.isdigit() and seconds.isdigit() and int(count) and int(seconds)):
            raise ValueError("expected COUNT/SECONDS, e.g. 30/300")
        return value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str | None) -> str | None:
        return normalize_database_url(value) if value else None

    @field_validator("argon2_memory_cost_kib")
    @classmethod
    def _owasp_memory(cls, value: int) -> int:
        if value < OWASP_MIN_MEMORY_KIB:
            raise ValueError(f"must be at least {OWASP_MIN_MEMORY_KIB} KiB (OWASP minimum)")
        return value

    @field_validator("argon2_time_cost")
    @classmethod
    def _owasp_time(cls, value: int) -> int:
        if value < OWASP_MIN_TIME_COST:
            raise ValueError(f"must be at least {OWASP_MIN_TIME_COST} (OWASP minimum)")
        return value

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def cookie_secure(self) -> bool:
        if self.refresh_cookie_secure is not None:
            return self.refresh_cookie_secure
        return self.app_env != "development"

    @property
    def mailbox_dir(self) -> Path:
        """Where development emails are written when no SMTP server is configured."""
        return self.data_dir / "mailbox"

    @property
    def log_output(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.is_production else "text"

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def suggestions_enabled(self) -> bool:
        if self.field_suggestions is not None:
            return self.field_suggestions
        return not self.is_production

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else self.app_env == "development"

    def check_deployable(self) -> None:
        """Refuse settings that would be unsafe in production (one line per refusal)."""
        if not self.is_production:
            return
        missing = [
            name
            for name, value in (("DATABASE_URL", self.database_url), ("REDIS_URL", self.redis_url))
            if not value
        ]
        if missing:
            raise SettingsError(f"production needs {' and '.join(missing)} to be set")
        if not self.smtp_host:
            raise SettingsError("production needs SMTP_HOST to be set (emails must go out)")
        self._check_jwt_secret()

    def _check_jwt_secret(self) -> None:
        secret = self.jwt_secret.get_secret_value()
        if secret == DEV_JWT_SECRET or len(secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"production needs JWT_SECRET set to a random value of at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        # Long is not random: 32 times "a" passes the length check and is guessed at once.
        if estimated_secret_bits(secret) < MIN_SECRET_BITS:
            raise SettingsError(
                f"production needs a random JWT_SECRET: this one repeats itself or uses too "
                f"few different characters (under {MIN_SECRET_BITS} bits estimated); generate "
                "one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )


def load_settings() -> Settings:
    """Read the environment once; a bad value becomes a one-line SettingsError."""
    from pydantic import ValidationError

    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise SettingsError(f"invalid setting {where}: {first['msg']}") from None
    settings.check_deployable()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
