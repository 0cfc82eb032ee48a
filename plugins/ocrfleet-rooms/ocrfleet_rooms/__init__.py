"""ocrfleet plugin: room sensors (presence, motion, people counters) over MQTT.

Read from zigbee2mqtt's own topics and payloads, with no renaming of the
devices, or from plain JSON on a topic of the counter's own.
"""
