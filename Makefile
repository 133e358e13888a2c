# Two commands matter: `make run` serves the product locally with demo users
# and demo secrets, `make test` proves it. Everything else is for deploying.
.PHONY: run test test-browser bench bench-micro fuzz lint vuln build build-UserHashFunction build-RotateSecretFunction deploy doctor invoke invoke-rie tools rie

GO ?= go
# Every target builds and tests with Go 1.27.3, go.mod's go line (an older
# Go refuses the module; deploy/build_test.go holds this pin, .ci/run's and
# the README's to go.mod). Any Go from 1.21 on fetches it from the Go module
# proxy once, even where the machine's go.env says GOTOOLCHAIN=local, and a
# newer Go does not stand in for it: the bootstraps are built by this one.
export GOTOOLCHAIN := go1.27.3
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
# Go benchmarks instead. BENCH_COMPARE is a revision whose bootstrap joins
# the cold-start tables (main before issue #19's work; empty for none);
# BENCH_FLAGS passes more, e.g. BENCH_FLAGS='-runs 5 -memory 128,512'.
BENCH_COMPARE ?= 60998b6
bench: rie
	$(GO) run ./scripts/bench $(if $(BENCH_COMPARE),-compare $(BENCH_COMPARE)) $(BENCH_FLAGS)

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

# The Secrets Manager rotation function, built the same way.
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

# Why does Intercom say 400, 401 or 403, and does the deployed stack work?
# With the function's own configuration and code (the same variables: after
# `make run`, IOS_SECRET=demo-ios-secret ...); see the README's
# troubleshooting. Exit status 0 when every check holds, 1 when one fails,
# 2 for bad flags.
#   make doctor ARGS='-status 401 -platform ios -user-id u-alice-1001 -hash 0e86805cbabd154914013aaefc21b484ad505aaa34c0eec39ed2ce578b21258f'
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
tools: rie
	@$(GO) run ./scripts/tools -venv $(TOOLS)/venv -requirements scripts/tools/requirements.txt
# The emulator alone, for the tests and the bench that need nothing else.
rie: $(TOOLS)/aws-lambda-rie@$(RIE_VERSION)
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
invoke-rie: rie
	$(MAKE) --no-print-directory build-UserHashFunction ARTIFACTS_DIR=$(RIE_TASK) LAMBDA_ARCH=$$($(GO) env GOHOSTARCH)
	$(GO) run ./scripts/invoke-rie -rie $(RIE) -bootstrap $(RIE_TASK)/bootstrap $(EVENT)

# invoke-rie on a laptop, with no AWS account: moto_server (the AWS emulator
# the tests use, `pip install 'moto[server]'`) on MOTO_PORT holds a demo
# secret per platform (demo/ios holds demo-ios-secret, and so on), and the
# function reads them from it as it reads Secrets Manager in Lambda.
MOTO_PORT ?= 5055
.PHONY: invoke-local
invoke-local: tools
	@command -v moto_server >/dev/null || { echo "invoke-local needs moto_server: pip install 'moto[server]'" >&2; exit 1; }
	@moto_server -H 127.0.0.1 -p $(MOTO_PORT) >/dev/null 2>&1 & moto=$$!; trap 'kill $$moto' EXIT; \
	for i in $$(seq 100); do curl -s -o /dev/null http://127.0.0.1:$(MOTO_PORT)/ && break; sleep 0.2; done; \
	for p in ios android web; do \
		curl -sf -o /dev/null http://127.0.0.1:$(MOTO_PORT)/ -H 'Content-Type: application/x-amz-json-1.1' \
			-H 'X-Amz-Target: secretsmanager.CreateSecret' \
			-H 'Authorization: AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0' \
			-d "{\"Name\": \"demo/$$p\", \"SecretString\": \"demo-$$p-secret\"}" \
		|| { echo "moto_server on port $(MOTO_PORT) did not take the demo secrets (another MOTO_PORT?)" >&2; exit 1; }; \
	done; \
	AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_SESSION_TOKEN= \
	AWS_ENDPOINT_URL_SECRETS_MANAGER=http://127.0.0.1:$(MOTO_PORT) \
	IOS_SECRET_ID=demo/ios ANDROID_SECRET_ID=demo/android WEB_SECRET_ID=demo/web \
	$(MAKE) --no-print-directory invoke-rie EVENT=$(EVENT)
