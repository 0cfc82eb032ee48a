"""HTTP as a source: devices and services read over HTTP(S), as JSON or Prometheus text."""
