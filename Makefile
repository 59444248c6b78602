# The commands a person types. The README names two of them: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# requirements.txt is what the application needs (a production server installs only it);
# requirements-dev.txt holds the same pins plus the tests, lint and benchmark tools. Both are
# generated from pyproject.toml by `make lock`, pinned and hashed: pip refuses anything else.
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check --require-hashes
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup sysdeps messages lint audit format ci clean bench bench-small bench-load bench-data lock smoke

$(PY):
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(DEV): requirements-dev.txt $(RUNTIME)
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

## make lock: regenerate requirements.txt and requirements-dev.txt after changing the direct
## dependencies in pyproject.toml; keeps every other pin. Upgrade one package with
## `make lock LOCK_ARGS="--upgrade-package django"`, everything with LOCK_ARGS=--upgrade.
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --quiet --generate-hashes --python-version 3.11 \
  --custom-compile-command "make lock" $(LOCK_ARGS)
lock: $(DEV)
	$(LOCK) -o requirements.txt
	$(LOCK) --group dev -c requirements.txt -o requirements-dev.txt

sysdeps:
	@scripts/ensure-system-deps.sh

messages: $(RUNTIME)
	@$(PY) manage.py compilemessages --ignore=$(VENV) -v 0

setup: sysdeps $(RUNTIME) messages
	$(PY) manage.py migrate --noinput -v 0

## make run: set everything up, load the demo school and serve http://127.0.0.1:8000
## (the runtime packages only: the demo data are written by the app's own code)
run: setup
	@# load_demo prints the demo logins (once).
	$(PY) manage.py load_demo
	@echo "Open http://$(HOST):$(PORT)/"
	@# The task worker (PDF bundles) runs beside the web server, once: --no-reload keeps it
	@# out of an auto-reloader of its own (with DEBUG it would run under one), and runserver's
	@# reloader restarts only the server. It stops with the server (Ctrl-C, or the server
	@# ending), and the recipe waits until it has.
	@$(PY) manage.py db_worker --interval 1 --no-reload & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT HUP INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole test suite (SQLite; DATABASE_URL=postgres://… for PostgreSQL)
test: sysdeps $(DEV) messages
	$(PY) -m pytest $(PYTEST_ARGS)

## make smoke: the production stack end to end, from the files in deploy/ (nginx with TLS,
## gunicorn and a task worker, PostgreSQL, IAP_ENV=production, requirements.txt only) and a
## browser journey through it (scripts/smoke-production.sh; bounded by SMOKE_TIMEOUT, 170 s).
## CI runs it.
smoke: sysdeps $(DEV)
	scripts/smoke-production.sh $(SMOKE_ARGS)

## make bench: the benchmark on PostgreSQL at national size (bench/README.md); BENCH_SIZE=small
## or `make bench-small` for a quick run. Not part of CI.
BENCH_SIZE ?= national
BENCH_DB := $(if $(filter small,$(BENCH_SIZE)),iap_bench_small,iap_bench)
BENCH_URL := postgres://postgres@127.0.0.1:5432/$(BENCH_DB)
BENCH_FLAGS := $(if $(filter small,$(BENCH_SIZE)),--small --memory-plans 300 --output bench/results-small.md,)

bench: bench-data
	DATABASE_URL=$(BENCH_URL) timeout 1800 $(PY) bench/run.py --size $(BENCH_SIZE) \
	  $(filter-out --small,$(BENCH_FLAGS)) $(BENCH_ARGS)
	$(MAKE) bench-load BENCH_SIZE=$(BENCH_SIZE)

bench-data: $(DEV) messages
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect 15 main start
	@for tool in wrk nginx; do command -v $$tool >/dev/null || [ "$$(id -u)" != 0 ] \
	  || apt-get install -y -qq --no-install-recommends $$tool >/dev/null; done
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" \
	  | grep -q 1 || createdb -h 127.0.0.1 -U postgres $(BENCH_DB)
	DATABASE_URL=$(BENCH_URL) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_URL) $(PY) -m bench.generate_national_data $(filter --small,$(BENCH_FLAGS))

## make bench-load: the load test through the stack as deployed (bench/load.py): nginx with the
## shipped site and TLS in front of gunicorn started from deploy/gunicorn.conf.py, IAP_ENV=production;
## the read journey (also over plain HTTP and straight to gunicorn), saturation, and the write
## journey of 50 teachers beside 50 readers, each run repeated; rewrites the "Load" section of
## bench/results.md. On a scratch copy of the data set (the write journey adds plans), dropped
## afterwards. LOAD_ARGS="--repeats 5 --seconds 60" etc.
BENCH_LOAD_DB := $(BENCH_DB)_load
LOAD_OUTPUT := $(if $(filter small,$(BENCH_SIZE)),--output bench/results-small.md --seconds 20,)
bench-load: bench-data
	psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(BENCH_LOAD_DB)"
	psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $(BENCH_LOAD_DB) TEMPLATE $(BENCH_DB)"
	DATABASE_URL=postgres://postgres@127.0.0.1:5432/$(BENCH_LOAD_DB) timeout 3600 \
	  $(PY) -m bench.load $(LOAD_OUTPUT) $(LOAD_ARGS); status=$$?; \
	  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $(BENCH_LOAD_DB)"; exit $$status

bench-small:
	$(MAKE) bench BENCH_SIZE=small

lint: $(DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## make audit: the offline dependency audit CI runs (scripts/audit-dependencies.py)
audit: $(DEV)
	$(PY) scripts/audit-dependencies.py

format: $(DEV)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

ci:
	.ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
