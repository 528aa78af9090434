# Two commands do everything on a fresh clone with only python3 and make:
#   make plan [STACK=prod]   the offline plan of a stack (no AWS account, no Pulumi CLI)
#   make test                the full test suite
#   make bench               the plan-scale benchmark (not a test; prints figures and ratios);
#                            BENCH_ARGS=--no-cluster skips the cluster rows (about 10 minutes)
#   make docs                regenerate README.md's config reference and Pulumi.yaml's declarations
#   make demo                status and cycle-audit against a cluster in moto's server (no AWS account)
# Each sets up .venv from the pinned requirements first (once; again when they change), with Python 3.11
# or newer: PYTHON=python3.12 make ... picks the interpreter.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STACK  ?= prod
STAMP  := $(VENV)/.installed

# pyproject.toml's requires-python (tests/test_makefile.py holds the two together). Checked before .venv is
# made: an older interpreter otherwise fails deep inside pip.
PYTHON_MIN := 3.11
PYTHON_OK  := import sys; sys.exit(sys.version_info[:2] < tuple(map(int, "$(PYTHON_MIN)".split("."))))
PIP        := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: plan test bench docs demo venv clean

# A .venv left by a failed run or made by another interpreter is removed, never reused, and a failed set-up
# removes what it made: the next run starts clean without `make clean`.
$(STAMP): requirements.txt requirements-dev.txt requirements.lock pyproject.toml
	@$(PYTHON) -c '$(PYTHON_OK)' 2>/dev/null || { \
	  echo "Odyssey needs Python $(PYTHON_MIN) or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)." >&2; \
	  echo "Install one and run: make $(or $(MAKECMDGOALS),venv) PYTHON=python$(PYTHON_MIN) (or newer)" >&2; exit 1; }
	@if [ -d $(VENV) ] && ! $(PY) -c '$(PYTHON_OK)' 2>/dev/null; then \
	  echo "Removing $(VENV): made by another Python or by a failed set-up."; rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); exit 1; }
	{ $(PIP) --upgrade pip && \
	  $(PIP) -r requirements-dev.txt -c requirements.lock && \
	  $(PIP) --no-deps -e . ; } || { rm -rf $(VENV); echo "Set-up failed; $(VENV) removed." >&2; exit 1; }
	@# The `odyssey` console script above is editable, so it runs this checkout.
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

# A cluster in moto's server on 127.0.0.1 named as the offline plan of $(STACK) names it; `odyssey status` and
# `odyssey cycle-audit` run against it; the server stops at the end.
demo: $(STAMP)
	$(PY) -m odyssey.ops.demo $(STACK)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
