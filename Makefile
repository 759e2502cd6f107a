# Dialplane developer entry points. `make help` lists them; every target works from a fresh clone.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export UV_PYTHON := python3.11
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE ?= copy
export RUN_DIR ?= $(CURDIR)/.run

PG_MARKER := $(RUN_DIR)/postgres.started-by-us
# Directories mypy checks: those that hold Python files (bench/ may have none yet).
TYPECHECK_DIRS := $(foreach dir,services/src gateway/src dialer/src ari-bridge/src ai-agent/src scripts bench,\
	$(if $(shell find $(dir) -name '*.py' -print -quit 2>/dev/null),$(dir)))

.PHONY: help setup db lint typecheck test soak up down status demo bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  make %-10s %s\n", $$1, $$2 }'

setup: ## install missing tools (uv, Debian packages) and sync the workspace
	@scripts/ensure-tools.sh

db: ## ensure PostgreSQL with role and database dialplane (or use DATABASE_URL)
	@scripts/ensure-postgres.sh

lint: setup ## ruff check and ruff format --check
	uv run ruff check .
	uv run ruff format --check .

typecheck: setup ## mypy (strict) on the sources, scripts and benchmarks
	uv run mypy $(TYPECHECK_DIRS)

# PostgreSQL is stopped afterwards only if this run started it (the marker is new or rewritten).
test: setup ## setup, db, Asterisk provision, lint, typecheck, pytest (PYTEST_ARGS=...)
	@marker_before="$$(cat $(PG_MARKER) 2>/dev/null || true)"; status=0; \
	{ scripts/ensure-postgres.sh && asterisk/local.sh provision && $(MAKE) lint typecheck \
		&& uv run pytest $(PYTEST_ARGS); } || status=$$?; \
	if [[ -f $(PG_MARKER) && "$$(cat $(PG_MARKER))" != "$$marker_before" ]]; then \
		scripts/ensure-postgres.sh stop-if-started; fi; \
	exit $$status

soak: setup db ## long runs outside CI: schemathesis with many more examples, then 10 minutes of mixed load (bench/soak.py)
	DIALPLANE_SCHEMATHESIS_EXAMPLES=$${DIALPLANE_SCHEMATHESIS_EXAMPLES:-25} DIALPLANE_SCHEMATHESIS_COVERAGE=1 \
		DIALPLANE_SCHEMATHESIS_RANDOM=1 \
		uv run pytest tests/bad_input/test_openapi_fuzz.py
	@mkdir -p bench/results
	uv run python bench/soak.py --json bench/results/soak.json $(SOAK_ARGS)

up: setup db ## start Asterisk and the four services in the background, wait until ready
	@uv run python scripts/stack.py up

down: ## stop what `make up` started (and PostgreSQL if `make db` started it)
	@if command -v uv >/dev/null && [[ -d .venv ]]; then uv run python scripts/stack.py down; \
	else scripts/ensure-postgres.sh stop-if-started; fi

status: setup ## table of services, Asterisk, PostgreSQL and Prometheus (exit 0 when all ready)
	@uv run python scripts/stack.py status

demo: up ## start the stack, then place a call through the API and follow it (scripts/demo.py)
	@uv run python scripts/stack.py status
	@uv run python scripts/demo.py
	@printf '%s\n' '' 'Try next:' \
		'  open http://127.0.0.1:8000/docs   # the gateway API (token: POST /api/v1/token, user demo-ai)' \
		'  open http://127.0.0.1:9090/alerts   # Prometheus: the alert and recording rules of deploy/prometheus' \
		'  make status   # the stack again' \
		'  make down     # stop everything'

bench: setup db ## run every bench/*.py but the soak (each writes JSON into bench/results/)
	@mkdir -p bench/results; shopt -s nullglob; \
	for script in bench/*.py; do [[ $$script == bench/soak.py ]] && continue; \
		echo "bench: $$script"; uv run python "$$script"; done

clean: ## remove .run and caches (stops the stack first; keeps .venv and the Asterisk cache)
	@if [[ -d $(RUN_DIR) ]]; then $(MAKE) down; fi
	rm -rf $(RUN_DIR) .pytest_cache .mypy_cache .ruff_cache
	find . -path ./.venv -prune -o -type d -name __pycache__ -exec rm -rf {} +
