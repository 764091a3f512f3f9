# The two commands a newcomer needs: `make run` and `make test`. Everything else builds on them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
SERVE_PORT ?= 5001
STORE  ?= $(CURDIR)/mlruns/mlflow.db
ARGS   ?=

# Install from uv.lock, the tested versions; again only when pyproject.toml or the lock changed (the stamps).
# uv is the one package pip installs, at the version the lock pins (tests/test_install.py holds them together);
# `uv sync --locked` refuses a lock that no longer matches pyproject.toml (run `uv lock` after changing a bound),
# and --inexact leaves pip and the test extras in place.
INSTALLED      := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
UV_VERSION     := 0.13.9
UV             := $(BIN)/uv
# Never a Python build from the network: the venv's own Python (make's PYTHON) is the one.
SYNC           := UV_PYTHON_DOWNLOADS=never $(UV) sync --locked --inexact --quiet
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast test-system bench ui serve server stop deploy worker user lint clean help
help:
	@echo "make run        install (first time) and run the whole pipeline on the default data (ARGS='--profile quick')"
	@echo "make test       install the test extras and run the whole suite (e2e included)"
	@echo "make test-fast  the suite without the end-to-end and slow training tests (about 4 minutes, one process)"
	@echo "make test-system  the system packages the end-to-end tests use: PostgreSQL and Chromium (apt, as root)"
	@echo "make ui         the MLflow UI on the local store at http://127.0.0.1:$(PORT); prints the link to the runs"
	@echo "make serve      serve models:/$(MODEL)@champion on http://127.0.0.1:$(SERVE_PORT)/invocations"
	@echo "make server     start a Prefect server and an MLflow tracking server on $(HOST) (DB_URL=postgresql://... for PostgreSQL)"
	@echo "make deploy     create the work pools, apply prefect.yaml (NIGHTLY_DATA=... NIGHTLY_TARGET=...: the nightly data), and (NOTIFY_WEBHOOK_URL set) the failure notices"
	@echo "make worker     start a worker (POOL=cpu|gpu, RUNS=flow runs at once, default 1)"
	@echo "make user       add an MLflow user (NAME=alice PERMISSION=READ|EDIT|MANAGE), as the MLflow admin"
	@echo "make stop       stop what make server started"
	@echo "make bench      every benchmark in bench/, results in bench/RESULTS.md (bench-NAME: one)"
	@echo "make lint       ruff and the import contracts (lint-imports)"

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"

$(INSTALLED): pyproject.toml uv.lock | $(UV)
	$(SYNC)
	@touch $@

$(TEST_INSTALLED): $(INSTALLED)
	$(SYNC) --extra test
	@touch $@

run: $(INSTALLED)
	$(BIN)/python -m flows run $(ARGS)

# The suite runs in a new random order each time (pytest-randomly; the last line names the seed, and
# PYTEST_ARGS="--randomly-seed=N" repeats that order, "-p no:randomly" keeps file order), on two xdist workers
# (tests/conftest.py says which modules go together, "-n 0" runs in one process); the 25 slowest tests are
# listed at the end so the time budget stays visible.
test: $(TEST_INSTALLED) test-system
	$(BIN)/ruff check flows training tuning tests bench
	$(BIN)/lint-imports --no-logo --no-cache
	$(BIN)/python -m pytest -q -n 2 --durations=25 $(PYTEST_ARGS)

test-fast: $(TEST_INSTALLED)
	$(BIN)/python -m pytest -q -m "not e2e and not slow" --durations=10 $(PYTEST_ARGS)

