"""SNMP: one shared engine, numeric OIDs, and the poller that drives SNMP device kinds."""
