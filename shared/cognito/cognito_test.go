package cognito_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/secrets"
)

const (
	clientID     = "app-client-1"
	clientSecret = "client-secret-1"
	username     = "alice@example.com"
	password     = "correct horse battery"
)

// mapping reads the Intercom user_id from a custom attribute, as a pool
// whose sub is not the app's user ID would be configured.
var mapping = auth.ClaimMapping{UserID: "custom:intercom_id", Email: "email"}

// newPool starts a fake pool with alice in it and returns it with the real
// SDK client (as NewClient builds it) pointed at it.
func newPool(t *testing.T, secret string) (*awsfake.Cognito, *cip.Client) {
	t.Helper()
	pool := awsfake.NewCognito(clientID, secret)
	pool.AddUser(username, awsfake.CognitoUser{
		Password: password,
		Claims:   map[string]any{"sub": "5f0c-sub", "email": username, "custom:intercom_id": "u-123", "email_verified": true},
	})
	pool.AddUser("mfa-user", awsfake.CognitoUser{Password: password, Challenge: "SOFTWARE_TOKEN_MFA"})
	pool.AddUser("new-user", awsfake.CognitoUser{Password: password, Challenge: "NEW_PASSWORD_REQUIRED"})
	pool.AddUser("no-intercom-id", awsfake.CognitoUser{Password: password, Claims: map[string]any{"sub": "s-2", "email": "b@example.com", "email_verified": true}})
	pool.AddUser("other-client", awsfake.CognitoUser{Password: password, Claims: map[string]any{"aud": "another-client", "custom:intercom_id": "u-9"}})
	pool.AddUser("access-token", awsfake.CognitoUser{Password: password, Claims: map[string]any{"token_use": "access", "custom:intercom_id": "u-9"}})
	url := pool.Start(t)
	return pool, cognito.NewClient(awsfake.Config(), func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
}

// secretCache is the real Secrets Manager cache over the real client and a
// fake Secrets Manager holding the app client's secret.
func secretCache(t *testing.T, value string) (*secrets.Cache, *awsfake.SecretsManager, secrets.Ref) {
	t.Helper()
	sm := awsfake.NewSecretsManager()
	sm.Put("cognito/app-client", `{"client_secret":"`+value+`"}`)
	url := sm.Start(t)
	client := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(url) })
	return secrets.NewCache(client, secrets.WithLogger(slog.New(slog.DiscardHandler))), sm, secrets.Ref{ID: "cognito/app-client", Key: "client_secret"}
}

