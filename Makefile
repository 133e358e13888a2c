# Two commands matter: `make run` serves the product locally with demo users
# and demo secrets, `make test` proves it. Everything else is for deploying.
.PHONY: run test test-browser bench bench-micro fuzz lint vuln build build-UserHashFunction build-RotateSecretFunction deploy doctor invoke invoke-rie tools

GO ?= go
# Every target builds and tests with the Go of go.mod's go line (an older Go
# refuses the module). Any Go from 1.21 on fetches it from the Go module
# proxy once, even where the machine's go.env says GOTOOLCHAIN=local, and a
# newer Go does not stand in for it: the bootstraps are built by this one.
export GOTOOLCHAIN := go$(shell sed -n 's/^go //p' $(dir $(lastword $(MAKEFILE_LIST)))go.mod)
# What the project builds or installs for itself lives in .tools; the Python
# virtual environment there (see tools), when there is one, comes first on
# the PATH of every target and so of every test.
TOOLS := $(CURDIR)/.tools
export PATH := $(TOOLS)/venv/bin:$(PATH)

run:
	@echo "*** DEMO MODE: demo users and demo secrets, never use them for a real Intercom workspace ***"
	AUTH_MODE=password \
	IOS_SECRET=demo-ios-secret ANDROID_SECRET=demo-android-secret WEB_SECRET=demo-web-secret \
	USERS_FILE=demo/users.json \
	$(GO) run ./functions/userhash

