// Command standin is the cold-start ladder's stand-in for the user-hash
// function: it links the packages the function links and runs the
// function's init (as functions/userhash/main.go wires it, in jwt mode) up
// to the step BENCH_STEP names, then answers every event with a constant,
// as the bare function in ../minimal does. Each step's cold start beside
// the last one's is what that step costs:
//
//	BENCH_STEP=link      nothing but linking: binary size and package init
//	BENCH_STEP=clients   + config.Load, the AWS configuration, logger,
//	                     metrics, secret cache, client and handler
//	BENCH_STEP=prefetch  + the secrets fetched during init, as the function does
//
// The real bootstrap is the ladder's last rung: it adds the first request
// through the handler.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/intercom-identity/userhash/shared/awsenv"
	_ "github.com/intercom-identity/userhash/shared/cognito" // linked by the function in every mode
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/metrics"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func main() {
	if step := os.Getenv("BENCH_STEP"); step != "link" {
		if err := initUpTo(step); err != nil {
			fmt.Fprintln(os.Stderr, "standin:", err)
			os.Exit(1)
		}
	}
	lambda.Start(func(context.Context, json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"ok":true}`}, nil
	})
}

// initUpTo runs the function's init in jwt mode, with the prefetch only at
// the step "prefetch".
func initUpTo(step string) error {
	ctx := context.Background()
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	awsEnv, err := awsenv.ReadEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	awsCfg, err := awsenv.Load(ctx, awsEnv)
	if err != nil {
		return err
	}
	rec := metrics.New(io.Discard, metrics.WithFunctionName(cfg.FunctionName))
	cache := secrets.NewCache(secrets.NewClient(awsCfg.SecretsManager()),
		secrets.WithLogger(logger), secrets.WithObserver(rec.SecretEvent))
	src := secrets.NewPlatforms(cache, cfg.SecretIDs, nil)
	if step == "prefetch" {
		src.Prefetch(ctx)
	}
	_ = httpapi.New(src, src.Served(), httpapi.WithLogger(logger), httpapi.WithObserver(rec.Request))
	return nil
}
