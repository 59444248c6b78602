# The commands a person types. The README names two of them: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup sysdeps messages lint audit format ci clean

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

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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
