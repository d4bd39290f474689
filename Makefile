# The two commands a newcomer needs: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The page library (wa-js) the worker injects, pinned in package.json and package-lock.json.
NODE_STAMP := node_modules/.installed

.PHONY: run test lint bench clean system-packages

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js and npm are needed for the page library: apt-get install -y nodejs npm" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $(NODE_STAMP)

# Chromium, ChromeDriver, cron and promtool from Debian (installed when run as root).
system-packages:
	.ci/system-packages

# The whole platform on the embedded defaults: SQLite and the local WhatsApp Web simulator.
run: export DEBUG ?= 1
run: export LOG_FORMAT ?= pretty
run: export WHATSAPP_WEB_URL ?= http://127.0.0.1:9000/
# Time to read the README before the demo's login gives up: 30 codes of 20 s, 10 minutes.
run: export QR_MAX_REFRESHES ?= 30
# A known key for the portal API's curl example (seed_demo prints it); production sets its own.
run: export PORTAL_INTERNAL_KEY ?= demo-portal-key
# A bot on this machine (the README's echo bot) may receive the demo tenant's webhooks.
run: export WEBHOOK_ALLOW_PRIVATE_URLS ?= 1
run: $(STAMP) $(NODE_STAMP) system-packages
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	$(PY) manage.py run_platform --tenant "Demo Bakery"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run --skip-checks
	$(VENV)/bin/mypy

# The whole suite; on SQLite unless DATABASE_URL points elsewhere (CI: PostgreSQL).
test: $(STAMP) $(NODE_STAMP) system-packages lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) node_modules var db.sqlite3 db.sqlite3-*

# Speed and memory figures, each against a baseline measured in the same run.
# BENCH_CONNECTED_SECONDS=60 make bench  for a quicker (less faithful) memory figure.
bench: export DEBUG ?= 1
bench: $(STAMP) $(NODE_STAMP) system-packages
	$(PY) -m tests.bench
