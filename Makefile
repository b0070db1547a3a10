# Two commands for people: `make demo` and `make test`. Both install what they need first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV := python3 -m uv
PO := $(wildcard src/deskbridge/locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)
export UV_PYTHON := python3
export PYTHONDONTWRITEBYTECODE := 1
# Where the second test run finds PostgreSQL and Redis (the machine runs both).
PG_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: demo test install lint typecheck unit pg browser messages clean

demo: install
	$(BIN)/deskbridge demo

test: install lint typecheck unit pg

install: $(VENV)/.installed /usr/bin/chromium $(MO)

$(VENV)/.installed: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	$(UV) sync --frozen --extra test --quiet
	@touch $@

/usr/bin/chromium /usr/bin/msgfmt:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium gettext >/dev/null

%.mo: %.po | /usr/bin/msgfmt
	msgfmt --check -o $@ $<

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

# The whole suite on SQLite and the embedded queue, browser tests included.
unit: install
	$(BIN)/pytest -n 2 --dist loadfile

# The same suite again on PostgreSQL and Redis (browser tests do not depend on either).
pg: install
	DESKBRIDGE_DATABASE_URL=$(PG_URL) DESKBRIDGE_QUEUE_URL=$(REDIS_URL) $(BIN)/pytest -n 2 --dist loadfile -m "not browser"

messages: install
	cd src/deskbridge && DESKBRIDGE_DEMO=1 DESKBRIDGE_DATA_DIR=$$(mktemp -d) ../../$(BIN)/deskbridge makemessages -l zh_Hans --no-obsolete --no-location --ignore 'sandbox/*'

clean:
	rm -rf $(VENV) var
