"""The tests' name for devpeers.mosquitto, which the benchmarks share."""

from devpeers.mosquitto import Mosquitto as Mosquitto
from devpeers.mosquitto import free_port as free_port
from devpeers.mosquitto import mosquitto_binary as mosquitto_binary
