"""The monthly report: figures per site from the history, against last month and the guide.

Rendered as csv, md, html (a Jinja2 template an operator may replace) or pdf
(the html printed by headless Chromium), in the reader's language.
`html_template.check_report_templates` checks an operator's templates for
`ocrfleet check-config`.
"""
