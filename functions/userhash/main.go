// Command userhash is the Intercom identity-verification function: in AWS
// Lambda it serves API Gateway HTTP API events; anywhere else it serves the
// same handler over local HTTP. This file is wiring only: read the
// configuration, build the clients and the secret cache once, start.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/localserver"
	"github.com/intercom-identity/userhash/shared/platform"
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
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	src, err := secretSource(cfg)
	if err != nil {
		return err
	}
	opts := []httpapi.Option{
		httpapi.WithClaims(cfg.Claims),
		httpapi.WithUserJWTTTL(cfg.UserJWTTTL),
		httpapi.WithLogger(logger),
	}
	if cfg.Mode == config.ModePassword {
		checker, err := passwordChecker(cfg)
		if err != nil {
			return err
		}
		opts = append(opts, httpapi.WithPasswords(checker))
	}
	h := httpapi.New(src, cfg.Platforms(), opts...)

	if cfg.InLambda {
		lambda.StartWithOptions(h.Handle, lambda.WithContext(ctx))
		return nil
	}

	var srvOpts []localserver.Option
	srvOpts = append(srvOpts, localserver.WithLogger(logger))
	l, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	if literalSecrets(cfg) {
		logger.Warn("DEMO MODE: secrets come from literal *_SECRET variables, for local runs only; never use demo values with a real Intercom workspace")
	}
	logger.Info("listening", "url", "http://"+l.Addr().String()+httpapi.Path, "mode", string(cfg.Mode), "platforms", names(cfg.Platforms()))
	return localserver.Serve(ctx, l, localserver.New(h.Handle, srvOpts...))
}

func secretSource(cfg config.Config) (httpapi.SecretSource, error) {
	static := secrets.Static{}
	for p, s := range cfg.Secrets {
		if s.Ref.ID != "" {
			return nil, errors.New(p.EnvPrefix() + "_SECRET_ID: Secrets Manager is not wired yet")
		}
		static[p] = s.Literal
	}
	return static, nil
}

func passwordChecker(cfg config.Config) (httpapi.PasswordChecker, error) {
	f, err := os.Open(cfg.UsersFile)
	if err != nil {
		return nil, fmt.Errorf("USERS_FILE: %w", err)
	}
	defer f.Close()
	users, err := auth.LoadUsersFile(f)
	if err != nil {
		return nil, fmt.Errorf("USERS_FILE: %s: %w", cfg.UsersFile, err)
	}
	return users, nil
}

// literalSecrets reports whether any secret is a literal value: demo or
// local-testing values, never a real workspace's.
func literalSecrets(cfg config.Config) bool {
	for _, s := range cfg.Secrets {
		if s.Literal != nil {
			return true
		}
	}
	return false
}

func names(ps []platform.Platform) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