test: tools
	$(GO) vet ./...
	@gofmt="$$($(GO) env GOROOT)/bin/gofmt"; \
	test -z "$$($$gofmt -l .)" || { echo "gofmt would change:"; $$gofmt -l .; exit 1; }
	$(GO) test -race -count=1 ./...
	node --test clients/js/*.test.js

# The app's client module in real Chromium against the local server, across
# origins (clients/js/e2e/browser.mjs). Installs Debian's chromium with apt
# when /usr/bin/chromium is missing, and playwright-core from the lock file.
test-browser:
	clients/js/e2e/need-chromium.sh
	cd clients/js && npm ci --no-audit --no-fund
	GO=$(GO) node --test clients/js/e2e/browser.mjs

# The figures of BENCHMARKS.md: warm path, cold start under the emulator,
# bootstrap size, load and peak RSS. `make bench-micro` runs every package's
# Go benchmarks instead.
bench: tools
	$(GO) run ./scripts/bench

bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./...

# Each fuzz target for FUZZTIME: a count of inputs, which stops cleanly on a
# busy machine where a duration can end mid-input (CI runs this default;
# FUZZTIME=10m for a real search).
FUZZTIME ?= 200000x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRequestBody$$' -fuzztime $(FUZZTIME) ./shared/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzHandle$$' -fuzztime $(FUZZTIME) ./shared/httpapi
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME) ./shared/platform
	$(GO) test -run '^$$' -fuzz '^FuzzClaimMapping$$' -fuzztime $(FUZZTIME) ./shared/auth
	$(GO) test -run '^$$' -fuzz '^FuzzEvent$$' -fuzztime $(FUZZTIME) ./shared/localserver

# SAM's makefile build method runs this target with ARTIFACTS_DIR set.
# LAMBDA_ARCH is for invoke-rie alone, which runs the bootstrap on this machine.
LAMBDA_ARCH ?= arm64
build-UserHashFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/userhash

# The Secrets Manager rotation function (SPEC §9), built the same way.
build-RotateSecretFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/rotate

# What `sam build` writes for the functions, by the same targets.
build:
	$(MAKE) --no-print-directory build-UserHashFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/UserHashFunction
	$(MAKE) --no-print-directory build-RotateSecretFunction ARTIFACTS_DIR=$(CURDIR)/.aws-sam/build/RotateSecretFunction

lint: tools
	cfn-lint template.yaml

# govulncheck over every package that ships, failing on any known
# vulnerability our code reaches: in Go's standard library (so in the pinned
# toolchain) or in a module. The database is golang.org/x/vulndb at a pinned
# commit, fetched from the Go module proxy and verified against the Go
# checksum database like any module, and copied once into .tools: govulncheck
# indexes its folder of OSV entries itself and needs no network. The Lambda
# functions are scanned a second time as they ship (linux/arm64, lambda.norpc).
# The pinned go comes first on its PATH: govulncheck asks `go` for the Go
# version in GOPATH mode, where GOTOOLCHAIN switches nothing.
GOVULNCHECK_VERSION := v1.10.0
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
GOVULNCHECK := $(TOOLS)/bin/govulncheck
VULNDB := $(TOOLS)/vulndb@$(VULNDB_VERSION)
vuln: $(TOOLS)/govulncheck@$(GOVULNCHECK_VERSION) $(VULNDB)
	PATH="$$($(GO) env GOROOT)/bin:$$PATH" $(GOVULNCHECK) -db file://$(VULNDB) ./functions/... ./cmd/doctor
	PATH="$$($(GO) env GOROOT)/bin:$$PATH" GOOS=linux GOARCH=arm64 \
		$(GOVULNCHECK) -db file://$(VULNDB) -tags lambda.norpc ./functions/...
$(TOOLS)/govulncheck@$(GOVULNCHECK_VERSION):
	GOBIN=$(TOOLS)/bin $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)
	@touch $@
$(VULNDB):
	@rm -rf $@.tmp && mkdir -p $@.tmp
	cp -R "$$($(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p')/data/osv/." $@.tmp/
	@mv $@.tmp $@

# CONFIG_ENV=prod deploys the prod environment of samconfig.toml.
CONFIG_ENV ?= default
deploy:
	sam build --config-env $(CONFIG_ENV)
	sam deploy --config-env $(CONFIG_ENV)

# Why does Intercom say 401, and does the deployed stack work? With the
# function's own configuration and code; see the README's troubleshooting.
# Exit status 0 when every check holds, 1 when one fails, 2 for bad flags.
#   make doctor ARGS='-platform ios -user-id u-123 -hash 0e86805c...'
#   make doctor ARGS='-stack intercom-user-hash-dev -username alice@example.com -password-stdin' < pw.txt
doctor:
	@$(GO) run ./cmd/doctor $(ARGS)

# sam local invoke needs Docker; invoke-rie below does not.
EVENT ?= events/ios.json
invoke:
	sam build
	sam local invoke UserHashFunction --event $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

# What make test needs besides Go. The AWS Lambda Runtime Interface
# Emulator, built once from the Go module proxy into .tools/bin (the RIE
# tests use the same binary). Then scripts/tools checks Node.js 20 or later,
# and takes moto_server and cfn-lint from the PATH when they are the versions
# of scripts/tools/requirements.txt, or else installs that file from PyPI
# into .tools/venv; it says which, and names what it cannot install.
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
RIE := $(TOOLS)/bin/aws-lambda-rie
tools: $(TOOLS)/aws-lambda-rie@$(RIE_VERSION)
	@$(GO) run ./scripts/tools -venv $(TOOLS)/venv -requirements scripts/tools/requirements.txt
$(TOOLS)/aws-lambda-rie@$(RIE_VERSION):
	GOBIN=$(TOOLS)/bin $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)
	@touch $@

# Runs EVENT through the bootstrap, built for this machine, inside the real
# Lambda runtime API, with no Docker. The function reads its configuration
# (AUTH_MODE, *_SECRET_ID, AWS_REGION, and credentials in AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN: the Lambda build reads no
# profile) from your environment.
# The answer goes to stdout, the emulator's log to stderr; the exit status is
# non-zero when the invocation fails (a failed init, an event the runtime
# cannot decode), not when the function answers 4xx.
RIE_TASK ?= $(TOOLS)/rie-task
invoke-rie: tools
	$(MAKE) --no-print-directory build-UserHashFunction ARTIFACTS_DIR=$(RIE_TASK) LAMBDA_ARCH=$$($(GO) env GOHOSTARCH)
	$(GO) run ./scripts/invoke-rie -rie $(RIE) -bootstrap $(RIE_TASK)/bootstrap $(EVENT)
