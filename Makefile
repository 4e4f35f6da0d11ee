# dadns build and test entry points. `make test` is what CI runs.
GO        ?= go
PKG       := ./...
BIN       := bin/dadns
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/dadns/dadns/internal/app.Version=$(VERSION)

.PHONY: all build test test-deps vet bench bench-quick fuzz clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/dadns

# Installs the DNS and database servers the integration tests start, when
# missing, then runs every test with the race detector.
test: test-deps
	$(GO) vet $(PKG)
	$(GO) test -race -count=1 -timeout 25m $(PKG)

test-deps:
	@bash scripts/install-test-deps.sh

bench: test-deps build
	@bash scripts/bench.sh

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=60s ./internal/zone

clean:
	rm -rf bin
