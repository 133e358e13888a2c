//go:build !lambda.norpc

// The local server's wiring: the same handler over plain HTTP, with bearer
// tokens verified here (no gateway in front) and the users file for
// password mode. The Lambda build (-tags lambda.norpc, as SAM's build target
// passes) leaves this file out, and with it shared/localserver,
// shared/oidc, go-oidc and go-jose: the gateway verifies tokens in AWS.
// deploy/layout_test.go holds the bootstrap to that.

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/config"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/localserver"
	"github.com/intercom-identity/userhash/shared/oidc"
)

// serveLocal serves h on LISTEN_ADDR until ctx is done.
func serveLocal(ctx context.Context, cfg config.Config, h *httpapi.Handler, logger *slog.Logger) error {
	srvOpts := []localserver.Option{localserver.WithLogger(logger), localserver.WithCORS(cfg.AllowedOrigins)}
	if cfg.Mode == config.ModeJWT {
		// No gateway in front: verify bearer tokens as its JWT authorizer
		// would. Discovery and the first key set download now tell early of
		// a wrong JWT_ISSUER; a failure is not fatal, since requests try
		// again (the key set at most once per 30 s).
		v, err := oidc.NewVerifier(cfg.JWTIssuer, cfg.JWTAudience)
		if err != nil {
			return fmt.Errorf("JWT_ISSUER: %w", err)
		}
		if err := v.Discover(ctx); err != nil {
			logger.Warn("token issuer not reachable yet; bearer tokens are refused until it is", "issuer", cfg.JWTIssuer, "error", err.Error())
		}
		srvOpts = append(srvOpts, localserver.WithVerifier(v))
	}
	l, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("LISTEN_ADDR: %w", err)
	}
	if len(cfg.SecretLiterals) > 0 {
		// Demo or local-testing values, never a real workspace's.
		logger.Warn("DEMO MODE: secrets come from literal *_SECRET variables, for local runs only; never use demo values with a real Intercom workspace")
	}
	logger.Info("listening", "url", "http://"+l.Addr().String()+httpapi.Path, "mode", string(cfg.Mode), "platforms", cfg.Served())
	return localserver.Serve(ctx, l, localserver.New(h.Handle, srvOpts...))
}

// usersFile loads USERS_FILE, password mode's users on the local server.
func usersFile(cfg config.Config) (httpapi.PasswordChecker, error) {
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
