"""Real peers started on 127.0.0.1, shared by the tests and the benchmarks.

* process: the one way to handle a peer's process: find an installed
  program (naming what to install), start it logging to a file, stop it
  (SIGTERM, then SIGKILL), read its log's tail.
* http_service: a process ready once an HTTP path answers (HttpService), and
  the Prometheus query API (PromQL, QueryError).
* mosquitto: a broker; snmpsim: simulated SNMP agents, one process
  (SnmpSimulator) or many side by side (SnmpAgents); snmprec: .snmprec
  recordings read as a poll sees them.
* prometheus: a Prometheus scraping given targets; prometheus_agent: the
  shipped agent config run, and a receiving Prometheus; victoriametrics:
  VictoriaMetrics and vmalert.
* region, region_site: a region of municipalities' daemons, their agents and
  the central stores.
* daemon: the daemon run in a thread (RunningApp); tank: a device kind with
  status-card bars.

Development only: neither the ocrfleet wheel (`packages.find` includes
`ocrfleet*` alone) nor the agent ships it, and no shipped package may import
it (`lint-imports` checks). The tests import it through their old names
(tests/support/mosquitto.py etc. re-export it); the benchmarks import it
directly, bench/harness putting the repository root on sys.path.
"""
