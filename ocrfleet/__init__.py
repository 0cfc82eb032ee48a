"""ocrfleet: watch the public computer rooms of a municipality from one place."""

__version__ = "0.1.0"