func TestSecretHash(t *testing.T) {
	// Known answers computed independently with Python's hmac module:
	// base64(hmac.new(secret, username + client_id, sha256).digest()).
	tests := []struct {
		name                       string
		secret, username, clientID string
		want                       string
	}{
		{"email as username", "client-secret-1", "alice@example.com", "app-client-1", "6+RurOpMHanIYfFYDkJzHSBXQaeZMgAG/iCSQ8bO7iU="},
		{"plain username", "1example23456789", "Mary", "7example23456789", "eh5D3Ix4bBwbyh9bm8idZg+lII//YpPlkTQtTdJ/syg="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cognito.SecretHash([]byte(tt.secret), tt.username, tt.clientID); got != tt.want {
				t.Errorf("SecretHash: got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSignInSucceeds(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		username string
		want     auth.Identity
	}{
		{"app client without a secret", "", username, auth.Identity{UserID: "u-123", Email: username}},
		{"app client with a secret: SECRET_HASH checked by the pool", clientSecret, username, auth.Identity{UserID: "u-123", Email: username}},
		{"no user_id claim: email only", "", "no-intercom-id", auth.Identity{Email: "b@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, client := newPool(t, tt.secret)
			opts := []cognito.Option{cognito.WithClaimMapping(mapping)}
			if tt.secret != "" {
				cache, _, ref := secretCache(t, tt.secret)
				opts = append(opts, cognito.WithClientSecret(cache, ref))
			}
			got, err := cognito.New(client, clientID, opts...).SignIn(context.Background(), tt.username, password)
			if err != nil {
				t.Fatalf("SignIn: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("identity: got %+v, want %+v", got, tt.want)
			}
			calls := pool.Calls()
			if len(calls) != 1 {
				t.Fatalf("InitiateAuth calls: got %d, want 1", len(calls))
			}
			if calls[0].AuthFlow != "USER_PASSWORD_AUTH" || calls[0].ClientID != clientID {
				t.Errorf("call: got flow %q client %q, want USER_PASSWORD_AUTH %q", calls[0].AuthFlow, calls[0].ClientID, clientID)
			}
			if hasHash := calls[0].SecretHash != ""; hasHash != (tt.secret != "") {
				t.Errorf("SECRET_HASH sent: got %v, want %v", hasHash, tt.secret != "")
			}
		})
	}
}

func TestSignInDefaultMappingUsesSub(t *testing.T) {
	_, client := newPool(t, "")
	got, err := cognito.New(client, clientID).SignIn(context.Background(), username, password)
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if want := (auth.Identity{UserID: "5f0c-sub", Email: username}); !reflect.DeepEqual(got, want) {
		t.Errorf("identity: got %+v, want %+v", got, want)
	}
}

func TestSignInFailures(t *testing.T) {
	type want struct {
		is        error  // errors.Is target, or nil
		challenge string // *auth.ChallengeError's challenge, or ""
		calls     int    // InitiateAuth calls the pool saw
	}
	tests := []struct {
		name     string
		username string
		password string
		fail     *awsfake.Error
		want     want
	}{
		{"wrong password", username, "wrong", nil, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"unknown user", "mallory@example.com", password, nil, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"empty password: Cognito not asked", username, "", nil, want{is: auth.ErrUnauthenticated}},
		{"empty username: Cognito not asked", "", password, nil, want{is: auth.ErrUnauthenticated}},
		{"MFA challenge", "mfa-user", password, nil, want{challenge: "SOFTWARE_TOKEN_MFA", calls: 1}},
		{"new password challenge", "new-user", password, nil, want{challenge: "NEW_PASSWORD_REQUIRED", calls: 1}},
		{"TooManyRequestsException, not retried", username, password, awsfake.CognitoTooManyRequests, want{is: auth.ErrThrottled, calls: 1}},
		{"LimitExceededException, not retried", username, password, awsfake.CognitoLimitExceeded, want{is: auth.ErrThrottled, calls: 1}},
		{"user not confirmed", username, password, awsfake.CognitoUserNotConfirmed, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"password reset required", username, password, awsfake.CognitoPasswordResetRequired, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"internal error, retried once", username, password, awsfake.CognitoInternalError, want{calls: 2}},
		{"flow not enabled for the app client", username, password, awsfake.CognitoInvalidParameter, want{calls: 1}},
		{"ID token for another app client", "other-client", password, nil, want{is: cognito.ErrBadIDToken, calls: 1}},
		{"access token where the ID token should be", "access-token", password, nil, want{is: cognito.ErrBadIDToken, calls: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, client := newPool(t, "")
			pool.Fail(tt.fail)
			_, err := cognito.New(client, clientID, cognito.WithClaimMapping(mapping)).SignIn(context.Background(), tt.username, tt.password)
			checkErr(t, err, tt.want.is, tt.want.challenge)
			if got := len(pool.Calls()); got != tt.want.calls {
				t.Errorf("InitiateAuth calls: got %d, want %d", got, tt.want.calls)
			}
			if err != nil && (tt.username != "" && strings.Contains(err.Error(), tt.username) || tt.password != "" && strings.Contains(err.Error(), tt.password)) {
				t.Errorf("error text %q contains the username or the password", err)
			}
		})
	}
}

// checkErr checks err against the expected outcome: errors.Is(err, is), a
// challenge, or (both empty) an internal error that is none of auth's.
func checkErr(t *testing.T, err error, is error, challenge string) {
	t.Helper()
	var ce *auth.ChallengeError
	switch {
	case err == nil:
		t.Fatalf("SignIn: got no error")
	case challenge != "":
		if !errors.As(err, &ce) || ce.Challenge != challenge {
			t.Fatalf("SignIn: got %v, want *auth.ChallengeError for %s", err, challenge)
		}
	case is != nil:
		if !errors.Is(err, is) {
			t.Fatalf("SignIn: got %v, want an error wrapping %v", err, is)
		}
	default:
		if errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrThrottled) || errors.As(err, &ce) {
			t.Fatalf("SignIn: got %v, want an internal error (500), not one of auth's", err)
		}
	}
}

func TestUnknownUserAndWrongPasswordAreTheSameError(t *testing.T) {
	_, client := newPool(t, clientSecret)
	cache, _, ref := secretCache(t, clientSecret)
	s := cognito.New(client, clientID, cognito.WithClientSecret(cache, ref))
	_, wrongPassword := s.SignIn(context.Background(), username, "wrong")
	_, unknownUser := s.SignIn(context.Background(), "nobody@example.com", "wrong")
	if wrongPassword != auth.ErrUnauthenticated || unknownUser != auth.ErrUnauthenticated {
		t.Fatalf("got %v for a wrong password and %v for an unknown user, want auth.ErrUnauthenticated itself for both", wrongPassword, unknownUser)
	}
}

func TestClientSecretProblems(t *testing.T) {
	t.Run("wrong client secret is our misconfiguration: internal, not 401", func(t *testing.T) {
		pool, client := newPool(t, clientSecret)
		cache, _, ref := secretCache(t, "not-the-secret")
		_, err := cognito.New(client, clientID, cognito.WithClientSecret(cache, ref)).SignIn(context.Background(), username, password)
		checkErr(t, err, nil, "")
		if calls := pool.Calls(); len(calls) != 1 || calls[0].SecretHash == "" {
			t.Errorf("calls: got %+v, want one carrying a SECRET_HASH", calls)
		}
	})
	t.Run("no client secret configured for an app client that has one", func(t *testing.T) {
		_, client := newPool(t, clientSecret)
		_, err := cognito.New(client, clientID).SignIn(context.Background(), username, password)
		checkErr(t, err, nil, "")
	})
	t.Run("client secret unavailable: Cognito not asked, 503 possible", func(t *testing.T) {
		pool, client := newPool(t, clientSecret)
		cache, sm, ref := secretCache(t, clientSecret)
		sm.Fail(ref.ID, awsfake.SMResourceNotFound)
		_, err := cognito.New(client, clientID, cognito.WithClientSecret(cache, ref)).SignIn(context.Background(), username, password)
		var ue *secrets.UnavailableError
		if !errors.As(err, &ue) {
			t.Fatalf("SignIn: got %v, want an error wrapping *secrets.UnavailableError", err)
		}
		if got := len(pool.Calls()); got != 0 {
			t.Errorf("InitiateAuth calls: got %d, want 0", got)
		}
	})
	t.Run("wrong app client ID", func(t *testing.T) {
		_, client := newPool(t, "")
		_, err := cognito.New(client, "no-such-client").SignIn(context.Background(), username, password)
		checkErr(t, err, nil, "")
	})
}

func TestErrorsNeverCarryCredentials(t *testing.T) {
	pool, client := newPool(t, "")
	// A Cognito message that echoes the request, which the error must not
	// pass on to the log.
	pool.Fail(&awsfake.Error{Status: http.StatusBadRequest, Type: "InvalidParameterException", Message: "value " + username + " with " + password + " rejected"})
	_, err := cognito.New(client, clientID).SignIn(context.Background(), username, password)
	checkErr(t, err, nil, "")
	if strings.Contains(err.Error(), username) || strings.Contains(err.Error(), password) {
		t.Fatalf("error text %q contains the username or the password", err)
	}
	if !strings.Contains(err.Error(), "InvalidParameterException") {
		t.Errorf("error text %q should still name Cognito's error for the log", err)
	}
}

// BenchmarkSignIn is one sign-in through the real SDK client (signing,
// serialization, a loopback round trip to the fake pool, which mints an
// RS256 token) with the client secret from a warm cache.
func BenchmarkSignIn(b *testing.B) {
	pool := awsfake.NewCognito(clientID, clientSecret)
	pool.AddUser(username, awsfake.CognitoUser{Password: password, Claims: map[string]any{"sub": "s", "custom:intercom_id": "u-123"}})
	url := pool.Start(b)
	client := cognito.NewClient(awsfake.Config(), func(o *cip.Options) { o.BaseEndpoint = aws.String(url) })
	sm := awsfake.NewSecretsManager()
	sm.Put("cognito/app-client", clientSecret)
	smClient := secrets.NewClient(awsfake.Config(), func(o *secretsmanager.Options) { o.BaseEndpoint = aws.String(sm.Start(b)) })
	s := cognito.New(client, clientID, cognito.WithClaimMapping(mapping),
		cognito.WithClientSecret(secrets.NewCache(smClient), secrets.Ref{ID: "cognito/app-client"}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SignIn(ctx, username, password); err != nil {
			b.Fatal(err)
		}
	}
}
