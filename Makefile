# The two commands of the quickstart: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install run worker-local worker-upstream beat test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip "setuptools<82" wheel

EXAMPLE_PLUGIN := tests/plugins/kyc-example-verifier
# A third-party adapter package for tests/test_plugin_package.py, installed offline (its only
# build requirement, setuptools, is already in the venv; its one dependency is this service).

CLIENT := clients/python
# The light client (kyc-client: requests only); its tests run against a live service.

$(STAMP): $(BIN)/python setup.cfg pyproject.toml $(EXAMPLE_PLUGIN)/pyproject.toml $(CLIENT)/pyproject.toml
	$(BIN)/pip install -e ".[test,tencent,alibaba]"
	$(BIN)/pip install --no-deps "face-recognition==1.3.0"
	$(BIN)/pip install --no-deps --no-build-isolation -e $(EXAMPLE_PLUGIN)
	$(BIN)/pip install --no-deps --no-build-isolation -e $(CLIENT)
	touch $(STAMP)

install: $(STAMP)  ## the service with face matching and OCR, and the test tools

run: install  ## ./var/ (SQLite, KEK, test key), migrations, then serve on 127.0.0.1:$(PORT)
	$(BIN)/kyc-service dev-setup
	$(BIN)/kyc-service serve --host 127.0.0.1 --port $(PORT)

# Past one machine (README § Scaling out): with KYC_EXECUTOR=celery and KYC_BROKER_URL set
# (in the environment or ./.env), `make run` enqueues the checks and these run them; the
# same commands as docker-compose.yml's services.
worker-local: install  ## the CPU-bound checks (images, OCR, faces): one process per core
	$(BIN)/kyc-service worker --queues local

worker-upstream: install  ## the verifier calls, webhooks and housekeeping: 32 threads
	$(BIN)/kyc-service worker --queues upstream --concurrency 32

beat: install  ## the periodic jobs (retries, webhooks, deposit expiry, retention)
	$(BIN)/kyc-service beat --schedule-file var/beat-schedule

test: install  ## the whole suite (SQLite, and PostgreSQL when KYC_TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
