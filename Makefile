# crnt: the two commands for a fresh machine are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PYTEST_ARGS ?=
STACK := $(UV) run --frozen crnt-stack

.PHONY: help tools install up down status run test faults unit lint format bench

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

tools: ## Install what the machine lacks: uv, Java, Maven, PostgreSQL, Node.js, Chromium
	@bash deploy/local/install-prerequisites.sh

install: tools ## Create .venv with every package (uv.lock, frozen) and the web's assets (npm ci)
	@$(UV) sync --frozen --quiet
	@[ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --silent

up: install ## Start Kafka, PostgreSQL, the mail catcher and every service, detached (idempotent)
	@$(STACK) up

down: ## Stop what `make up` started
	@$(STACK) down

status: ## Show what runs, with pids and health
	@$(STACK) status

run: install ## Start everything in the foreground; Ctrl-C stops it all
	@$(STACK) run

# The fault suite's size, in `make test` as in `make faults` (the suite alone): 2,000 approvals
# at 10/s under the nine faults, then 400 with two replicas of every service (about 5 min).
FAULTS_APPROVALS ?= 2000
FAULTS_RATE ?= 10
FAULTS_REPLICA_APPROVALS ?= 400
export FAULTS_APPROVALS FAULTS_RATE FAULTS_REPLICA_APPROVALS

# Tests and benchmarks use topics of their own (crnt-test.*), never the ones `make run` reads.
test: install ## The whole suite on the real Kafka and PostgreSQL (started if needed)
	@CRNT_TOPIC_PREFIX=crnt-test $(STACK) with -- $(UV) run --frozen pytest $(PYTEST_ARGS)

faults: install ## The fault suite alone (2,000 approvals at 10/s under faults, two replicas)
	@$(UV) run --frozen pytest tests/faults $(PYTEST_ARGS)

# No Kafka, no PostgreSQL: the tests not marked `integration` (tests/fixtures.py marks every test
# that asks for the stack's fixtures), with no stack started.
unit: install ## The tests without Kafka or PostgreSQL, in seconds, without starting anything
	@$(UV) run --frozen pytest -m "not integration" $(PYTEST_ARGS)

lint: install ## ruff, mypy --strict
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy

format: install ## Apply ruff's fixes and formatting
	@$(UV) run --frozen ruff check --fix .
	@$(UV) run --frozen ruff format .

bench: install ## Print throughput and latency figures (not a test)
	@CRNT_TOPIC_PREFIX=crnt-test $(STACK) with -- $(UV) run --frozen python -m bench
	@CRNT_TOPIC_PREFIX=crnt-test $(STACK) with -- $(UV) run --frozen python -m bench.e2e
	@CRNT_TOPIC_PREFIX=crnt-test $(STACK) with -- $(UV) run --frozen python -m bench.national
