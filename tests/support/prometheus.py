"""The tests' name for devpeers.prometheus, which the benchmarks share."""

from devpeers.http_service import QueryError as PrometheusError
from devpeers.http_service import Series as Series
from devpeers.prometheus import Prometheus as Prometheus

__all__ = ["Prometheus", "PrometheusError", "Series"]
