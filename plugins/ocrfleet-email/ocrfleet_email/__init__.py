"""The `email` channel: notifications as mail over SMTP, in plain text and HTML.

Subject and bodies come from Jinja2 templates (templates/), rendered in the
reader's language when a notification is queued; operators may replace them.

Sent with STARTTLS, implicit TLS or in plain text, with optional login;
the Message-ID is derived from the notification id so a repeated delivery
is recognisable as the same message.
"""