# System packages of the end-to-end tests (a real PostgreSQL server, a real browser), installed before the suite
# and never inside a test. Where they cannot be installed (not root, no apt) their tests are skipped with the
# reason; on CI (CI=true) that is an error instead, so a green run never hides a skipped deployment test.
SYSTEM_MISSING = $(strip $(if $(wildcard /usr/lib/postgresql/*/bin/initdb),,postgresql) \
                         $(if $(shell command -v chromium),,chromium))
test-system:
ifneq ($(SYSTEM_MISSING),)
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "cannot install $(SYSTEM_MISSING) here (needs root and apt-get): the tests that use them are skipped"; \
	else \
		echo "installing $(SYSTEM_MISSING) with apt-get"; \
		export DEBIAN_FRONTEND=noninteractive; \
		(apt-get update -qq && apt-get install -y -qq $(SYSTEM_MISSING) >/dev/null) && exit 0; \
		echo "apt-get could not install $(SYSTEM_MISSING): the tests that use them are skipped"; \
	fi; \
	test -z "$$CI"
else
	@:
endif

# Benchmarks (bench/): each writes its section of bench/RESULTS.md; `make bench` runs them all (~1 h on 2
# cores), `make bench-throughput` (or -handwritten, -newcomer, -overhead, -parallel, -search, -scaling,
# -strategy: adaptive against grid on four data sets, ~35 min; -families: cnn against mlp on digits-images;
# -image_memory: a folder of images in memory against streamed from disk; -data: 1M rows from PostgreSQL and S3;
# -data-checks: the profile and the data checks on 100k and 1M rows; -diagnosis: 14 labelled training situations;
# -augmentation: the augmentation rung on overfitting image bases, ~10 min; -lr_sweep: the capacity stage with and
# without a learning-rate sweep per step) one. Not in `make bench`, as it empties the package caches:
# bench-install (a fresh clone's install, cold and warm; ARGS="--before REV" compares a commit).
BENCHES := throughput handwritten overhead parallel search scaling strategy families image_memory data data_checks \
           diagnosis augmentation lr_sweep
bench: $(TEST_INSTALLED)
	@for b in $(BENCHES); do echo "== bench $$b"; $(BIN)/python -m bench.$$b || exit 1; done
# bench-data reads 1M rows from a PostgreSQL and an S3-compatible server it starts itself (the test extras' moto).
bench-data: $(TEST_INSTALLED)
	$(BIN)/python -m bench.data $(ARGS)
bench-data-checks: $(INSTALLED)
	$(BIN)/python -m bench.data_checks $(ARGS)
bench-%: $(INSTALLED)
	$(BIN)/python -m bench.$* $(ARGS)

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check flows training tuning tests bench
	$(BIN)/lint-imports --no-logo --no-cache

EXPERIMENT ?= keras-mlops
ui: $(INSTALLED)
	@mkdir -p $(dir $(STORE))
	@$(BIN)/python -m flows.ops.ui --tracking-uri sqlite:///$(STORE) --port $(PORT) --experiment $(EXPERIMENT)
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_DISABLE_TELEMETRY=true \
		$(BIN)/mlflow ui --backend-store-uri sqlite:///$(STORE) --host 127.0.0.1 --port $(PORT) --workers 1

MODEL ?= keras-mlops-model
serve: $(INSTALLED)
	PATH=$(CURDIR)/$(BIN):$$PATH MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(STORE)} \
		$(BIN)/mlflow models serve -m "models:/$(MODEL)@champion" --env-manager local -h 127.0.0.1 -p $(SERVE_PORT)

# --- running it as a team: servers, deployments, workers ------------------------------------------------
HOST           ?= 127.0.0.1
PREFECT_PORT   ?= 4200
MLFLOW_PORT    ?= 5000
DB_URL         ?= sqlite:///$(CURDIR)/mlruns/server.db
AUTH_DB_URL    ?= sqlite:///$(CURDIR)/mlruns/server-auth.db
ARTIFACTS      ?= $(CURDIR)/mlruns/server-artifacts
RUN_DIR        ?= $(CURDIR)/.run
POOL           ?= cpu
RUNS           ?= 1
GPUS           ?= 1
NIGHTLY_TIMEZONE ?= UTC
# The nightly deployment's data (prefect.yaml's build step reads them): make deploy NIGHTLY_DATA=... NIGHTLY_TARGET=...
export NIGHTLY_DATA NIGHTLY_TARGET NIGHTLY_TABLE NIGHTLY_QUERY
NIGHTLY_DEADLINE_HOURS ?= 6
PERMISSION     ?= READ
# Where clients reach the servers: on HOST=0.0.0.0, this machine's name (as `make server` prints it).
REACH_HOST     = $(if $(filter 0.0.0.0 ::,$(HOST)),$(shell hostname -f),$(HOST))
TEAM_ENV = PREFECT_API_URL=$${PREFECT_API_URL:-http://$(REACH_HOST):$(PREFECT_PORT)/api} \
	MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-http://$(REACH_HOST):$(MLFLOW_PORT)} \
	KERAS_MLOPS_DIR=$(CURDIR) NIGHTLY_TIMEZONE=$(NIGHTLY_TIMEZONE) PATH=$(CURDIR)/$(BIN):$$PATH

# DB_URL goes through the environment and is not echoed: a PostgreSQL URL may hold a password. Credentials come
# from the environment only (flows/server_auth.py): MLFLOW_AUTH_ADMIN_PASSWORD and PREFECT_API_AUTH_STRING,
# required on any HOST but loopback.
server: $(INSTALLED)
	@echo "starting the Prefect and MLflow servers (python -m flows.ops.servers start --state $(RUN_DIR)/servers.json ...)"
	@MLFLOW_BACKEND_STORE_URI='$(DB_URL)' MLFLOW_AUTH_STORE_URI='$(AUTH_DB_URL)' \
		PREFECT_PUBLIC_URL='$(PREFECT_PUBLIC_URL)' \
		$(BIN)/python -m flows.ops.servers start --state $(RUN_DIR)/servers.json \
		--host $(HOST) --prefect-port $(PREFECT_PORT) --mlflow-port $(MLFLOW_PORT) --artifacts $(ARTIFACTS)

stop:
	$(BIN)/python -m flows.ops.servers stop --state $(RUN_DIR)/servers.json

deploy: $(INSTALLED)
	$(TEAM_ENV) $(BIN)/prefect work-pool create gpu --type process --overwrite
	$(TEAM_ENV) $(BIN)/prefect work-pool set-concurrency-limit gpu $(GPUS)
	$(TEAM_ENV) $(BIN)/prefect work-pool create cpu --type process --overwrite
	$(TEAM_ENV) $(BIN)/prefect --no-prompt deploy --all
	$(TEAM_ENV) $(BIN)/python -m flows.ops.notices --deployment training-pipeline/nightly \
		--deadline-hours $(NIGHTLY_DEADLINE_HOURS)

# One worker per GPU: CUDA_VISIBLE_DEVICES=1 make worker POOL=gpu, and RUNS=1 keeps one flow run per GPU.
worker: $(INSTALLED)
	$(TEAM_ENV) $(BIN)/prefect worker start --pool $(POOL) --type process --limit $(RUNS)

# As the MLflow admin (MLFLOW_TRACKING_USERNAME/PASSWORD); the new password from MLFLOW_NEW_USER_PASSWORD or asked.
user: $(INSTALLED)
	@test -n "$(NAME)" || { echo "make user NAME=alice [PERMISSION=READ|EDIT|MANAGE]"; exit 2; }
	@$(TEAM_ENV) $(BIN)/python -m flows.ops.users '$(NAME)' --permission $(PERMISSION)

clean:
	rm -rf $(VENV) build *.egg-info
