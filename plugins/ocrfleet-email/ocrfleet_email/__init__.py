"""The `email` channel: notifications as plain-text mail over SMTP.

Sent with STARTTLS, implicit TLS or in plain text, with optional login;
the Message-ID is derived from the notification id so a repeated delivery
is recognisable as the same message.
"""
