package cognito_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/platform"
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
func newPool(t *testing.T, secret string, clientOpts ...func(*cip.Options)) (*awsfake.Cognito, *cip.Client) {
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
	endpoint := func(o *cip.Options) { o.BaseEndpoint = aws.String(url) }
	return pool, cognito.NewClient(awsfake.Config(), append([]func(*cip.Options){endpoint}, clientOpts...)...)
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
		is         error         // errors.Is target, or nil
		challenge  string        // *auth.ChallengeError's challenge, or ""
		calls      int           // InitiateAuth calls the pool saw
		retryAfter time.Duration // *auth.TryLaterError's RetryAfter, or 0 for none
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
		{"TooManyRequestsException, not retried", username, password, awsfake.CognitoTooManyRequests, want{is: auth.ErrThrottled, calls: 1, retryAfter: cognito.RetryAfterThrottle}},
		{"LimitExceededException, not retried", username, password, awsfake.CognitoLimitExceeded, want{is: auth.ErrThrottled, calls: 1, retryAfter: cognito.RetryAfterThrottle}},
		{"password attempts exceeded: a lockout, not a wrong password", username, password, awsfake.CognitoPasswordAttemptsExceeded, want{is: auth.ErrThrottled, calls: 1, retryAfter: cognito.RetryAfterLockout}},
		{"password attempts exceeded for a wrong password too", username, "wrong", awsfake.CognitoPasswordAttemptsExceeded, want{is: auth.ErrThrottled, calls: 1, retryAfter: cognito.RetryAfterLockout}},
		{"user not confirmed", username, password, awsfake.CognitoUserNotConfirmed, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"password reset required", username, password, awsfake.CognitoPasswordResetRequired, want{is: auth.ErrUnauthenticated, calls: 1}},
		{"InternalErrorException (500), retried once", username, password, awsfake.CognitoInternalError, want{is: auth.ErrUnavailable, calls: 2, retryAfter: cognito.RetryAfterUnavailable}},
		{"unmodeled 503, retried once", username, password, awsfake.CognitoServiceUnavailable, want{is: auth.ErrUnavailable, calls: 2, retryAfter: cognito.RetryAfterUnavailable}},
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
			var later *auth.TryLaterError
			if errors.As(err, &later) != (tt.want.retryAfter != 0) || later != nil && later.Wait != tt.want.retryAfter {
				t.Errorf("SignIn: got %#v, want a *auth.TryLaterError only if a Retry-After of %v is due", err, tt.want.retryAfter)
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
		if errors.Is(err, auth.ErrUnauthenticated) || errors.Is(err, auth.ErrThrottled) || errors.Is(err, auth.ErrUnavailable) || errors.As(err, &ce) {
			t.Fatalf("SignIn: got %v, want an internal error (500), not one of auth's", err)
		}
	}
}

