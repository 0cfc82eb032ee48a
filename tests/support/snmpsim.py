"""The tests' name for devpeers.snmpsim, which the benchmarks share."""

from devpeers.snmpsim import SnmpSimulator as SnmpSimulator
from devpeers.snmpsim import free_port as free_port
from devpeers.snmpsim import free_udp_port as free_udp_port
