# One obvious way to run everything. `make run` starts the whole local stack, `make test`
# runs the suite (lint and import contracts included). Both set up the virtualenv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format tokens fuzz bench-outbox bench-grievance bench-registry-reads bench-import bench-soak asyncapi clean-local help

help:
	@echo "make run      start PostgreSQL, the broker, the four services and the gateway"
	@echo "make test     lint, import contracts and the full test suite"
	@echo "make lint     ruff and import-linter only"
	@echo "make test-clock-ahead  the suite with the clock a year ahead (DAYS=365)"
	@echo "make asyncapi write docs/asyncapi.json from the event registry"
	@echo "make fuzz     schemathesis over the API of a running \`make run\` stack (EXAMPLES=50)"
	@echo "make bench-outbox  outbox relay throughput benchmark"
	@echo "make bench-registry-reads  registry reads at the national volume (HOUSEHOLDS=4000000, REUSE=1)"
	@echo "make bench-import  registry import of a synthetic CSV (MEMBERS=1000000) beside raw COPY"
	@echo "make bench-grievance  SLA scheduler over 1M grievances, public submissions meanwhile"
	@echo "make bench-isaf  I-SAF reports over a national decade beside SQL (SMALL=1 for 40 communes)"
	@echo "make bench-soak  mixed workload through the gateway (SECONDS=60): latency, errors, memory"

# Every dependency comes from the lock (exact versions, hashes checked), then the project itself
# without dependencies; setuptools, its build backend, is in the lock, so no index is needed to
# build it. See "Dependencies" in README.md.
LOCK := requirements/lock.txt

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	@$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Recompiles the locks from pyproject.toml, keeping every pinned version that still fits:
# UPGRADE=--upgrade moves everything to the newest releases, UPGRADE="--upgrade-package NAME"
# one package. requirements/runtime.txt (the image) takes the lock's versions.
UV_COMPILE = $(BIN)/uv pip compile --quiet --python-version 3.11 \
	--python-platform x86_64-unknown-linux-gnu --generate-hashes --custom-compile-command "make lock"

.PHONY: lock
lock: $(STAMP)
	$(UV_COMPILE) $(UPGRADE) pyproject.toml requirements/build.in --extra dev --extra local -o $(LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(LOCK) -o requirements/runtime.txt

run: $(STAMP)
	$(BIN)/python -m devstack run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The whole suite with every Python process a year ahead (tests/timeshift): a test that reads
# the real clock against fixed dates fails here. DAYS=n moves it another distance.
.PHONY: test-clock-ahead
test-clock-ahead: lint
	SP_TEST_CLOCK_SHIFT_DAYS=$(or $(DAYS),365) PYTHONPATH=tests/timeshift \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The long schemathesis run (issue 13) against the stack `make run` started: every phase,
# national officer, commune officer and anonymous. The suite runs a short one (tests/contract).
fuzz: $(STAMP)
	$(BIN)/python -m tests.contract.fuzz --gateway http://127.0.0.1:$${SP_GATEWAY_PORT:-8000} \
	  --max-examples $(or $(EXAMPLES),50)

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The Kafka users and ACLs both deployments apply, from the code (deploy/kafka_acls.py).
.PHONY: kafka-acls
kafka-acls: $(STAMP)
	$(BIN)/python deploy/kafka_acls.py script > deploy/k8s/kafka-acls.sh

asyncapi: $(STAMP)
	$(BIN)/python -m shared.events.asyncapi > docs/asyncapi.json

# The development issuer's demo tokens (12 hours) for the gateway `make run` starts.
tokens: $(STAMP)
	GATEWAY_DEV_ISSUER_URL=$${GATEWAY_DEV_ISSUER_URL:-http://127.0.0.1:$${SP_GATEWAY_PORT:-8000}/dev/idp} \
	  $(BIN)/python -m gateway.identity.dev_issuer --gateway http://127.0.0.1:$${SP_GATEWAY_PORT:-8000}

bench-outbox: $(STAMP)
	$(BIN)/python -m bench.outbox_relay

clean-local:
	rm -rf .local

# A national decade of synthetic I-SAF: reports beside hand-written SQL, sitting uploads through
# the gateway. SMALL=1 for a shared machine (40 communes, 3 years).
.PHONY: bench-isaf
bench-isaf: $(STAMP)
	$(BIN)/python -m bench.isaf_reports $(if $(SMALL),--small,)

# Generates the CSV once into .local/bench-import (kept), then imports it into a fresh database.
bench-import: $(STAMP)
	$(BIN)/python -m bench.registry_import --members $(or $(MEMBERS),1000000)

bench-grievance: $(STAMP)
	$(BIN)/python -m bench.grievance_sla

# A platform of its own (.local/soak), driven through the gateway by paced demo people.
bench-soak: $(STAMP)
	$(BIN)/python -m bench.soak --seconds $(or $(SECONDS),60)

# Loads 4 M synthetic households once (minutes) into .local/bench-registry; REUSE=1 keeps them.
bench-registry-reads: $(STAMP)
	$(BIN)/python -m bench.registry_reads --households $(or $(HOUSEHOLDS),4000000) $(if $(REUSE),--reuse)
