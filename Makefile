# upay: event-sourced ledger and settlement engine.
# Fresh machine: `make demo` runs the main job, `make test` runs the tests.
# Both install what they need (Debian packages as root) before they start.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
BIN := bin/upay
DEMO := demo
# Packages with concurrency run again under the race detector.
RACE_PKGS := ./ledger/... ./ingest/... ./adapters/secretfile/... ./adapters/sqlite/... ./adapters/storetest/...
DEB_PKGS := 7zip poppler-utils fonts-ipaexfont-gothic

.PHONY: all build test test-race bench lint fmt demo deps clean fuzz

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

test: deps lint
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

# bench runs every benchmark once over a fixed time; docs/benchmarks.md says
# how the published figures were made.
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=3x ./...

fuzz:
	$(GO) test ./ingest/ -run='^$$' -fuzz=FuzzDecode -fuzztime=30s

# demo: a generated month for 3 merchants, ingested into a fresh embedded
# store under ./demo, then a check of the hash chain.
demo: build
	rm -rf $(DEMO) && mkdir -p $(DEMO)
	$(BIN) gen --merchants 3 --days 30 --per-day 300 --seed 1 --start 2019-10-01 -o $(DEMO)/month.jsonl
	$(BIN) --store $(DEMO)/upay.db ingest --import $(DEMO)/month.jsonl
	$(BIN) --store $(DEMO)/upay.db events --verify
	@echo "demo store: $(DEMO)/upay.db   (try: $(BIN) --store $(DEMO)/upay.db events --limit 20)"

clean:
	rm -rf bin $(DEMO)
