# Two commands for a fresh machine: `make run` (main job, default config) and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
# torch-fidelity needs a torchvision that loads; PyPI's does not load beside the CPU build of torch 2.13.0,
# so its tests run in an environment of their own (torch 2.14.1 + torchvision 0.29.1: 5.5 GB, a CUDA build)
FIDELITY_VENV := .venv-fidelity
FIDELITY_STAMP := $(FIDELITY_VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run restore lint test test-core test-fidelity report-check clean-venv

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $@

$(FIDELITY_STAMP): pyproject.toml
	test -d $(FIDELITY_VENV) || $(PYTHON) -m venv $(FIDELITY_VENV)
	$(FIDELITY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(FIDELITY_VENV)/bin/python -m pip install --quiet torch==2.14.1 torchvision==0.29.1
	$(FIDELITY_VENV)/bin/python -m pip install --quiet -e '.[test,fidelity]'
	touch $@

# the study, its report, all tracked by DVC and pushed (commit the .dvc files that change)
run: $(STAMP)
	snakemake --cores all
	snakemake --report results/report.html
	energygan track --in results/report.html

# a pushed study on a fresh clone: its files from the DVC remote, marked up to date for Snakemake in the
# order it would have made them (`dvc pull` gives every file a new modification time), and its report
restore: $(STAMP)
	dvc pull
	snakemake --cores all --touch
	snakemake --report results/report.html

# a documented check of the rendered report (needs Chromium: apt-get install chromium)
report-check: $(STAMP)
	energygan check-report --in results/report.html --out results/report-screenshot.png

# the ecosystem's checkers: Ruff on the Python (rules in pyproject.toml) and Snakemake's own linter on the workflow
lint: $(STAMP)
	ruff check src tests benchmarks examples
	snakemake --lint

test: test-core test-fidelity

test-core: $(STAMP)
	pytest -q -m "not fidelity"

test-fidelity: $(FIDELITY_STAMP)
	PATH=$(abspath $(FIDELITY_VENV))/bin:$$PATH $(FIDELITY_VENV)/bin/python -m pytest -q -m fidelity

clean-venv:
	rm -rf $(VENV) $(FIDELITY_VENV)
