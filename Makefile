# The commands a person types. The README names two of them: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup sysdeps messages lint audit format ci clean bench bench-small

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

sysdeps:
	@scripts/ensure-system-deps.sh

messages: $(STAMP)
	@$(PY) manage.py compilemessages --ignore=$(VENV) -v 0

setup: sysdeps $(STAMP) messages
	$(PY) manage.py migrate --noinput -v 0

## make run: set everything up, load the demo school and serve http://127.0.0.1:8000
run: setup
	$(PY) manage.py load_demo
	@echo "Open http://$(HOST):$(PORT)/ — log in as audzinataja, koordinators, socpedagogs, psihologs, pasvaldiba or ikvd (password: demo)"
	@# The task worker (PDF bundles) runs beside the web server and stops with it.
	@$(PY) manage.py db_worker --interval 1 & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

## make test: the whole test suite (SQLite; DATABASE_URL=postgres://… for PostgreSQL)
test: sysdeps $(STAMP) messages
	$(PY) -m pytest $(PYTEST_ARGS)

## make bench: the benchmark on PostgreSQL at national size (bench/README.md); BENCH_SIZE=small
## or `make bench-small` for a quick run. Not part of CI.
BENCH_SIZE ?= national
BENCH_DB := $(if $(filter small,$(BENCH_SIZE)),iap_bench_small,iap_bench)
BENCH_URL := postgres://postgres@127.0.0.1:5432/$(BENCH_DB)
BENCH_FLAGS := $(if $(filter small,$(BENCH_SIZE)),--small --seconds 20 --memory-plans 300 --output bench/results-small.md,)

bench: $(STAMP) messages
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect 15 main start
	@command -v wrk >/dev/null || [ "$$(id -u)" != 0 ] || apt-get install -y -qq wrk >/dev/null
	@psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(BENCH_DB)'" \
	  | grep -q 1 || createdb -h 127.0.0.1 -U postgres $(BENCH_DB)
	DATABASE_URL=$(BENCH_URL) $(PY) manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_URL) $(PY) -m bench.generate_national_data $(filter --small,$(BENCH_FLAGS))
	DATABASE_URL=$(BENCH_URL) timeout 1800 $(PY) bench/run.py --size $(BENCH_SIZE) \
	  $(filter-out --small,$(BENCH_FLAGS)) $(BENCH_ARGS)

bench-small:
	$(MAKE) bench BENCH_SIZE=small

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

## make audit: the offline dependency audit CI runs (scripts/audit-dependencies.py)
audit: $(STAMP)
	$(PY) scripts/audit-dependencies.py

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

ci:
	.ci/run

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
