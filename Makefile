# Two commands for a fresh machine: `make run` (main job, default config) and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test report-check clean-venv

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(STAMP)
	snakemake --cores all
	mkdir -p results
	snakemake --report results/report.html

# a documented check of the rendered report (needs Chromium: apt-get install chromium)
report-check: $(STAMP)
	energygan check-report --in results/report.html --out results/report-screenshot.png

test: $(STAMP)
	pytest -q

clean-venv:
	rm -rf $(VENV)
