# The two commands:  make run   (the daemon on its built-in demo fleet)
#                    make test  (the whole test suite, with the services it needs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PLUGINS := $(wildcard plugins/*/pyproject.toml)
# Packages with gettext catalogs (<package>/locale/): the core and plugins.
CATALOGS := $(patsubst %/locale,%,$(wildcard ocrfleet/locale plugins/*/*/locale))

.PHONY: run test lint bench clean system-test-deps catalogs catalogs-extract ha-test-env

run: $(VENV)/.installed
	$(BIN)/ocrfleet run

test: $(VENV)/.installed system-test-deps ha-test-env
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
	$(BIN)/python -m ocrfleet.i18n.tools compile $(CATALOGS)
	touch $@

# .po -> .mo for every catalog (also done at install, above).
catalogs: $(VENV)/.installed
	$(BIN)/python -m ocrfleet.i18n.tools compile $(CATALOGS)

# After changing words in code or templates: refresh the .pot and .po files,
# then translate what `python -m ocrfleet.i18n.tools check` lists.
catalogs-extract: $(VENV)/.installed
	$(BIN)/python -m ocrfleet.i18n.tools extract $(CATALOGS)
	$(BIN)/python -m ocrfleet.i18n.tools check $(CATALOGS)

# Real peers for the tests, each started by the tests on a free port: Mosquitto,
# Prometheus (and its promtool) and Prometheus Alertmanager (a system service a
# package may start is not used: the tests run their own instances);
# systemd-analyze, which checks deploy/systemd/ocrfleet.service (minimal images
# have no systemd); and Chromium with poppler-utils (pdftoppm, pdftotext), which
# draw and read back the html and PDF report (`ocrfleet report --format pdf`),
# and chromium-driver, through which Selenium tests the pages in the browser;
# net-snmp's snmptrap, snmpinform and snmpset (package snmp), which send the trap
# receiver its traps and change a simulated printer's state.
system-test-deps:
	@command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y mosquitto mosquitto-clients)
	@[ -x /usr/bin/prometheus-alertmanager ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus-alertmanager)
	@[ -x /usr/bin/prometheus ] && [ -x /usr/bin/promtool ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y prometheus)
	@[ -x /usr/bin/victoria-metrics ] && [ -x /usr/bin/vmalert ] || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y victoria-metrics)
	@command -v systemd-analyze >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y systemd)
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium chromium-driver)
	@command -v pdftoppm >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y poppler-utils)
	@command -v snmptrap >/dev/null 2>&1 && command -v snmpinform >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y snmp)

# Home Assistant itself, for tests/test_homeassistant_live.py: it needs Python
# 3.13, so it gets a venv of its own (installed once, then nothing; the
# test takes about 20 s). Without a Python 3.13 the test is skipped, saying why.
# The first Python 3.13 found: on PATH, else one that pyenv has installed.
HA_PYTHON ?= $(shell for p in python3.13 "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo "$$p"; break; }; done)
HA_VENV ?= .venv-ha
HA_VERSION := 2025.4.4
ha-test-env:
	@[ -f $(HA_VENV)/.installed-$(HA_VERSION) ] || \
	if [ -n "$(HA_PYTHON)" ] && $(HA_PYTHON) -c 'import sys; assert sys.version_info >= (3, 13)' >/dev/null 2>&1; then \
		$(HA_PYTHON) -m venv $(HA_VENV) && \
		$(HA_VENV)/bin/pip install --quiet homeassistant==$(HA_VERSION) \
			home-assistant-frontend==20250411.0 paho-mqtt==2.1.0 && \
		touch $(HA_VENV)/.installed-$(HA_VERSION); \
	else echo "no Python 3.13 ($(HA_PYTHON); set HA_PYTHON=...): tests/test_homeassistant_live.py will be skipped"; fi

clean:
	rm -rf $(VENV) $(HA_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
