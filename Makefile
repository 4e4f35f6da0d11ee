# dadns build and test entry points. `make test` is what CI runs.
GO        ?= go
PKG       := ./...
BIN       := bin/dadns
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/dadns/dadns/internal/app.Version=$(VERSION)

.PHONY: all build test test-deps vet bench bench-quick fuzz fuzz-short clean

# Every native fuzz target, as package:Target.
FUZZ_TARGETS := ./internal/zone:FuzzParse ./internal/zone:FuzzParseName \
	./internal/api:FuzzDARequest ./internal/dnsserver:FuzzQuery \
	./internal/config:FuzzLoadFile ./internal/config:FuzzEnv
# A count, not a duration: with go1.26 a duration-based -fuzztime can fail
# spuriously with "context deadline exceeded" as it expires (Go issue 75804,
# fixed in Go 1.27); a count has no deadline to race.
FUZZTIME ?= 10000x

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dadns

# Installs the DNS and database servers the integration tests start, when
# missing, then runs every test with the race detector.
test: test-deps
	$(GO) vet $(PKG)
	$(GO) test -race -count=1 -timeout 50m $(PKG)
	@$(MAKE) --no-print-directory fuzz-short

# A short, bounded run of every fuzz target (the corpus in testdata/fuzz
# is replayed by the plain test run as well).
fuzz-short:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "fuzz $$pkg $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

test-deps:
	@bash scripts/install-test-deps.sh

bench: test-deps build
	@bash scripts/bench.sh

fuzz:
	@$(MAKE) --no-print-directory fuzz-short FUZZTIME=200000x

clean:
	rm -rf bin
