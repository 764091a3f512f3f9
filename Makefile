# The two commands a newcomer needs: `make run` and `make test`. Everything else builds on them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
SERVE_PORT ?= 5001
STORE  ?= $(CURDIR)/mlruns/mlflow.db
ARGS   ?=

# Reinstall only when pyproject.toml changed (or the venv is missing): the stamps record the last install.
INSTALLED      := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast ui serve lint clean help
help:
	@echo "make run        install (first time) and run the whole pipeline on the default data (ARGS='--profile quick')"
	@echo "make test       install the test extras and run the whole suite (e2e included)"
	@echo "make test-fast  the suite without the slow end-to-end tests"
	@echo "make ui         open the MLflow UI on the local store at http://127.0.0.1:$(PORT)"
	@echo "make serve      serve models:/$(MODEL)@champion on http://127.0.0.1:$(SERVE_PORT)/invocations"
	@echo "make lint       ruff"

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(TEST_INSTALLED): $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

run: $(INSTALLED)
	$(BIN)/python -m flows run $(ARGS)

test: $(TEST_INSTALLED)
	$(BIN)/ruff check flows training tuning tests
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-fast: $(TEST_INSTALLED)
	$(BIN)/python -m pytest -q -m "not e2e" $(PYTEST_ARGS)

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check flows training tuning tests

ui: $(INSTALLED)
	@mkdir -p $(dir $(STORE))
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false MLFLOW_DISABLE_TELEMETRY=true \
		$(BIN)/mlflow ui --backend-store-uri sqlite:///$(STORE) --host 127.0.0.1 --port $(PORT) --workers 1

MODEL ?= keras-mlops-model
serve: $(INSTALLED)
	PATH=$(CURDIR)/$(BIN):$$PATH MLFLOW_TRACKING_URI=$${MLFLOW_TRACKING_URI:-sqlite:///$(STORE)} \
		$(BIN)/mlflow models serve -m "models:/$(MODEL)@champion" --env-manager local -h 127.0.0.1 -p $(SERVE_PORT)

clean:
	rm -rf $(VENV) build *.egg-info
