"""Prometheus exposition: the fleet collector, the daemon's own health, the HTTP endpoint."""
