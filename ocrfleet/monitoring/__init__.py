"""Grafana dashboards, Prometheus rule files and promtool tests, contributed by plugins.

The core's own live in this folder's dashboards/, rules/ and rule_tests/, as a
plugin's live in its package's monitoring/ folder.
"""

from ocrfleet.monitoring.assets import AssetKind, MonitoringAsset, packaged_assets

__all__ = ["AssetKind", "MonitoringAsset", "packaged_assets"]
