# The README's commands. Everything the project needs is installed from here.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STAMP = $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/relais_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/9

.PHONY: install run test quality format chromium bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py demo_load
	@echo "Relais : http://$(HOST):$(PORT)/"
	$(BIN)/daphne -b $(HOST) -p $(PORT) network.asgi:application

test: install chromium
	$(BIN)/pytest

quality: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/djlint templates --check
	$(BIN)/djlint templates --lint
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/djlint templates --reformat --quiet || $(BIN)/djlint templates --check

# The browser tests (tests/e2e) drive Debian's Chromium; Playwright downloads nothing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && apt-get install -y -q chromium; \
	  else \
	    echo "The browser tests need Debian's Chromium: sudo apt-get install -y chromium"; \
	  fi; \
	fi

# Seeds a national-scale network on PostgreSQL + Redis (or reuses the one seeded less than a day
# ago) and measures it: docs/benchmarks.md and docs/benchmarks.json. Starts the local PostgreSQL
# and Redis as .ci/run does when they do not answer.
bench: install
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start; \
	fi
	@if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then \
	  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
	    --dir /var/lib/redis --logfile /var/log/redis/bench.log; \
	fi
	@for _ in $$(seq 1 30); do \
	  pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; \
	  sleep 1; \
	done
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" BENCH_REDIS_URL="$(BENCH_REDIS_URL)" \
	  $(BIN)/python -m bench --scale national --output docs/benchmarks.md
