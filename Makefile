# stallproof: every target here is what CI (.ci/run, .github/workflows) runs.
GO       ?= go
BIN      := $(CURDIR)/bin
FUZZTIME ?= 30s
BENCHTIME ?= 1s
BENCHCOUNT ?= 6

.PHONY: all test test-short lint vet fmt-check staticcheck actionlint cover fuzz bench bench-proxy soak chaos serve clean

all: lint test

## test: the README's test command, in the core module and in the
## examples module (examples/go.mod: websocket, gRPC, SSE, pub/sub servers).
test:
	$(GO) test -race ./...
	cd examples && $(GO) test -race ./...

## test-short: the quick loop while editing.
test-short:
	$(GO) test -race -short ./...
	cd examples && $(GO) test -race -short ./...

## lint: go vet, gofmt, staticcheck and actionlint (pinned in tools/go.mod).
lint: vet fmt-check staticcheck actionlint

vet:
	$(GO) vet ./...
	cd examples && $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

$(BIN)/staticcheck: tools/go.mod tools/go.sum
	cd tools && GOBIN=$(BIN) $(GO) install honnef.co/go/tools/cmd/staticcheck

staticcheck: $(BIN)/staticcheck
	$(BIN)/staticcheck ./...
	cd examples && $(BIN)/staticcheck ./...

$(BIN)/actionlint: tools/go.mod tools/go.sum
	cd tools && GOBIN=$(BIN) $(GO) install github.com/rhysd/actionlint/cmd/actionlint

$(BIN)/lintaction: tools/go.mod tools/go.sum tools/cmd/lintaction/main.go
	cd tools && GOBIN=$(BIN) $(GO) install ./cmd/lintaction

## actionlint: the workflows; action.yml's steps and the README's "Use it in
## CI" snippet in a scratch repository using the action by path
## (tools/cmd/lintaction); the action's script files. Scripts are
## shellchecked when shellcheck is on the PATH (it is on GitHub's runners).
actionlint: $(BIN)/actionlint $(BIN)/lintaction
	$(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/lintaction -action action.yml -readme README.md
	@if command -v shellcheck >/dev/null; then shellcheck internal/action/*.sh; \
	else echo "shellcheck not on the PATH: internal/action/*.sh not checked"; fi

## cover: coverage profile and per-function summary.
cover:
	$(GO) test -race -coverprofile=coverage.out ./...
	$(GO) tool cover -func=coverage.out | tail -1

## fuzz: run every fuzz target for FUZZTIME each.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; \
	done

## bench: the benchmark set, written to bench/results.txt, then the bench
## command's figures (a 60-second run over loopback TCP with 10 of 100
## clients stalled, for the heap growth per stalled client) to
## bench/bench-60s-tcp.txt. bench/results.md explains the figures.
bench:
	@mkdir -p bench
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCHCOUNT) ./... | tee bench/results.txt
	$(GO) run ./cmd/stallproof bench -tcp -n 90 -k 10 -duration 60s -write-timeout 2m | tee bench/bench-60s-tcp.txt

## bench-proxy: faultnet.Proxy against direct loopback, and toxiproxy in
## its benchmark-only module (bench/results.md, "Proxy").
bench-proxy:
	$(GO) test -run '^$$' -bench 'Proxy|StallAbsorbed' -benchmem -count $(BENCHCOUNT) ./faultnet/ | tee bench/proxy.txt
	cd bench/toxiproxy && $(GO) test -run '^$$' -bench . -benchmem -count $(BENCHCOUNT) . | tee ../proxy-toxiproxy.txt

## soak: many more property checks than the default run.
soak:
	STALLPROOF_ALL_PROPS=1 $(GO) test -race -count=1 -timeout 70m ./properties/... -rapid.checks=1000
	cd examples && STALLPROOF_ALL_PROPS=1 $(GO) test -race -count=1 -timeout 70m ./... -rapid.checks=1000

## chaos: the demo (the README's first command).
chaos:
	$(GO) run ./cmd/stallproof chaos

## serve: the reference server on 127.0.0.1:9000.
serve:
	$(GO) run ./cmd/stallproof serve

clean:
	rm -rf $(BIN) coverage.out
