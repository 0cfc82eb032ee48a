"""The tests' name for devpeers.daemon, which the benchmarks share."""

from devpeers.daemon import RunningApp as RunningApp
from devpeers.daemon import Samples as Samples
from devpeers.daemon import catalog as catalog
from devpeers.daemon import iter_lines as iter_lines
from devpeers.daemon import scrape as scrape
from devpeers.daemon import series_of as series_of
from devpeers.daemon import site_config as site_config
from devpeers.daemon import snmp_device as snmp_device
from devpeers.daemon import value as value
from devpeers.daemon import wait_for as wait_for