// TestSignInIsBounded hangs or breaks Cognito and checks that the sign-in
// answers auth.ErrUnavailable, and answers in time: before the caller's own
// deadline, which the hung calls would otherwise run into. No row measures
// the time itself: each gives the bound it tests a far shorter time than
// the caller's deadline, and only that bound can end the wait, since the
// others are set far out of the way.
func TestSignInIsBounded(t *testing.T) {
	t.Parallel()
	// The caller's deadline, so far out that no scheduling delay reaches it.
	const callerTime = time.Minute
	// slowAttempts takes the client's own attempt timeout out of the way.
	slowAttempts := func(o *cip.Options) { o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(time.Hour) }
	tests := []struct {
		name      string
		break_    func(pool *awsfake.Cognito)
		clientOpt []func(*cip.Options)
		opts      []cognito.Option
		want      error // errors.Is target; nil: success
		requests  int   // the HTTP requests the pool saw; -1: not checked
	}{
		{
			name:      "hung: cut at the caller's deadline less the margin",
			break_:    func(pool *awsfake.Cognito) { pool.Hang(-1) },
			clientOpt: []func(*cip.Options){slowAttempts},
			opts:      []cognito.Option{cognito.WithTimeout(time.Hour), cognito.WithDeadlineMargin(callerTime - 300*time.Millisecond)},
			want:      auth.ErrUnavailable, requests: 1,
		},
		{
			name:      "hung: cut at the sign-in's own timeout",
			break_:    func(pool *awsfake.Cognito) { pool.Hang(-1) },
			clientOpt: []func(*cip.Options){slowAttempts},
			opts:      []cognito.Option{cognito.WithTimeout(300 * time.Millisecond), cognito.WithDeadlineMargin(0)},
			want:      auth.ErrUnavailable, requests: 1,
		},
		{
			name:     "hung with the defaults: both attempts cut, within DefaultTimeout",
			break_:   func(pool *awsfake.Cognito) { pool.Hang(-1) },
			want:     auth.ErrUnavailable,
			requests: -1, // two, unless a stalled machine lets DefaultTimeout end the sign-in first
		},
		{
			name:     "a hung first attempt is cut by AttemptTimeout and the retry answers",
			break_:   func(pool *awsfake.Cognito) { pool.Hang(1) },
			opts:     []cognito.Option{cognito.WithTimeout(time.Hour)},
			requests: 2,
		},
		{
			name:     "connection dropped: a network error, retried once",
			break_:   func(pool *awsfake.Cognito) { pool.Drop(true) },
			want:     auth.ErrUnavailable,
			requests: 2,
		},
		{
			name:     "no time left before the caller's deadline",
			opts:     []cognito.Option{cognito.WithDeadlineMargin(callerTime + time.Second)},
			want:     auth.ErrUnavailable,
			requests: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // the rows wait, they do not work
			pool, client := newPool(t, "", tt.clientOpt...)
			if tt.break_ != nil {
				tt.break_(pool)
			}
			ctx, cancel := context.WithTimeout(context.Background(), callerTime)
			defer cancel()
			s := cognito.New(client, clientID, append([]cognito.Option{cognito.WithClaimMapping(mapping)}, tt.opts...)...)
			id, err := s.SignIn(ctx, username, password)
			if ctx.Err() != nil {
				t.Fatalf("SignIn returned only after the caller's deadline (%v): not bounded", err)
			}
			switch {
			case tt.want == nil && (err != nil || id.UserID != "u-123"):
				t.Fatalf("SignIn = %+v, %v; want alice signed in", id, err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("SignIn = %+v, %v; want %v", id, err, tt.want)
			}
			if got := pool.Requests(); tt.requests >= 0 && got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
			if err != nil && (strings.Contains(err.Error(), username) || strings.Contains(err.Error(), password)) {
				t.Errorf("error text %q contains the username or the password", err)
			}
		})
	}
}

// TestHandlerAnswersForCognito runs the API's handler in password mode
// with the real Authenticator and SDK client against the fake pool, as in
// Lambda: the context carries the invocation's deadline. Each failure of
// Cognito gets its problem code and Retry-After, and the handler answers
// before the invocation's deadline, never letting the function time out.
func TestHandlerAnswersForCognito(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		break_ func(pool *awsfake.Cognito)
		status int
		code   string
		retry  string
	}{
		{name: "signed in", status: 200},
		{name: "wrong password", break_: func(pool *awsfake.Cognito) { pool.Fail(awsfake.CognitoNotAuthorized) }, status: 401, code: "unauthenticated"},
		{name: "locked out after too many wrong passwords", break_: func(pool *awsfake.Cognito) { pool.Fail(awsfake.CognitoPasswordAttemptsExceeded) }, status: 429, code: "too_many_requests", retry: "60"},
		{name: "throttled", break_: func(pool *awsfake.Cognito) { pool.Fail(awsfake.CognitoTooManyRequests) }, status: 429, code: "too_many_requests", retry: "1"},
		{name: "InternalErrorException", break_: func(pool *awsfake.Cognito) { pool.Fail(awsfake.CognitoInternalError) }, status: 503, code: "identity_unavailable", retry: "5"},
		{name: "unmodeled 503", break_: func(pool *awsfake.Cognito) { pool.Fail(awsfake.CognitoServiceUnavailable) }, status: 503, code: "identity_unavailable", retry: "5"},
		{name: "connection dropped", break_: func(pool *awsfake.Cognito) { pool.Drop(true) }, status: 503, code: "identity_unavailable", retry: "5"},
		{name: "hung", break_: func(pool *awsfake.Cognito) { pool.Hang(-1) }, status: 503, code: "identity_unavailable", retry: "5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pool, client := newPool(t, "")
			if tt.break_ != nil {
				tt.break_(pool)
			}
			var log bytes.Buffer
			h := httpapi.New(secrets.Static{platform.IOS: []byte("ios-secret")}, []platform.Platform{platform.IOS},
				httpapi.WithPasswords(cognito.New(client, clientID, cognito.WithClaimMapping(mapping))),
				httpapi.WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
			// The invocation's deadline, generous enough that only a sign-in
			// that is not bounded could reach it.
			ctx, cancel := context.WithTimeout(context.Background(), 10*cognito.DefaultTimeout)
			defer cancel()
			body, _ := json.Marshal(map[string]string{"username": username, "password": password, "platform": "ios"})
			resp, err := h.Handle(ctx, events.APIGatewayV2HTTPRequest{
				RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r-1", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
				Body:           string(body),
			})
			if err != nil || ctx.Err() != nil {
				t.Fatalf("Handle: %v, with the invocation's context %v: the answer must come before the deadline", err, ctx.Err())
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.status, resp.Body)
			}
			if got := resp.Headers["Retry-After"]; got != tt.retry {
				t.Errorf("Retry-After = %q, want %q", got, tt.retry)
			}
			if tt.code != "" {
				var p httpapi.Problem
				if err := json.Unmarshal([]byte(resp.Body), &p); err != nil || p.Code != httpapi.Code(tt.code) {
					t.Errorf("body %s, want code %s", resp.Body, tt.code)
				}
			}
			for _, leak := range []string{username, password, "ios-secret"} {
				if strings.Contains(resp.Body, leak) && tt.status != 200 || strings.Contains(log.String(), leak) {
					t.Errorf("%q leaked into the answer or the log:\n%s\n%s", leak, resp.Body, log.String())
				}
			}
		})
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

