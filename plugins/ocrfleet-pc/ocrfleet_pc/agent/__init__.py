"""The ocrfleet PC agent: runs on each public PC (Windows or Linux) and reports over MQTT."""
