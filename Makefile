# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here supports them or CI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run prod test lint format schema bench clean venv

# Re-install only when a requirements file changes.
$(BIN)/.installed-runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: requirements.txt requirements-dev.txt $(BIN)/.installed-runtime
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(BIN)/.installed-dev

## make run: install, migrate, load the seed corpus, serve on http://127.0.0.1:8000 (debug on)
run: export DJANGO_DEBUG ?= 1
run: $(BIN)/.installed-runtime
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_seeds
	@echo ""
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  API:       http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/  (Redoc: /api/redoc/, schema: /api/schema/)"
	@echo "  Create an admin user:  $(BIN)/python manage.py createsuperuser"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make prod: the production stack without Docker: nginx on PORT (8000) in front of gunicorn, against DATABASE_URL; Ctrl-C stops
prod: export DJANGO_DEBUG = 0
prod: $(BIN)/.installed-runtime
	$(BIN)/python deploy/prod.py --host $(HOST) --port $(PORT)

## make test: the whole suite; on PostgreSQL when DATABASE_URL points there, else SQLite
test: export DJANGO_SECRET_KEY ?= insecure-key-for-tests-only
test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make schema: regenerate the committed OpenAPI snapshot after an intended API change
schema: export DJANGO_SECRET_KEY ?= insecure-key-for-tests-only
schema: $(BIN)/.installed-dev
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file tests/snapshots/openapi.yaml

## make bench: throughput benchmark against PostgreSQL (see docs/PERFORMANCE.md)
bench: export DJANGO_SECRET_KEY ?= insecure-key-for-bench-only
bench: $(BIN)/.installed-dev
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
