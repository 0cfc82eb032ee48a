"""Libki, the library computer reservation system: a device kind polled over HTTP."""
