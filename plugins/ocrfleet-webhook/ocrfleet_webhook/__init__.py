"""The `webhook` channel: notifications POSTed as JSON to a URL.

The body is Alertmanager's webhook format (version 4) unless a template
says otherwise. `target` and `sender` hold the HTTP side shared with other
HTTP channels (the bundled `alertmanager` channel uses them).
"""
