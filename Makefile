# Two commands do everything on a fresh clone with only python3 and make:
#   make plan [STACK=prod]   the offline plan of a stack (no AWS account, no Pulumi CLI)
#   make test                the full test suite
#   make bench               the plan-scale benchmark (not a test; prints figures and ratios);
#                            BENCH_ARGS=--no-cluster skips the cluster rows (about 10 minutes)
#   make docs                regenerate README.md's config reference and Pulumi.yaml's declarations
# Each sets up .venv from the pinned requirements first (once; again when they change).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= prod
STAMP  := $(VENV)/.installed

.PHONY: plan test bench docs venv clean

$(STAMP): requirements.txt requirements-dev.txt requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c requirements.lock
	# The `odyssey` console script; editable, so it runs this checkout.
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

plan: $(STAMP)
	$(PY) -m odyssey plan $(STACK)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) benchmarks/plan_scale.py $(BENCH_ARGS)

# From the models in odyssey/config/; tests/config/test_reference.py fails while they are stale.
docs: $(STAMP)
	$(PY) -m odyssey.config.reference --write

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
