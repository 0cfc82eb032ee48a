# The two commands:  make run   (the daemon on its built-in demo fleet)
#                    make test  (the whole test suite, with the services it needs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PLUGINS := $(wildcard plugins/*/pyproject.toml)

.PHONY: run test lint bench clean system-test-deps

run: $(VENV)/.installed
	$(BIN)/ocrfleet run

test: $(VENV)/.installed system-test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy && $(BIN)/lint-imports

bench: $(VENV)/.installed system-test-deps
	$(BIN)/python bench/mqtt_ingest.py

# A fresh Debian has Python without venv/ensurepip; install it only then.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "ocrfleet needs Python >= 3.11"'
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y python3-venv)
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml agent/pyproject.toml $(PLUGINS)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e agent/ $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $@

# Real peers for the tests, each started by the tests on a free port: Mosquitto,
# Prometheus (and its promtool) and Prometheus Alertmanager (a system service a
# package may start is not used: the tests run their own instances); and
# systemd-analyze, which checks deploy/systemd/ocrfleet.service (minimal images
# have no systemd).
system-test-deps:
	@command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y mosquitto mosquitto-clients)
	@[ -x /usr/bin/prometheus-alertmanager ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus-alertmanager)
	@[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus)
	@command -v systemd-analyze >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y systemd)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
