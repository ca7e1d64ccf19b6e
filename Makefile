# upay: event-sourced ledger and settlement engine.
# Fresh machine: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need (Debian packages as root) before they start.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/upay
DEMO := demo
# Packages with concurrency run again under the race detector.
RACE_PKGS := ./ledger/... ./ingest/... ./adapters/secretfile/... ./adapters/sqlite/... ./adapters/storetest/... ./projections/... ./adapters/sqlitemodels/... ./balance/... ./payouts/... ./merchants/... ./adapters/httpapi/... ./notice/... ./adapters/postgres/... ./adapters/pgmodels/... ./adapters/pgschema/... ./adapters/logfeed/... ./adapters/memmodels/... ./adapters/readgate/...
DEB_PKGS := 7zip poppler-utils fonts-ipaexfont-gothic

.PHONY: all build test test-race bench lint fmt demo demo-pg demo-steps deps clean fuzz

all: build

build:
	$(GO) build -o $(BIN) ./cmd/upay

# deps installs the Debian packages the tests drive for real (7-Zip checks
# the encrypted ZIPs). Skipped when already present; needs root otherwise.
deps:
	@missing=""; for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi; \
	fi

# test starts the machine's PostgreSQL (scripts/pg-up) and hands its URL to
# the PostgreSQL tests, which make and drop a database per test. Under
# CI=true a PostgreSQL that cannot be started fails the run.
test: deps lint
	@url=$$(scripts/pg-up) || exit 1; export UPAY_TEST_PG="$$url"; \
	[ -n "$$url" ] || echo "PostgreSQL unavailable: its tests will skip (see scripts/pg-up)"; \
	set -x; $(GO) test -count=1 ./... && $(GO) test -count=1 -race $(RACE_PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench runs every benchmark once over a fixed time; docs/benchmarks.md says
# how the published figures were made.
bench:
	@url=$$(scripts/pg-up) || exit 1; export UPAY_TEST_PG="$$url"; \
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=3x -timeout 60m ./...

fuzz:
	$(GO) test ./ingest/ -run='^$$' -fuzz=FuzzDecode -fuzztime=30s

# demo: the whole month on the embedded store under ./demo: generate and
# ingest October 2019 for 3 merchants, verify the hash chains, register the
# merchants (the third banks with Mizuho: no transfer fee), run the payout
# batches of the month's paydays and print them, then read the projections
# (an admin search and a balance).
demo: build
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	@$(MAKE) --no-print-directory demo-steps DEMO=$(DEMO) DEMO_STORE=$(DEMO)/upay.db

# demo-pg: the same month on PostgreSQL: starts the machine's server
# (scripts/pg-up), makes a fresh database upay_demo, migrates it and runs the
# same steps with --store postgres://...; secrets stay in demo-pg/secrets.
PG_DEMO := $(DEMO)-pg
demo-pg: build
	rm -rf $(PG_DEMO) && mkdir -p $(PG_DEMO)
	@url=$$(CI=true scripts/pg-up) || exit 1; \
	PGOPTIONS="-c client_min_messages=warning" psql "$$url" -qc "DROP DATABASE IF EXISTS upay_demo WITH (FORCE)" -c "CREATE DATABASE upay_demo" || exit 1; \
	store="$${url/\/postgres\?//upay_demo?}"; echo "demo store: $$store"; \
	$(BIN) --store "$$store" migrate && \
	UPAY_SECRETS=$(PG_DEMO)/secrets $(MAKE) --no-print-directory demo-steps DEMO=$(PG_DEMO) DEMO_STORE="$$store"

# demo-steps needs DEMO (an output directory) and DEMO_STORE.
demo-steps:
	$(BIN) gen --merchants 3 --days 30 --per-day 300 --seed 1 --start 2019-10-01 -o $(DEMO)/month.jsonl
	$(BIN) --store '$(DEMO_STORE)' ingest -q --import $(DEMO)/month.jsonl
	$(BIN) --store '$(DEMO_STORE)' events --verify
	@for i in 1 2 3; do bank=0010; bname=りそな銀行; if [ $$i = 3 ]; then bank=0001; bname=みずほ銀行; fi; \
	  $(BIN) --store '$(DEMO_STORE)' merchant add --id 27000000$$i --name "デモ商店$$i" --contact "担当 $$i" \
	    --email shop$$i@example.jp --bank-code $$bank --bank-name $$bname --branch-code 101 --branch-name 本店 \
	    --account-number 123456$$i --holder "ﾃﾞﾓｼﾖｳﾃﾝ$$i" --rate-visa-master 3.24 --rate-jcb-other 3.74 \
	    --rate-emoney 3.24 --notice-password-file - <<< "12345678$$i" || exit 1; done
	$(BIN) --store '$(DEMO_STORE)' calendar paydays --from 2019-10 --to 2019-10
	@for d in 2019-10-31 2019-11-15 2019-11-29; do echo; echo "== payout batch for $$d"; \
	  $(BIN) --store '$(DEMO_STORE)' payout run -q --payday $$d || exit 1; done
	@echo; $(BIN) --store '$(DEMO_STORE)' payout show 270000001 2019-10-31
	@echo; echo "== payout notices for 2019-10-31 (encrypted ZIPs)"
	$(BIN) --store '$(DEMO_STORE)' notice issue -q --payday 2019-10-31 --out $(DEMO)/notices
	$(BIN) --store '$(DEMO_STORE)' payout transfer-file --payday 2019-10-31 --remitter docs/examples/remitter.json --out $(DEMO)/transfer-20191031.txt
	@echo "notices: $(DEMO)/notices/*.zip -- open one with 7-Zip and the merchant's 9-digit password,"
	@echo "  e.g. 7zz x -p123456781 $(DEMO)/notices/270000001-001-20191031.zip (demo passwords: 12345678N for merchant 27000000N)"
	@echo; echo "== admin search: merchant 270000001, 2019-10-15, amounts from 50,000 yen"
	$(BIN) --store '$(DEMO_STORE)' tx search --merchant 270000001 --from 2019-10-15 --to 2019-10-15 --min 50000
	@echo; echo "== balance of 270000001 as of 2019-10-31"
	$(BIN) --store '$(DEMO_STORE)' balance 270000001 --as-of 2019-10-31
	@echo; echo "== the bank executed 270000001's 2019-10-31 transfer"
	$(BIN) --store '$(DEMO_STORE)' payout mark-paid 270000001 2019-10-31
	$(BIN) --store '$(DEMO_STORE)' payout list --payday 2019-10-31
	@echo; echo "== balance of 270000001 today: every period paid out (paid transfers older than 62 days are history, not listed)"
	$(BIN) --store '$(DEMO_STORE)' balance 270000001
	@echo "demo store: $(DEMO_STORE)   (try: $(BIN) --store '$(DEMO_STORE)' payout list --payday 2019-10-31)"

clean:
	rm -rf bin $(DEMO) $(PG_DEMO)
