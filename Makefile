# Set-up, tests, demo, installation and packaging of the MRS QGIS plugin.
# Every target sets up what it needs on a fresh Debian machine, asks nothing on
# standard input, and does nothing (quietly) when all is up to date.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# Debian's Python: the one QGIS embeds, with qgis, osgeo and numpy.
SYSTEM_PYTHON ?= /usr/bin/python3
VENV := $(ROOT)/.venv
PYTHON := $(VENV)/bin/python
STAMPS := $(ROOT)/.stamps
PROFILE := $(ROOT)/.qgis-profile
QGIS_PROCESS := $(ROOT)/bin/qgis_process
DIST ?= $(ROOT)/dist
DIST_DIR := $(abspath $(DIST))
VERSION := $(shell sed -n 's/^version=//p' $(ROOT)/metadata.txt)
# The settings folder of a user's QGIS desktop, whose default profile `make install` uses.
USER_QGIS_CONFIG ?= $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/QGIS/QGIS3
DEBIAN_PACKAGES := qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-venv python3-pip
# What a user's copy of the plugin holds (tests, benchmarks and set-up products stay out).
PACKAGE_FILES := metadata.txt __init__.py LICENSE README.md requirements.txt \
	mrs_qgis_plugin algorithms model_core resources

.PHONY: help env system profile test demo install package

help:
	@echo "make demo     set up (make env), then run the demonstration (demo-output/)"
	@echo "make test     set up (make env), then run the whole test suite"
	@echo "make env      install what is missing: Debian packages, .venv, isolated QGIS profile"
	@echo "make install  link and enable the plugin in your own QGIS desktop profile"
	@echo "make package  build dist/mrs-$(VERSION).zip for QGIS' 'Install from ZIP'"

env: system $(STAMPS)/requirements profile

# QGIS with qgis_process and its Python bindings, GDAL's bindings and venv, from apt when missing.
system:
	@if ! { command -v qgis_process.bin || command -v qgis_process; } >/dev/null 2>&1 \
	    || ! $(SYSTEM_PYTHON) -c 'import qgis.core, osgeo.gdal, ensurepip' 2>/dev/null; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "make env: QGIS 3.22 or newer with qgis_process and its Python bindings, GDAL's Python bindings" \
	         "or Python's venv module are missing for $(SYSTEM_PYTHON), and there is no apt-get here;" \
	         "install them with your package manager, then run make again." >&2; \
	    exit 1; \
	  fi; \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	  else \
	    echo "make env: Debian packages are missing and installing them needs root; run" \
	         "'sudo apt-get install $(DEBIAN_PACKAGES)', then make again." >&2; \
	    exit 1; \
	  fi; \
	  echo "make env: installing $(DEBIAN_PACKAGES)"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    $(DEBIAN_PACKAGES) </dev/null >/dev/null; \
	  $(SYSTEM_PYTHON) -c 'import qgis.core, osgeo.gdal, ensurepip'; \
	fi

$(PYTHON): | system
	@echo "make env: creating .venv from $(SYSTEM_PYTHON) with its system packages"
	@$(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)

$(STAMPS)/requirements: $(ROOT)/requirements.txt $(ROOT)/requirements-dev.txt | $(PYTHON)
	@echo "make env: installing requirements-dev.txt into .venv"
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r $(ROOT)/requirements-dev.txt
	@mkdir -p $(STAMPS) && touch $@

# The isolated QGIS profile in .qgis-profile, with the plugin linked (bin/qgis_process
# links it on every run) and enabled.
profile: $(STAMPS)/requirements
	@if ! grep -qsx 'mrs=true' $(PROFILE)/profiles/default/QGIS/QGIS3.ini; then \
	  echo "make env: enabling the plugin in .qgis-profile"; \
	  mkdir -p $(PROFILE); \
	  $(QGIS_PROCESS) plugins enable mrs >$(PROFILE)/enable.log 2>&1 || { cat $(PROFILE)/enable.log >&2; exit 1; }; \
	fi

# QGIS settings stay in the project: qgis_process subprocesses use .qgis-profile, and
# pytest-qgis its own .qgis-settings.
test: env
	@cd $(ROOT) && QT_QPA_PLATFORM=offscreen QGIS_CUSTOM_CONFIG_PATH=$(PROFILE) XDG_CACHE_HOME=$(PROFILE)/cache \
	  $(PYTHON) -m pytest

demo: env
	@cd $(ROOT) && $(PYTHON) bin/demo

install: system
	@MRS_QGIS_CONFIG="$(USER_QGIS_CONFIG)" $(QGIS_PROCESS) plugins enable mrs >/dev/null
	@echo "Linked this folder as plugin 'mrs' into $(USER_QGIS_CONFIG)/profiles/default and enabled it;" \
	      "restart QGIS to load it."
	@$(SYSTEM_PYTHON) $(ROOT)/mrs_qgis_plugin/dependencies.py || true

package:
	@rm -rf $(DIST_DIR)/build && mkdir -p $(DIST_DIR)/build/mrs
	@cd $(ROOT) && cp -RL $(PACKAGE_FILES) $(DIST_DIR)/build/mrs/
	@find $(DIST_DIR)/build \( -name __pycache__ -o -name '*.pyc' -o -name '.*' -o -name '*~' -o -name '*.orig' \
	  -o -name '*.rej' -o -name '*.bak' -o -name '*.swp' \) -prune -exec rm -rf {} +
	@rm -f $(DIST_DIR)/mrs-$(VERSION).zip
	@cd $(DIST_DIR)/build && $(SYSTEM_PYTHON) -m zipfile -c $(DIST_DIR)/mrs-$(VERSION).zip mrs
	@rm -rf $(DIST_DIR)/build
	@echo "$(DIST_DIR)/mrs-$(VERSION).zip"
