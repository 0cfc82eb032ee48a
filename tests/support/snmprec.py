"""The tests' name for devpeers.snmprec, which the benchmarks share."""

from devpeers.snmprec import read_snmprec as read_snmprec
