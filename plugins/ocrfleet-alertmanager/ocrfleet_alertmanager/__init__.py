"""The `alertmanager` channel: alerts handed to a Prometheus Alertmanager.

They are POSTed to its API v2 (`/api/v2/alerts`) as Prometheus itself does,
so one Alertmanager routing tree, with its silences and inhibitions, covers
ocrfleet's alerts too.
"""
