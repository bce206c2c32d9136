# The whole test suite: vet, race-enabled tests, and a short run of each fuzz
# target. This is what CI runs (.ci/run) and what the README tells you to run.
GO ?= go
FUZZTIME ?= 10s

.PHONY: test test-disruptive vet fuzz bench bench-stuffing build

test: vet
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz
	$(MAKE) test-disruptive

# Tests that stop and restart the machine's PostgreSQL server must run alone,
# after everything else; they run when AUTHGATE_TEST_POSTGRES names it.
test-disruptive:
	@if [ -n "$$AUTHGATE_TEST_POSTGRES" ]; then \
	  AUTHGATE_DISRUPTIVE=1 $(GO) test -count=1 -p 1 -run 'TestPostgresServerStopAndStart' -v ./signinlog; \
	else echo "skipping the PostgreSQL stop/start test: set AUTHGATE_TEST_POSTGRES (.ci/run does)"; fi

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzAuthorization$$' -fuzztime=$(FUZZTIME) ./credential
	$(GO) test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./verify/jwt
	$(GO) test -run='^$$' -fuzz='^FuzzVerifyParts$$' -fuzztime=$(FUZZTIME) ./verify/jwt
	$(GO) test -run='^$$' -fuzz='^FuzzChallenges$$' -fuzztime=$(FUZZTIME) ./doctor
	$(GO) test -run='^$$' -fuzz='^FuzzAppendMatchesTheStandardLibrary$$' -fuzztime=$(FUZZTIME) ./internal/jsonquote
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeHeads$$' -fuzztime=$(FUZZTIME) ./signinlog

build:
	$(GO) build -o bin/authgate ./cmd/authgate

# Throughput and latency of the gateway against a bare reverse proxy and
# the upstream itself, on loopback; prints ratios against targets (see
# docs/benchmarks.md). About 5 minutes. Extra flags: make bench
# BENCHFLAGS='-json' (or -duration 3s, -run REGEXP, -cpuprofile FILE, -keep).
BENCHFLAGS ?=
bench: build
	$(GO) run ./bench -binary bin/authgate $(BENCHFLAGS)

# A credential-stuffing attack (50 000 wrong passwords, 500 users, 200
# sources) against a gateway with the default throttling, while a
# legitimate client signs in; see docs/benchmarks.md. About 1.5 minutes.
bench-stuffing: build
	$(GO) run ./bench -binary bin/authgate -run stuffing $(BENCHFLAGS)
