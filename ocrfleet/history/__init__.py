"""The daemon's history for reports: daily figures sampled every minute, and their purge."""
