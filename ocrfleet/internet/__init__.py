"""A site's internet connection: derived from the checks made inside its rooms."""
