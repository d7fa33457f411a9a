# Two commands do everything from a fresh clone: `make run` and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python >= 3.12 (Mesa 3.5 needs it); .python-version makes pyenv's python3 resolve to 3.12.
PYTHON_FOR_VENV := $(shell for p in python3.12 python3.13 python3.14 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null \
	&& { echo $$p; break; }; done)

.PHONY: run test lint dashboard workshop bench clean setup browser

# Browser tests drive Debian's chromium (playwright cannot download browsers on these machines).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing chromium for the browser tests (apt-get, about 90 s)"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; \
		else echo "error: browser tests need chromium: apt-get install -y chromium chromium-driver" >&2; exit 1; fi; }

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON_FOR_VENV)" ]; then \
		echo "error: no Python >= 3.12 found (tried python3.12, python3.13, python3.14, python3); install one" >&2; \
		exit 1; fi
	@[ -x $(PY) ] || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	@echo "compiling the model's kernels (numba; once, about a minute on 2 cores)"
	$(PY) -c "import coprod.model.warm"
	@touch $(STAMP)

# The main job: the five designs by the four theories of change, replicated, then the analysis.
run:
	@echo "make run: the first time, setting up .venv takes a few minutes (quietly); then 200 runs (a few minutes on 2 cores, with progress lines) and the report"
	@$(MAKE) --no-print-directory setup
	$(VENV)/bin/coprod sweep experiments/compare_designs.toml --db results/compare_designs.db --set-aside-stale
	$(VENV)/bin/coprod analyze --db results/compare_designs.db --experiment compare_designs \
		--out results/compare_designs

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

dashboard: $(STAMP)
	$(VENV)/bin/coprod dashboard $(if $(PORT),--port $(PORT))

# A live workshop on one city: make workshop [SCENARIO=scenarios/....toml] [PORT=8766] [DB=results/workshops.db]
workshop: $(STAMP)
	$(VENV)/bin/coprod workshop $(or $(SCENARIO),scenarios/citizens_assembly.toml) $(if $(PORT),--port $(PORT)) $(if $(DB),--db $(DB))

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) results .pytest_cache
