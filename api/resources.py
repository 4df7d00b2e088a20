"""Process-wide resources, built once in the lifespan and closed on shutdown."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.infra.audit_feed import AuditFeed
from api.infra.cache import RecordCache
from api.infra.metrics import Metrics
from api.infra.passwords import PasswordHashing
from api.infra.persisted_queries import PersistedQueries
from api.infra.rate_limit import RateLimiter, Rules
from api.infra.revocation import SessionRevocations
from api.infra.tokens import TokenCodec
from api.jobs.runner import Jobs, create_jobs
from api.settings import Settings
from db.engine import create_db_factory, create_engine

log = logging.getLogger("glassshop")


@dataclass(slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    database: async_sessionmaker[AsyncSession]
    redis: Redis
    hashing: PasswordHashing
    tokens: TokenCodec
    revocations: SessionRevocations
    cache: RecordCache
    jobs: Jobs
    audit_feed: AuditFeed
    rate_limiter: RateLimiter
    persisted_queries: PersistedQueries
    metrics: Metrics

    async def close(self) -> None:
        self.jobs.broker.close()
        await self.redis.aclose()
        await self.engine.dispose()
        self.hashing.close()


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    if settings.is_production:  # check_deployable already refuses this; keep it impossible
        raise RuntimeError("production needs DATABASE_URL")
    from api.dev.embedded import ensure_embedded_postgres

    return ensure_embedded_postgres(settings.data_dir / "postgres")


def create_redis(settings: Settings) -> Redis:
    if settings.redis_url:
        return Redis.from_url(
            settings.redis_url,
            socket_timeout=settings.redis_socket_timeout_seconds,
            socket_connect_timeout=settings.redis_socket_timeout_seconds,
            health_check_interval=30,
        )
    if settings.is_production:
        raise RuntimeError("production needs REDIS_URL")
    import fakeredis

    log.warning("REDIS_URL is not set: using the embedded in-process Redis substitute (fakeredis)")
    fake: Any = fakeredis.FakeAsyncRedis()
    redis: Redis = fake
    return redis


def build_resources(settings: Settings, database_url: str) -> Resources:
    engine = create_engine(
        database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    redis = create_redis(settings)
    rate_limiter = RateLimiter(redis, Rules.from_settings(settings), enabled=settings.rate_limits)
    database = create_db_factory(engine)
    resources = Resources(
        settings=settings,
        engine=engine,
        database=database,
        redis=redis,
        hashing=PasswordHashing(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
            workers=settings.password_hash_workers,
        ),
        tokens=TokenCodec(
            secret=settings.jwt_secret.get_secret_value(),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            access_ttl_seconds=settings.access_token_ttl_seconds,
        ),
        revocations=SessionRevocations(
            redis,
            database,
            ttl_seconds=settings.access_token_ttl_seconds,
            check_timeout_seconds=settings.request_timeout_seconds,
        ),
        cache=RecordCache(redis, ttl_seconds=settings.cache_ttl_seconds),
        jobs=create_jobs(settings),
        audit_feed=AuditFeed(redis),
        persisted_queries=PersistedQueries(
            redis,
            rate_limiter,
            rate_limiter.rules.apq_register_ip,
            ttl_seconds=settings.persisted_query_ttl_seconds,
            max_chars=settings.max_document_chars,
            max_entries=settings.persisted_query_max_entries,
        ),
        rate_limiter=rate_limiter,
        metrics=Metrics(),
    )
    resources.metrics.watch(resources, resources.jobs.metrics)
    return resources
