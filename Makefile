# Two commands for a fresh Debian/Ubuntu machine (root or passwordless sudo):
#   make run    set up, migrate, load the Beijing demo if the database is empty, serve on 127.0.0.1:8000 (gunicorn)
#   make dev    the same, served by Django's runserver with reload on code changes
#   make test   set up, then ruff, makemigrations --check and the whole pytest suite
# With DATABASE_URL set, both use that PostGIS instead of the project's own cluster.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY := .venv/bin/python
SETUP = setup_env="$$(bash scripts/setup.sh)"; eval "$$setup_env"
HOST ?= 127.0.0.1
PORT ?= 8000
# Migrate and load the demo where it is missing (idempotent); run and dev do it after set-up.
PREPARE = $(PY) manage.py migrate --noinput; \
	$(PY) manage.py demo_load --if-empty; \
	$(PY) manage.py gazetteer_demo_load --if-empty; \
	$(PY) manage.py complaints_demo_load --if-empty; \
	$(PY) manage.py hotspots_demo_load --if-empty; \
	$(PY) manage.py desk_demo_load; \
	$(PY) manage.py complaint_cells

.PHONY: run dev test setup db-stop demo lint

setup:
	@$(SETUP); echo "ready: $$DATABASE_URL"

# The demo-friendly local settings unless DJANGO_SETTINGS_MODULE says otherwise (config.wsgi alone would pick
# production); every step below uses the same settings.
run:
	@$(SETUP); \
	export DJANGO_SETTINGS_MODULE="$${DJANGO_SETTINGS_MODULE:-config.settings.local}"; \
	$(PREPARE); \
	$(PY) manage.py collectstatic --noinput --verbosity 0; \
	echo "Shaozi 哨子: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"; \
	HOST=$(HOST) PORT=$(PORT) exec .venv/bin/gunicorn --config config/gunicorn.py

dev:
	@$(SETUP); \
	export DJANGO_SETTINGS_MODULE="$${DJANGO_SETTINGS_MODULE:-config.settings.local}"; \
	$(PREPARE); \
	echo "Shaozi 哨子 (dev, reload): http://$(HOST):$(PORT)/"; \
	DJANGO_DEBUG=1 exec $(PY) manage.py runserver $(HOST):$(PORT)

test:
	@export SHAOZI_WITH_BROWSER=1; $(SETUP); \
	.venv/bin/ruff check .; \
	.venv/bin/ruff format --check .; \
	.venv/bin/lint-imports; \
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run; \
	status=0; .venv/bin/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; status=0; fi; exit $$status

demo:
	@$(SETUP); $(PY) manage.py migrate --noinput; $(PY) manage.py demo_load; $(PY) manage.py gazetteer_demo_load; \
	  $(PY) manage.py complaints_demo_load; $(PY) manage.py hotspots_demo_load; $(PY) manage.py complaint_cells

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

db-stop:
	@data="$$(cat .pgdata-path 2>/dev/null || echo .pgdata)"; if [ -f "$$data/PG_VERSION" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$$data" stop; \
	  else /usr/lib/postgresql/15/bin/pg_ctl -D "$$data" stop; fi; fi
