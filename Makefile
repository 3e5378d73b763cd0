# The two commands of the README:
#   make demo   install what is missing, build, and serve the map with real data
#   make test   install what is missing and run every check and test
# Both install PostgreSQL with PostGIS (and, for tests, Chromium) through
# apt-get when run as root, and otherwise print the command to run.

GO      ?= go
BIN     ?= bin/hotspot
DATA    ?= ../shared/data
TESTTIMEOUT ?= 20m

.PHONY: all build demo test deps deps-test check-fmt vet bench fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/hotspot

deps:
	@.ci/deps.sh

deps-test:
	@.ci/deps.sh browser

demo: deps build
	$(BIN) demo --data $(DATA) $(ARGS)

check-fmt:
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: deps-test check-fmt vet
	$(GO) test -count=1 -timeout $(TESTTIMEOUT) ./...

# Benchmarks: figures for the README (see its Performance section).
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 5x -count 5 ./geo/ingest/ | tee bench.out

# A short fuzzing pass over every fuzz target in the module (FUZZTIME each).
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test $$pkg -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) || exit 1; \
	  done; \
	done

clean:
	rm -rf bin bench.out
