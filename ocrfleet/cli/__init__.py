"""The `ocrfleet` command line."""
