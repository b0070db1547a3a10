"""Prometheus metrics: counters the code increments, and gauges read from the database on scrape."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry()

work_outcomes = Counter(
    "deskbridge_work_outcomes",
    "Work-row attempts by kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)


class WorkRowCollector(Collector):
    """How many work rows of each kind are in each state, counted when Prometheus scrapes."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db.models import Count

        from deskbridge.pipeline.workrows import work_row_models

        gauge = GaugeMetricFamily(
            "deskbridge_work_rows", "Work rows by kind and state.", labels=["kind", "state"]
        )
        for model in work_row_models():
            for row in model.objects.values("state").annotate(n=Count("pk")).order_by():
                gauge.add_metric([model.label(), row["state"]], row["n"])
        yield gauge


REGISTRY.register(WorkRowCollector())


def render() -> bytes:
    return generate_latest(REGISTRY)
