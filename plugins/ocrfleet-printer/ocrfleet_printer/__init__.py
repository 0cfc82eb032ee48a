"""Network printers: a device kind polled over SNMP (Printer-MIB, HOST-RESOURCES-MIB)."""
