// Package localserver serves the Lambda handler over plain HTTP, for running
// the product on a laptop with no AWS account and no Docker. Like
// `sam local start-api`, it turns each request into the API Gateway HTTP API
// event (payload format 2.0) the function gets in AWS, and the function's
// response back into HTTP.
//
//	srv := localserver.New(h.Handle, localserver.WithLogger(logger))
//	err := localserver.Serve(ctx, listener, srv) // returns when ctx is done
//
// There is no gateway in front of it, so in jwt mode WithVerifier checks
// bearer tokens as API Gateway's JWT authorizer would, and puts the verified
// claims where the authorizer puts them.
package localserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/shared/httpapi"
)

// HandlerFunc is a Lambda handler for HTTP API events.
type HandlerFunc func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// TokenVerifier checks a bearer token and returns its claims as API
// Gateway's JWT authorizer passes them to the function.
type TokenVerifier interface {
	Verify(ctx context.Context, bearerToken string) (map[string]string, error)
}

// Server is an http.Handler that calls a Lambda handler.
type Server struct {
	handle   HandlerFunc
	verifier TokenVerifier
	log      *slog.Logger
	routeKey string
	origins  map[string]bool
}

// Option configures a Server.
type Option func(*Server)

// WithVerifier makes the server verify Authorization: Bearer tokens with v,
// as the gateway's JWT authorizer does in jwt mode.
func WithVerifier(v TokenVerifier) Option { return func(s *Server) { s.verifier = v } }

// WithLogger sets where the server logs rejected tokens and handler errors.
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithCORS answers browsers from origins (e.g. "capacitor://localhost",
// "http://localhost:8100") as API Gateway's CORS configuration does: it
// answers their preflight itself and marks responses as readable by them.
// "*" allows any origin.
func WithCORS(origins []string) Option {
	return func(s *Server) {
		s.origins = map[string]bool{}
		for _, o := range origins {
			s.origins[o] = true
		}
	}
}

// New returns a server that sends requests for the API's route to handle
// and answers 404 problem+json for any other path.
func New(handle HandlerFunc, opts ...Option) *Server {
	s := &Server{
		handle:   handle,
		log:      slog.New(slog.DiscardHandler),
		routeKey: "POST " + httpapi.Path,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// maxBody is how much of a body the server reads. The handler refuses
// anything over its own limit; reading one byte more lets it see that.
const maxBody = httpapi.MaxBodyBytes + 1

// ServeHTTP turns r into a payload-2.0 event, calls the handler and writes
// its response.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if r.URL.Path != httpapi.Path {
		writeResponse(w, withRequestID(httpapi.ProblemResponse(httpapi.CodeNotFound, "no such path; the API is POST "+httpapi.Path), reqID))
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && (s.origins[origin] || s.origins["*"]) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		// Retry-After is not a CORS-safelisted header: without this a
		// webview's client could not honour it.
		w.Header().Set("Access-Control-Expose-Headers", httpapi.RequestIDHeader+", Retry-After")
		w.Header().Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			// A preflight: the gateway answers it without calling the
			// function, and so does this server.
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "authorization, content-type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeResponse(w, withRequestID(httpapi.ProblemResponse(httpapi.CodeInvalidRequest, "the body could not be read"), reqID))
		return
	}
	ev := s.Event(r, body, reqID)
	if s.verifier != nil {
		s.authorize(r.Context(), r.Header.Get("Authorization"), &ev)
	}
	resp, err := s.handle(r.Context(), ev)
	if err != nil {
		// The handler never returns one; API Gateway would answer a bare
		// 500 if it did.
		s.log.Error("handler returned an error", "request_id", reqID, "error", err)
		resp = withRequestID(httpapi.ProblemResponse(httpapi.CodeInternal, "an internal error occurred"), reqID)
	}
	writeResponse(w, resp)
}

// authorize verifies the bearer token and, if it is good, attaches its
// claims as the gateway's JWT authorizer would. A missing or bad token
// leaves the event without an authorizer block, which the handler answers
// with 401 in its documented order of checks.
func (s *Server) authorize(ctx context.Context, authz string, ev *events.APIGatewayV2HTTPRequest) {
	scheme, token, ok := strings.Cut(authz, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return
	}
	claims, err := s.verifier.Verify(ctx, strings.TrimSpace(token))
	if err != nil {
		s.log.Info("bearer token rejected", "request_id", ev.RequestContext.RequestID, "reason", err.Error())
		return
	}
	ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
			Claims: claims,
			Scopes: nil,
		},
	}
}

// Event builds the payload-2.0 event API Gateway would send for r.
func (s *Server) Event(r *http.Request, body []byte, reqID string) events.APIGatewayV2HTTPRequest {
	now := time.Now()
	headers := make(map[string]string, len(r.Header)+1)
	for k, vs := range r.Header {
		// Cookies travel in their own field, as in API Gateway.
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	headers["host"] = r.Host
	var query map[string]string
	if q := r.URL.Query(); len(q) > 0 {
		query = make(map[string]string, len(q))
		for k, vs := range q {
			query[k] = strings.Join(vs, ",")
		}
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              s.routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     s.routeKey,
			AccountID:    "123456789012",
			Stage:        "$default",
			RequestID:    reqID,
			APIID:        "local",
			DomainName:   r.Host,
			DomainPrefix: strings.Split(r.Host, ".")[0],
			Time:         now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  host,
				UserAgent: r.UserAgent(),
			},
		},
	}
	// API Gateway passes text bodies as they are and base64-encodes the
	// rest; the handler decodes either.
	if len(body) > 0 {
		if isText(headers["content-type"]) && utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

func isText(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") || mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || mt == "application/javascript" || mt == "application/x-www-form-urlencoded"
}

func withRequestID(resp events.APIGatewayV2HTTPResponse, id string) events.APIGatewayV2HTTPResponse {
	resp.Headers[httpapi.RequestIDHeader] = id
	return resp
}

func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// newRequestID returns a random id in the form API Gateway uses for its
// own, so log lines from a local run look like those from AWS.
func newRequestID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Serve serves srv on l until ctx is done, then shuts down gracefully,
// letting requests in flight finish for up to five seconds.
func Serve(ctx context.Context, l net.Listener, srv http.Handler) error {
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
