"""Closing days kept as data: calendars contributed by plugins (holidays, iCal feeds).

`types` is the contract a plugin implements (`ocrfleet_calendar_types`);
`live` is what the core keeps of each configured calendar while it runs.
"""
