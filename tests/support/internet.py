"""The tests' name for devpeers.internet, which the benchmarks share."""

from devpeers.internet import InternetServer as InternetServer
from devpeers.internet import make_certificates as make_certificates
