"""The control plane's Prometheus metrics, served at `/metrics` on the admin API.

Counters are bumped where things happen (usage intake); the state of config distribution
(config version, connected Envoys, rejected pushes) is read at scrape time, so it costs
nothing between scrapes. The endpoint is public like `/healthz`: it carries counts and ids
of deployments, never secrets or tenant data (see docs/observability.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector


class ControlPlaneMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.usage_records = Counter(
            "omg_usage_records_ingested", "Usage records received from ext_proc, by result "
            "(inserted, or duplicate of an already stored request id).", ("result",),
            registry=self.registry)
        self.usage_batches = Counter(
            "omg_usage_batches_ingested", "Usage batches received from ext_proc.",
            registry=self.registry)

    def count_usage(self, received: int, inserted: int) -> None:
        self.usage_batches.inc()
        self.usage_records.labels("inserted").inc(inserted)
        self.usage_records.labels("duplicate").inc(received - inserted)

    def watch_budgets(self, remaining: Callable[[], Mapping[str, tuple[str, str, int]]]) -> None:
        self.registry.register(BudgetsRemaining(remaining))

    def watch_config(self, version: Callable[[], str], nodes: Callable[[], dict[str, Any]]) -> None:
        self.registry.register(ConfigDistribution(version, nodes))


class ConfigDistribution(Collector):
    """Config version and what each connected Envoy accepted, read when scraped."""

    def __init__(self, version: Callable[[], str], nodes: Callable[[], dict[str, Any]]) -> None:
        self._version = version
        self._nodes = nodes

    def collect(self) -> Iterator[Metric]:
        version = self._version()
        yield GaugeMetricFamily("omg_config_version", "Version of the gateway configuration "
                                "held by the control plane.",
                                value=float(version) if version.isdigit() else 0.0)
        nodes = self._nodes()
        yield GaugeMetricFamily("omg_xds_connected_envoys", "Envoys with an open ADS stream.",
                                value=len(nodes))
        rejected = GaugeMetricFamily("omg_xds_rejected_resources", "Resource types whose "
                                     "latest push an Envoy rejected (NACK).", labels=("node",))
        for node, status in nodes.items():
            count = sum(1 for state in status.types.values() if state.last_error)
            rejected.add_metric((node,), count)
        yield rejected


class BudgetsRemaining(Collector):
    """What is left of each budget in its current period, as of the budget alert job's last
    look at it (it looks whenever the budget's tenant has new usage)."""

    def __init__(self, remaining: Callable[[], Mapping[str, tuple[str, str, int]]]) -> None:
        self._remaining = remaining

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("omg_budget_remaining_usd", "Budget left in the current "
                                   "period, in US dollars.", labels=("budget", "scope", "tenant"))
        for budget_id, (scope, tenant_id, pico) in self._remaining().items():
            family.add_metric((budget_id, scope, tenant_id), pico / 10**12)
        yield family
