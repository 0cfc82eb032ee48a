"""Public PCs and laptops: device kinds fed by the ocrfleet agent over MQTT."""
