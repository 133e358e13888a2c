//go:build lambda.norpc

// The Lambda build has no local server and no users file: config.Load
// refuses password mode inside Lambda without Cognito, and the bootstrap is
// only ever started by the Lambda runtime. These say so if it is started
// anywhere else.

package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
)

var errLambdaBuild = errors.New("AWS_LAMBDA_RUNTIME_API: this bootstrap is built for AWS Lambda only; for the local server run `make run` or `go run ./functions/userhash`")

func serveLocal(context.Context, config.Config, *httpapi.Handler, *slog.Logger) error {
	return errLambdaBuild
}

func usersFile(config.Config) (httpapi.PasswordChecker, error) {
	return nil, errLambdaBuild
}
