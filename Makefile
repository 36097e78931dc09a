# Two commands for a fresh Debian/Ubuntu machine (root or passwordless sudo):
#   make run    set up, migrate, load the Beijing demo if the database is empty, serve on 127.0.0.1:8000
#   make test   set up, then ruff, makemigrations --check and the whole pytest suite
# With DATABASE_URL set, both use that PostGIS instead of the project's own cluster.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PY := .venv/bin/python
SETUP = setup_env="$$(bash scripts/setup.sh)"; eval "$$setup_env"
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test setup db-stop demo lint

setup:
	@$(SETUP); echo "ready: $$DATABASE_URL"

run:
	@$(SETUP); \
	$(PY) manage.py migrate --noinput; \
	$(PY) manage.py demo_load --if-empty; \
	$(PY) manage.py gazetteer_demo_load --if-empty; \
	$(PY) manage.py complaints_demo_load --if-empty; \
	$(PY) manage.py hotspots_demo_load --if-empty; \
	$(PY) manage.py complaint_cells; \
	echo "Shaozi 哨子: http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"; \
	exec $(PY) manage.py runserver --noreload $(HOST):$(PORT)

test:
	@export SHAOZI_WITH_BROWSER=1; $(SETUP); \
	.venv/bin/ruff check .; \
	.venv/bin/ruff format --check .; \
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run; \
	status=0; .venv/bin/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; status=0; fi; exit $$status

demo:
	@$(SETUP); $(PY) manage.py migrate --noinput; $(PY) manage.py demo_load; $(PY) manage.py gazetteer_demo_load; \
	  $(PY) manage.py complaints_demo_load; $(PY) manage.py hotspots_demo_load; $(PY) manage.py complaint_cells

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

db-stop:
	@if [ -f .pgdata/PG_VERSION ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D .pgdata stop; \
	  else /usr/lib/postgresql/15/bin/pg_ctl -D .pgdata stop; fi; fi
