// Command userhash is the Intercom identity-verification function: in AWS
// Lambda it serves API Gateway HTTP API events; anywhere else it serves the
// same handler over local HTTP. This file is wiring only: read the
// configuration, build the clients and the secret cache once, start.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/awsenv"
	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/metrics"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func main() {
	if err := run(); err != nil {
		// One line that names what is wrong; in Lambda this fails the init.
		fmt.Fprintln(os.Stderr, "userhash: "+err.Error())
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.Load(os.LookupEnv)
	if err != nil {
		return err
	}
	awsEnv, err := awsenv.ReadEnv(os.LookupEnv)
	if err != nil {
		return err
	}
	claims, err := auth.NewClaimMapping(cfg.Claims.UserID, cfg.Claims.Email, cfg.Claims.EmailVerified, cfg.Claims.IssuerVerifiesEmails, cfg.Claims.Attributes)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	awsCfg, err := loadAWS(ctx, cfg, awsEnv)
	if err != nil {
		return err
	}
	// CloudWatch metrics as EMF lines on stdout, one per request, which
	// CloudWatch Logs turns into metrics; on a laptop nobody reads them.
	metricsOut := io.Discard
	if cfg.InLambda {
		metricsOut = os.Stdout
	}
	rec := metrics.New(metricsOut, metrics.WithFunctionName(cfg.FunctionName))
	// The local server's last cache counts when it shuts down; in Lambda
	// lambda.Start never returns, and the next request's line carries them.
	defer rec.Flush()
	var cache *secrets.Cache
	if cfg.UsesSecretsManager() {
		cache = secrets.NewCache(secrets.NewClient(awsCfg.SecretsManager()),
			secrets.WithTTL(cfg.SecretCacheTTL),
			secrets.WithMaxStale(cfg.SecretMaxStale),
			secrets.WithLogger(logger),
			secrets.WithObserver(rec.SecretEvent))
	}
	src := secrets.NewPlatforms(cache, cfg.SecretIDs, cfg.SecretLiterals)
	// The app client's and the edge's secrets, where configured, share the
	// cache and the prefetch with the platforms'.
	clientSecret, edgeSecret := secrets.RefOf(cfg.CognitoClientSecretID), secrets.RefOf(cfg.EdgeOriginSecretID)
	var extra []secrets.Ref
	for _, ref := range []secrets.Ref{clientSecret, edgeSecret} {
		if ref.ID != "" {
			extra = append(extra, ref)
		}
	}
	// Warm the cache now, during init, in one call; a failure is logged
	// and retried on the first request instead of failing the start.
	src.Prefetch(ctx, extra...)
	opts := []httpapi.Option{
		httpapi.WithClaims(claims),
		httpapi.WithUserJWTTTL(cfg.UserJWTTTL),
		httpapi.WithLogger(logger),
		httpapi.WithObserver(rec.Request),
	}
	if cfg.EdgeOriginSecretID != "" {
		// A CloudFront edge stands in front (EdgeWebAclArn): refuse what
		// went around it, with its secret read through the same cache.
		opts = append(opts, httpapi.WithOriginVerify(func(ctx context.Context) ([]byte, error) { return cache.Get(ctx, edgeSecret) }))
	}
	if cfg.Mode == config.ModePassword {
		checker, err := passwordChecker(cfg, claims, awsCfg, cache, clientSecret)
		if err != nil {
			return err
		}
		opts = append(opts, httpapi.WithPasswords(checker))
	}
	h := httpapi.New(src, src.Served(), opts...)

	if cfg.InLambda {
		// The first request runs at the memory size's share of a CPU: do
		// its first-use work now, during init, with a made-up request whose
		// log line and metrics go nowhere.
		httpapi.WarmUp(httpapi.WithClaims(claims), httpapi.WithUserJWTTTL(cfg.UserJWTTTL),
			httpapi.WithLogger(slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: cfg.LogLevel}))),
			httpapi.WithObserver(metrics.New(io.Discard, metrics.WithFunctionName(cfg.FunctionName)).Request))
		lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
		return nil
	}

	return serveLocal(ctx, cfg, h, logger)
}

// loadAWS builds the AWS configuration once per execution environment,
// and only when something needs AWS: a local run on literal secrets and the
// users file needs no credentials and no region.
func loadAWS(ctx context.Context, cfg config.Config, env awsenv.Env) (awsenv.Config, error) {
	if !cfg.UsesSecretsManager() && !cfg.UsesCognito() {
		return awsenv.Config{}, nil
	}
	return awsenv.Load(ctx, env)
}

// passwordChecker signs users in with Cognito when COGNITO_CLIENT_ID is
// set (with the app client's secret, if any), and against the local users
// file otherwise.
func passwordChecker(cfg config.Config, claims auth.ClaimMapping, awsCfg awsenv.Config, cache *secrets.Cache, clientSecret secrets.Ref) (httpapi.PasswordChecker, error) {
	if cfg.UsesCognito() {
		opts := []cognito.Option{cognito.WithClaimMapping(claims)}
		if clientSecret.ID != "" {
			opts = append(opts, cognito.WithClientSecret(cache, clientSecret))
		}
		return cognito.New(cognito.NewClient(awsCfg.Cognito()), cfg.CognitoClientID, opts...), nil
	}
	return usersFile(cfg)
}
