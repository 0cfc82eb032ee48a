"""The ocrfleet PC agent: runs on each public PC (Windows or Linux) and reports over MQTT.

It depends on paho-mqtt and psutil only; `payloads` is shared with the daemon.
"""

__version__ = "0.3.0"