// TestSignInTellsCognitoWhoIsCalling runs the handler in password mode,
// as API Gateway invokes it, and checks what reaches the pool: the
// caller's source IP (from an app client with a secret, the kind Cognito
// takes it from) and the app's EncodedData, so that threat protection
// judges the user's address and device rather than Lambda's.
func TestSignInTellsCognitoWhoIsCalling(t *testing.T) {
	const ip, encoded = "198.51.100.7", "eyJwYXlsb2FkIjoiZGV2aWNlIn0="
	tests := []struct {
		name        string
		secret      string
		body        map[string]string
		wantIP      string
		wantEncoded string
	}{
		{"client with a secret, the app's fingerprint", clientSecret, map[string]string{"encoded_data": encoded}, ip, encoded},
		{"client with a secret, no fingerprint", clientSecret, nil, ip, ""},
		{"public client: no IP, which Cognito takes only with a secret", "", map[string]string{"encoded_data": encoded}, "", encoded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pool, client := newPool(t, tt.secret)
			var opts []cognito.Option
			if tt.secret != "" {
				cache, _, ref := secretCache(t, tt.secret)
				opts = append(opts, cognito.WithClientSecret(cache, ref))
			}
			var log bytes.Buffer
			h := httpapi.New(secrets.Static{platform.IOS: []byte("ios-secret")}, []platform.Platform{platform.IOS},
				httpapi.WithPasswords(cognito.New(client, clientID, append(opts, cognito.WithClaimMapping(mapping))...)),
				httpapi.WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
			fields := map[string]string{"username": username, "password": password, "platform": "ios"}
			maps.Copy(fields, tt.body)
			body, _ := json.Marshal(fields)
			resp, err := h.Handle(context.Background(), events.APIGatewayV2HTTPRequest{
				RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r-1", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", SourceIP: ip}},
				Body:           string(body),
			})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("Handle: %v, status %d, body %s", err, resp.StatusCode, resp.Body)
			}
			calls := pool.Calls()
			if len(calls) != 1 {
				t.Fatalf("InitiateAuth calls: got %d, want 1", len(calls))
			}
			if calls[0].IPAddress != tt.wantIP || calls[0].EncodedData != tt.wantEncoded {
				t.Errorf("UserContextData: got IP %q EncodedData %q, want %q %q", calls[0].IPAddress, calls[0].EncodedData, tt.wantIP, tt.wantEncoded)
			}
			for _, leak := range []string{ip, encoded} {
				if strings.Contains(log.String(), leak) {
					t.Errorf("the log holds the caller's %q:\n%s", leak, log.String())
				}
			}
		})
	}
}
