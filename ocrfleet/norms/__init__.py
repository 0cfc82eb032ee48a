"""The guide's norms for public computer rooms, applied to the configured municipality."""
