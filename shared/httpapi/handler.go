// Package httpapi is the API's one operation, POST /v1/intercom/user-hash,
// as a Lambda handler for API Gateway HTTP API events (payload format 2.0).
// It authenticates the caller, picks the secret of the caller's platform and
// returns the Intercom user hash and JWT.
//
//	src := secrets.NewPlatforms(cache, cfg.SecretIDs, cfg.SecretLiterals)
//	h := httpapi.New(src, src.Served(), // the platforms that have a secret
//		httpapi.WithClaims(claims), // jwt mode: auth.NewClaimMapping of the claim settings
//		httpapi.WithLogger(logger))
//	lambda.Start(h.Handle)
//
// With WithPasswords the handler is in password mode and signs users in
// itself. Every failure is a problem+json response with a stable code;
// Handle never returns an error, so API Gateway never answers with its own
// opaque 500.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/shared/auth"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

// Path is the route of the API's one operation.
const Path = "/v1/intercom/user-hash"

// SecretSource gives the Intercom secret of a platform. A secret that cannot
// be had right now is an error with a RetryAfter (a *secrets.UnavailableError).
type SecretSource interface {
	PlatformSecret(ctx context.Context, p platform.Platform) ([]byte, error)
}

// tryLater is an error that says when to try again: *auth.TryLaterError
// from a sign-in, *secrets.UnavailableError from a secret.
type tryLater interface {
	error
	RetryAfter() time.Duration
}

// PasswordChecker signs a user in with a username and password. It returns
// auth.ErrUnauthenticated for a wrong password and an unknown user alike;
// auth.ErrThrottled or auth.ErrUnavailable, best inside an
// *auth.TryLaterError that says when to try again; a secret's error with a
// RetryAfter (the app client's secret); or a *auth.ChallengeError.
type PasswordChecker interface {
	SignIn(ctx context.Context, username, password string) (auth.Identity, error)
}

// The body's fields in each mode: all required, but for the optional ones.
var (
	jwtFields      = []string{"platform"}
	passwordFields = []string{"username", "password", "platform", "encoded_data"}
	// encoded_data is the app's device fingerprint from Cognito's
	// user-context-data collector, handed on to threat protection.
	optionalFields = []string{"encoded_data"}
)

// Handler answers the API's requests. Build it with New; it is safe for
// concurrent use.
type Handler struct {
	secrets   SecretSource
	platforms []platform.Platform
	supported string // "ios, android", for error details
	passwords PasswordChecker
	claims    auth.ClaimMapping
	jwtTTL    time.Duration
	now       func() time.Time
	log       *slog.Logger
	observe   func(Outcome)
	// origin is the edge's origin-verify secret; nil when the API has no
	// CloudFront distribution in front.
	origin func(context.Context) ([]byte, error)
}

// Outcome describes one answered request, for metrics.
type Outcome struct {
	Platform platform.Platform // zero when the platform was not known
	Code     Code
	Status   int
	Duration time.Duration
}

// Option configures a Handler.
type Option func(*Handler)

// WithPasswords puts the handler in password mode: the body carries a
// username and password, and c checks them.
func WithPasswords(c PasswordChecker) Option { return func(h *Handler) { h.passwords = c } }

// WithClaims sets which claims carry the user_id, the email and its
// verification, and the signed JWT attributes, in jwt mode. (A
// PasswordChecker maps its own.) The default is auth.DefaultClaimMapping().
func WithClaims(m auth.ClaimMapping) Option { return func(h *Handler) { h.claims = m } }

// WithUserJWTTTL sets the lifetime of the issued Intercom JWT; 0 issues
// none. The default is one hour.
func WithUserJWTTTL(d time.Duration) Option { return func(h *Handler) { h.jwtTTL = d } }

// WithLogger sets where the request log goes.
func WithLogger(l *slog.Logger) Option { return func(h *Handler) { h.log = l } }

// WithClock sets the clock that stamps the JWT.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// WithObserver calls f once for every answered request, after the answer is
// made; f must be quick and safe for concurrent use.
func WithObserver(f func(Outcome)) Option { return func(h *Handler) { h.observe = f } }

// WithOriginVerify puts the handler behind a CloudFront distribution (the
// template's EdgeWebAclArn): secret returns the value CloudFront sends in
// the X-Origin-Verify header, read through the secrets cache, so that a
// request that went around CloudFront, to the execute-api URL, is refused
// with 403 forbidden_origin before anything else that costs. Behind it,
// the caller's address handed to the identity provider is CloudFront's
// CloudFront-Viewer-Address, since requestContext.http.sourceIp is then
// CloudFront's own. Without this option both headers mean nothing.
func WithOriginVerify(secret func(context.Context) ([]byte, error)) Option {
	return func(h *Handler) { h.origin = secret }
}

