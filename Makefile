# The README's commands. Each one sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: install run serve test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps "recbole==1.2.1"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

## make run: the app with demo data at http://127.0.0.1:8000 (SQLite, embedded broker)
run: install
	bin/start

## make test: lint (ruff, the layers contract, types), then the whole test suite (browser
## tests need /usr/bin/chromium)
test: lint
	CANDOR_VAR_DIR=$(CURDIR)/var/test $(PY) -m pytest $(PYTEST_ARGS)

## make lint: ruff, the layers contract (import-linter), and types where they are promised
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make serve: the production profile locally (DEBUG=0): collectstatic, migrate, then
## gunicorn + worker + beat (honcho + Procfile.prod). Needs SECRET_KEY,
## FIELD_ENCRYPTION_KEYS, DATABASE_URL, REDIS_URL, EMAIL_URL (README "Production"); over
## plain HTTP on this machine also SECURE_SSL_REDIRECT=0.
serve: export DEBUG = 0
serve: install
	$(PY) manage.py collectstatic --noinput -v 0
	$(PY) manage.py migrate --noinput
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile.prod

## make bench: benchmarks with ratios against baselines measured in the same run
## (bench_widget uses Debian's wrk as its load generator: installed here when missing and
## running as root; without it the benchmark falls back to a Python client)
bench: install
	@if ! command -v wrk >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get install -y -q wrk >/dev/null || echo "wrk not installed: Python load generator"; \
	fi
	CANDOR_VAR_DIR=$(CURDIR)/var/bench $(PY) tests/benchmarks/run.py

clean:
	rm -rf var $(VENV)
