"""MQTT: the daemon's subscriber and the routing of messages to device kinds."""