// New returns a handler that serves the given platforms with secrets from
// src. It is in jwt mode unless WithPasswords is given.
func New(src SecretSource, platforms []platform.Platform, opts ...Option) *Handler {
	h := &Handler{
		secrets:   src,
		platforms: platforms,
		claims:    auth.DefaultClaimMapping(),
		jwtTTL:    time.Hour,
		now:       time.Now,
		log:       slog.New(slog.DiscardHandler),
		observe:   func(Outcome) {},
	}
	names := make([]string, len(platforms))
	for i, p := range platforms {
		names[i] = p.String()
	}
	h.supported = strings.Join(names, ", ")
	for _, o := range opts {
		o(h)
	}
	return h
}

// Response is the success body. UserID and Email are exactly what the app
// must send to Intercom with the hash.
type Response struct {
	Platform         string `json:"platform"`
	UserID           string `json:"user_id,omitempty"`
	Email            string `json:"email,omitempty"`
	UserHash         string `json:"user_hash"`
	UserJWT          string `json:"user_jwt,omitempty"`
	UserJWTExpiresAt string `json:"user_jwt_expires_at,omitempty"`
}

// failure is a problem to answer with; err, if any, goes to the log only.
type failure struct {
	code   Code
	detail string
	err    error
	header map[string]string
}

// Handle answers one API Gateway HTTP API request. Its error is always nil:
// every failure is a problem+json response.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	start := time.Now()
	reqID := req.RequestContext.RequestID
	p, body, f := h.serve(ctx, &req)

	var resp events.APIGatewayV2HTTPResponse
	code := CodeOK
	if f != nil {
		code = f.code
		resp = ProblemResponse(f.code, f.detail)
		for k, v := range f.header {
			resp.Headers[k] = v
		}
	} else {
		resp = events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers: map[string]string{
				"Content-Type":           "application/json",
				"Cache-Control":          "no-store",
				"X-Content-Type-Options": "nosniff",
			},
			Body: string(body),
		}
	}
	if reqID != "" {
		resp.Headers[RequestIDHeader] = reqID
	}
	elapsed := time.Since(start)
	// The one line per request: never an identifier, a credential or what
	// was signed. Failures from dependencies are logged with their cause.
	attrs := []slog.Attr{
		slog.String("request_id", reqID),
		slog.String("platform", platformName(p)),
		slog.String("code", string(code)),
		slog.Int("status", resp.StatusCode),
		slog.Float64("duration_ms", math.Round(float64(elapsed.Microseconds()))/1000),
	}
	level := slog.LevelInfo
	if f != nil && f.err != nil {
		attrs = append(attrs, slog.String("error", f.err.Error()))
		level = slog.LevelWarn
		if code == CodeInternal {
			level = slog.LevelError
		}
	}
	h.log.LogAttrs(ctx, level, "request", attrs...)
	h.observe(Outcome{Platform: p, Code: code, Status: resp.StatusCode, Duration: elapsed})
	return resp, nil
}

func platformName(p platform.Platform) string {
	if p.Valid() {
		return p.String()
	}
	return ""
}

// serve runs the checks in the documented order (method, origin, body, platform,
// credentials, identity, secret) and returns the platform, when known, and
// either the success body or the first failure.
func (h *Handler) serve(ctx context.Context, req *events.APIGatewayV2HTTPRequest) (platform.Platform, []byte, *failure) {
	if m := req.RequestContext.HTTP.Method; m != "POST" {
		return 0, nil, &failure{code: CodeMethodNotAllowed, detail: "use POST", header: map[string]string{"Allow": "POST"}}
	}
	if f := h.verifyOrigin(ctx, req); f != nil {
		return 0, nil, f
	}

	raw, err := readBody(req)
	if err != nil {
		return 0, nil, badRequestFailure(err)
	}
	// Every field of the mode is required, and no other is allowed.
	names := jwtFields
	if h.passwords != nil {
		names = passwordFields
	}
	fs, err := decodeFields(raw, names)
	if err != nil {
		return 0, nil, badRequestFailure(err)
	}
	for _, name := range names {
		if _, ok := fs[name]; !ok && !slices.Contains(optionalFields, name) {
			return 0, nil, &failure{code: CodeInvalidRequest, detail: fmt.Sprintf("the field %q is missing; the body takes %s", name, strings.Join(names, ", "))}
		}
	}

	p, err := platform.Parse(fs["platform"])
	if err != nil || !slices.Contains(h.platforms, p) {
		return 0, nil, &failure{code: CodeUnsupportedPlatform, detail: "the platform is not supported here; use one of: " + h.supported}
	}

	id, f := h.authenticate(ctx, req, fs)
	if f != nil {
		return p, nil, f
	}
	if id.Anonymous() {
		return p, nil, &failure{code: CodeUnidentifiedUser, detail: "the signed-in user has neither a user_id nor a verified email; Intercom gets no hash for anonymous users"}
	}
	// The identity goes back in a JSON body, which cannot carry invalid
	// UTF-8: the app would send Intercom another string than the one
	// hashed. Claims decoded from JSON are always valid; this keeps the
	// promise for any other source.
	if !utf8.ValidString(id.UserID) || !utf8.ValidString(id.Email) {
		return p, nil, &failure{code: CodeInternal, detail: "an internal error occurred", err: errors.New("the authenticated identity is not valid UTF-8")}
	}

	secret, err := h.secrets.PlatformSecret(ctx, p)
	if err != nil {
		var later tryLater
		if errors.As(err, &later) {
			return p, nil, secretUnavailable("the "+p.String(), later.RetryAfter(), err)
		}
		return p, nil, &failure{code: CodeInternal, detail: "an internal error occurred", err: err}
	}

	out := Response{
		Platform: p.String(),
		UserID:   id.UserID,
		Email:    id.Email,
		UserHash: signing.UserHash(secret, signing.Identifier(id.UserID, id.Email)),
	}
	if id.UserID != "" && h.jwtTTL > 0 {
		// The signed attributes go into the JWT only: the body and the
		// hash are the same with or without them.
		tok, exp, err := signing.UserJWT(secret, id.UserID, id.Email, h.now(), h.jwtTTL, signing.WithAttributes(id.Attributes))
		if err != nil {
			return p, nil, &failure{code: CodeInternal, detail: "an internal error occurred", err: fmt.Errorf("sign user_jwt: %w", err)}
		}
		out.UserJWT, out.UserJWTExpiresAt = tok, exp.Format(time.RFC3339)
	}
	body, err := json.Marshal(out)
	if err != nil {
		return p, nil, &failure{code: CodeInternal, detail: "an internal error occurred", err: err}
	}
	return p, body, nil
}

