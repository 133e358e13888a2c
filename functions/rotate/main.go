// Command rotate is the Secrets Manager rotation function of the platform
// secrets (README, "Rotating the Intercom secret"): Secrets Manager invokes
// it with each step of a rotation, and it makes and retires the Intercom
// secrets. This file is wiring only: read the configuration, build the
// Secrets Manager client once, start.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/shared/awsenv"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/intercom"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/rotation"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func main() {
	if err := run(); err != nil {
		// One line that names what is wrong; in Lambda this fails the init.
		fmt.Fprintln(os.Stderr, "rotate: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.LoadRotation(os.LookupEnv)
	if err != nil {
		return err
	}
	awsEnv, err := awsenv.ReadEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	rcfg, err := rotationConfig(cfg)
	if err != nil {
		return err
	}
	if !cfg.InLambda {
		return errors.New("AWS_LAMBDA_RUNTIME_API: the rotation function runs inside Lambda, where Secrets Manager invokes it; to rotate now, run `aws secretsmanager rotate-secret --secret-id <the secret's ARN>` (docs/deploy.md)")
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	awsCfg, err := awsenv.Load(ctx, awsEnv)
	if err != nil {
		return err
	}
	// The SDK's own retries stay on: the calls are few, each is
	// idempotent (PutSecretValue by its ClientRequestToken), and the
	// rotation bounds every one by the invocation's deadline.
	r := rotation.New(secretsmanager.NewFromConfig(awsCfg.SecretsManager()), rcfg, rotation.WithLogger(logger))
	lambda.StartWithOptions(r.Handle, lambda.WithContext(ctx))
	return nil
}

// rotationConfig is the configuration as the rotation applies it: each
// secret by its platform, the token's reference, the Intercom API's base
// URL checked (INTERCOM_API_URL, else Intercom's default).
func rotationConfig(cfg config.Rotation) (rotation.Config, error) {
	base, err := intercom.CheckBaseURL(cmp.Or(cfg.IntercomAPIURL, intercom.DefaultBaseURL))
	if err != nil {
		return rotation.Config{}, fmt.Errorf("INTERCOM_API_URL: %v", err)
	}
	rc := rotation.Config{
		Secrets:        map[platform.Platform]string{},
		IntercomToken:  secrets.RefOf(cfg.IntercomTokenSecretID),
		IntercomAPIURL: base,
		RetireAfter:    rotation.RetireAfter(cfg.SecretCacheTTL, cfg.SecretMaxStale, cfg.UserJWTTTL),
	}
	for name, id := range cfg.SecretIDs {
		p, _ := platform.Parse(name) // one of config.Platforms
		rc.Secrets[p] = id
	}
	return rc, nil
}
