# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here supports them or CI.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run prod superuser token test lint format schema bench eval clean venv

# The development secret key: made once, kept in a git-ignored file, so
# sessions survive a restart of `make run`. The commands below (`make run`,
# `make superuser`, `make token`) all use it, and only with debug on: with
# DJANGO_DEBUG=0 they pass no key, and the app refuses to start without a
# DJANGO_SECRET_KEY of its own, as in production. An explicitly set
# DJANGO_SECRET_KEY always wins.
DEV_KEY_FILE ?= .dev-secret-key
DEV_ENV = DJANGO_DEBUG="$${DJANGO_DEBUG:-1}" \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$( [ "$${DJANGO_DEBUG:-1}" = 1 ] && cat '$(DEV_KEY_FILE)' )}"

$(DEV_KEY_FILE):
	umask 077 && $(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@

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

## make run: install, migrate, load the seed corpus, serve on http://127.0.0.1:8000 (debug on) with the webhook worker
run: $(BIN)/.installed-runtime $(DEV_KEY_FILE)
	$(DEV_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEV_ENV) $(BIN)/python manage.py load_seeds
	@echo ""
	@echo "  Admin:     http://$(HOST):$(PORT)/admin/"
	@echo "  API:       http://$(HOST):$(PORT)/api/v1/"
	@echo "  API docs:  http://$(HOST):$(PORT)/api/docs/  (Redoc: /api/redoc/, schema: /api/schema/)"
	@echo "  Create an admin user (in another shell):  make superuser"
	@echo "  Issue an API token for a user:            make token FOR=<username>"
	@echo ""
	@# The webhook worker runs beside the server; Ctrl-C (or the server
	@# exiting) stops both. Webhook payloads link to this server
	@# (PUBLIC_BASE_URL, from HOST and PORT unless set).
	$(DEV_ENV) PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
		$(BIN)/python manage.py webhooks_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) PUBLIC_BASE_URL="$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}" \
		$(BIN)/python manage.py runserver $(HOST):$(PORT)

## make superuser: create an admin user for `make run` (ARGS=--noinput reads DJANGO_SUPERUSER_* variables)
superuser: $(BIN)/.installed-runtime $(DEV_KEY_FILE)
	$(DEV_ENV) $(BIN)/python manage.py createsuperuser $(ARGS)

## make token FOR=<username>: issue an API token for that user and print it once
token: $(BIN)/.installed-runtime $(DEV_KEY_FILE)
	@test -n "$(FOR)" || { echo "Name the user: make token FOR=<username>" >&2; exit 2; }
	@$(DEV_ENV) $(BIN)/python manage.py issue_token '$(FOR)' $(ARGS)

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

## make bench: throughput benchmark against PostgreSQL at 100k and 1M proposals (see docs/PERFORMANCE.md)
# BENCH_SIZES=100k for one size; the cache is a local Redis (db 15) when one answers, BENCH_REDIS=redis://... for another, BENCH_REDIS= for the file cache; BENCH_PORT for a fixed port.
BENCH_SIZES ?= 100k,1M
bench: export DJANGO_SECRET_KEY ?= insecure-key-for-bench-only
bench: $(BIN)/.installed-dev
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)

## make eval: score the suggestion step (seed texts, later-news documents, 100 KB speed); see docs/SUGGESTIONS.md
eval: export DJANGO_SECRET_KEY ?= insecure-key-for-eval-only
eval: $(BIN)/.installed-runtime
	$(BIN)/python bench/eval_suggestions.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
