"""Words people read, in their language and time zone.

A rule or a report does not write sentences; it names a catalog message and
its values (`Text`), and whoever knows the reader (a route's language, a
site's time zone) puts it into words (`Speaker`). Plugins keep their own
gettext catalogs, one domain per plugin, next to their code.
"""
