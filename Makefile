# Active Labs LMS. `make run` and `make test` do all the set-up on a fresh Debian/Ubuntu machine.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app lms
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test serve lint format translations translations-compile check-system clean

help:
	@echo "make run           set up, migrate, load demo data, serve on http://127.0.0.1:5000"
	@echo "make test          set up and run the whole test suite"
	@echo "make serve         gunicorn with several workers (production-like)"
	@echo "make lint          ruff check + ruff format --check"
	@echo "make translations  extract strings, update the .po files, compile them"
	@echo "make clean         remove the virtualenv and caches (keeps instance/)"

check-system:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || \
	  { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version 2>&1))." >&2; exit 1; }
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
	  { echo "Python's venv module is missing: sudo apt-get install python3-venv" >&2; exit 1; }
	@$(PYTHON) -c 'import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library("pango-1.0") else 1)' || \
	  { echo "WeasyPrint needs Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0" >&2; exit 1; }
	@$(PYTHON) -c 'import ctypes.util, sys; sys.exit(0 if ctypes.util.find_library("harfbuzz-subset") else 1)' || \
	  echo "Note: libharfbuzz-subset0 is not installed; certificates do not need it (see README)" >&2

$(STAMP): pyproject.toml | check-system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgres,serve,test,dev]'
	@touch $(STAMP)

translations-compile: $(STAMP)
	$(BIN)/pybabel compile -d lms/translations --statistics

run: $(STAMP) translations-compile
	$(FLASK) db upgrade
	$(FLASK) lms seed-demo --if-empty
	@$(FLASK) lms keys create | head -1
	@echo ""
	@echo "  Active Labs LMS on http://127.0.0.1:5000  (Ctrl+C to stop)"
	@echo "  E-mails are written to instance/mail.log by the worker (started alongside)"
	@echo ""
	@# The worker (outbox, seat offers, retention) runs beside the web server and stops with it.
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  $(FLASK) lms worker & worker=$$!; \
	  $(FLASK) run --debug --host 127.0.0.1 --port 5000

test: $(STAMP) translations-compile
	$(BIN)/pytest $(PYTEST_ARGS)

serve: $(STAMP) translations-compile
	$(FLASK) db upgrade
	LMS_LOG_FORMAT=$${LMS_LOG_FORMAT:-json} $(BIN)/gunicorn --workers $${WORKERS:-4} --bind $${BIND:-127.0.0.1:8000} 'lms:create_app()'

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 \
	  --ignore-dirs='.* __pycache__' --no-location --sort-output --project "Active Labs LMS" \
	  --width 100 -o lms/translations/messages.pot lms
	$(BIN)/pybabel update --width 100 -i lms/translations/messages.pot -d lms/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d lms/translations -f

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
