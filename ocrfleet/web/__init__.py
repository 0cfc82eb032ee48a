"""The daemon's HTTP side: /metrics, the status pages, the kiosk and the JSON API."""
