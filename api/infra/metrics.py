"""Prometheus metrics, one registry per application.

Operations are labelled by their type and root fields (`query:me`,
`mutation:login`): names chosen by clients would make the label set unbounded,
root fields are bounded by the schema."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine

from api.infra.cache import RecordCache
from api.infra.rate_limit import RateLimiter

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class _Watched(Protocol):
    """What the scrape-time collector reads: the process's resources."""

    @property
    def engine(self) -> AsyncEngine: ...
    @property
    def cache(self) -> RecordCache: ...
    @property
    def rate_limiter(self) -> RateLimiter: ...


class _ResourceCollector(Collector):
    """Values read off the live resources at scrape time."""

    def __init__(self, resources: _Watched) -> None:
        self._resources = resources

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        r = self._resources
        pool = r.engine.pool
        in_use = GaugeMetricFamily("glassshop_db_connections_in_use", "Checked-out connections")
        in_use.add_metric([], float(getattr(pool, "checkedout", lambda: 0)()))
        yield in_use
        size = GaugeMetricFamily("glassshop_db_pool_size", "Connections the pool keeps")
        size.add_metric([], float(getattr(pool, "size", lambda: 0)()))
        yield size
        stats = r.cache.stats
        cache = CounterMetricFamily(
            "glassshop_cache_lookups", "Read-model cache lookups", labels=["result"]
        )
        cache.add_metric(["hit"], stats.hits)
        cache.add_metric(["miss"], stats.misses)
        cache.add_metric(["error"], stats.errors)
        yield cache
        ratio = GaugeMetricFamily("glassshop_cache_hit_ratio", "Hits / (hits + misses)")
        looked_up = stats.hits + stats.misses
        ratio.add_metric([], stats.hits / looked_up if looked_up else 0.0)
        yield ratio
        rejected = CounterMetricFamily(
            "glassshop_rate_limit_rejections", "Requests refused by a rate limit"
        )
        rejected.add_metric([], r.rate_limiter.rejections)
        yield rejected


# What one attempt at a job came to: its handler ran and committed (done), it failed and
# dramatiq will retry it (failed) or has given up on it (dead; the outbox relay may still
# hand it over again later), or there was nothing to do: the row was already done by an
# earlier delivery (duplicate) or does not exist (missing).
JOB_OUTCOMES = ("done", "failed", "dead", "duplicate", "missing")


class JobMetrics:
    """Outcomes and durations of the outbox jobs run by this process's worker.

    Registered in the one registry of the process that runs the jobs: the separate
    `glassshop worker` process serves its own (WORKER_METRICS_PORT); in the API process
    they join the API's (so the embedded development worker's jobs show on /metrics)."""

    def __init__(self) -> None:
        # registry=None: not prometheus_client's global registry, only the one given below.
        self.outcomes = Counter(
            "glassshop_jobs",
            "Job attempts by outbox kind and outcome",
            ["kind", "outcome"],
            registry=None,
        )
        self.duration = Histogram(
            "glassshop_job_seconds",
            "Job attempt duration by outbox kind",
            ["kind"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=None,
        )

    def register(self, registry: CollectorRegistry) -> None:
        registry.register(self.outcomes)
        registry.register(self.duration)

    def observe(self, kind: str, outcome: str, seconds: float) -> None:
        self.outcomes.labels(kind, outcome).inc()
        self.duration.labels(kind).observe(seconds)

    def count(self, kind: str, outcome: str) -> float:
        """The attempts counted so far (0 before the first)."""
        wanted = {"kind": kind, "outcome": outcome}
        for family in self.outcomes.collect():
            for sample in family.samples:
                if sample.name == "glassshop_jobs_total" and sample.labels == wanted:
                    return sample.value
        return 0.0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.operations = Counter(
            "glassshop_graphql_operations",
            "GraphQL operations executed",
            ["operation"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "glassshop_graphql_operation_seconds",
            "GraphQL operation latency",
            ["operation"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.errors = Counter(
            "glassshop_graphql_errors", "GraphQL errors by code", ["code"], registry=self.registry
        )
        self.outbox_backlog = Gauge(
            "glassshop_outbox_pending", "Outbox rows not yet done", registry=self.registry
        )

    def watch(self, resources: _Watched, jobs: JobMetrics) -> None:
        self.registry.register(_ResourceCollector(resources))
        jobs.register(self.registry)

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format (CONTENT_TYPE)."""
        return generate_latest(self.registry)

    def observe(self, operation: str, seconds: float, codes: Iterable[str]) -> None:
        self.operations.labels(operation).inc()
        self.latency.labels(operation).observe(seconds)
        for code in codes:
            self.errors.labels(code).inc()
