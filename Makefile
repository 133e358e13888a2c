# Two commands matter: `make run` serves the product locally with demo users
# and demo secrets, `make test` proves it. Everything else is for deploying.
.PHONY: run test bench lint build build-UserHashFunction deploy invoke invoke-rie tools

GO ?= go
BIN := bin

run:
	@echo "*** DEMO MODE: demo users and demo secrets, never use them for a real Intercom workspace ***"
	AUTH_MODE=password \
	IOS_SECRET=demo-ios-secret ANDROID_SECRET=demo-android-secret WEB_SECRET=demo-web-secret \
	USERS_FILE=demo/users.json \
	$(GO) run ./functions/userhash

test:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) test -race -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./...

# SAM's makefile build method runs this target with ARTIFACTS_DIR set.
build-UserHashFunction:
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w' \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/userhash