// authenticate returns the caller's identity: from the claims API Gateway's
// JWT authorizer verified, or from a password sign-in. Never from anything
// else in the body.
func (h *Handler) authenticate(ctx context.Context, req *events.APIGatewayV2HTTPRequest, fs fields) (auth.Identity, *failure) {
	unauthenticated := &failure{code: CodeUnauthenticated, detail: "the credentials are missing or wrong"}
	if h.passwords == nil {
		a := req.RequestContext.Authorizer
		if a == nil || a.JWT == nil || len(a.JWT.Claims) == 0 {
			unauthenticated.detail = "no verified bearer token; send Authorization: Bearer <token>"
			return auth.Identity{}, unauthenticated
		}
		return h.claims.Identity(a.JWT.Claims), nil
	}

	username, password := fs["username"], fs["password"]
	if username == "" || password == "" {
		return auth.Identity{}, unauthenticated
	}
	// The identity provider's threat protection judges the caller's
	// address and device, not the function's.
	ip := req.RequestContext.HTTP.SourceIP
	if h.origin != nil {
		// verifyOrigin passed: CloudFront sent this request, and its
		// sourceIp is CloudFront's; the viewer's is in its header.
		ip = viewerIP(header(req.Headers, viewerAddressHeader))
	}
	ctx = auth.WithCaller(ctx, auth.Caller{IP: ip, EncodedData: fs["encoded_data"]})
	id, err := h.passwords.SignIn(ctx, username, password)
	var challenge *auth.ChallengeError
	var later tryLater
	retry := time.Second
	if errors.As(err, &later) {
		retry = later.RetryAfter()
	}
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, auth.ErrUnauthenticated):
		return auth.Identity{}, unauthenticated
	case errors.Is(err, auth.ErrThrottled):
		// One detail for a throttle and a lockout: the app does the same
		// (waits and lets the user try again), and the log tells them apart.
		return auth.Identity{}, &failure{code: CodeTooManyRequests, detail: "too many sign-in attempts; wait and try again", err: err, header: retryAfter(retry)}
	case errors.Is(err, auth.ErrUnavailable):
		return auth.Identity{}, &failure{code: CodeIdentityUnavailable, detail: "the identity provider did not answer; try again later", err: err, header: retryAfter(retry)}
	case later != nil:
		// Neither a throttle nor the provider's outage: the app client's
		// secret (COGNITO_CLIENT_SECRET_ID) could not be read, the same
		// outage as a platform secret's.
		return auth.Identity{}, secretUnavailable("sign-in", retry, err)
	case errors.As(err, &challenge):
		return auth.Identity{}, &failure{code: CodeChallengeRequired, detail: "the identity provider requires the " + challenge.Challenge + " step, which this API does not perform; complete it in the app's sign-in flow"}
	default:
		return auth.Identity{}, &failure{code: CodeInternal, detail: "an internal error occurred", err: fmt.Errorf("sign in: %w", err)}
	}
}

func badRequestFailure(err error) *failure {
	var br *badRequestError
	if errors.As(err, &br) {
		return &failure{code: CodeInvalidRequest, detail: br.detail}
	}
	return &failure{code: CodeInvalidRequest, detail: "the request is malformed"}
}

// secretUnavailable is the 503 for a secret that cannot be had; Retry-After
// says when the cache will next try Secrets Manager.
func secretUnavailable(which string, retry time.Duration, err error) *failure {
	return &failure{
		code:   CodeSecretUnavailable,
		detail: which + " secret cannot be read right now; try again later",
		err:    err,
		header: retryAfter(retry),
	}
}

// retryAfter is the Retry-After header for d: whole seconds, rounded up, at
// least one.
func retryAfter(d time.Duration) map[string]string {
	return map[string]string{"Retry-After": fmt.Sprint(max(1, int(math.Ceil(d.Seconds()))))}
}
