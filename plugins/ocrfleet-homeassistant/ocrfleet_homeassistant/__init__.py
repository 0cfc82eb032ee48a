"""The `homeassistant` integration: the fleet as Home Assistant devices, by MQTT discovery.

`entities` says which entities a daemon, a site and a device have and what
their discovery configs and states are (no I/O); `service` publishes them on
the daemon's broker, keeps them current and removes those of devices that
left the configuration.
"""
