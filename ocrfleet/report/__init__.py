"""The monthly report: figures per site from the history, rendered as csv, md or html."""
