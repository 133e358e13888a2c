// Package intercom is a small client for Intercom's identity-verification
// secrets API (REST API version "Preview"): list the workspace's
// secrets, create one (its secret is returned this once only), delete one.
// The rotation function is its only user.
//
//	c, err := intercom.New(intercom.DefaultBaseURL, token)
//	s, err := c.CreateSecret(ctx, "name", platform.IOS) // s.Secret: keep it now, it is never shown again
//	all, err := c.ListSecrets(ctx)                      // metadata only
//	err = c.DeleteSecret(ctx, s.ID)                     // errors.Is(err, intercom.ErrNotFound) once gone
//
// Every call is bounded by its context and by the client's call timeout,
// whichever ends first, and is made once: the caller (Secrets Manager, for
// the rotation function) is the retry layer, and a create must never be
// repeated blindly. A failure is an *APIError naming the call, the HTTP
// status and Intercom's error code and request id; neither it nor anything
// else here ever shows the access token or a secret.
package intercom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/intercom-identity/userhash/shared/platform"
)

// The API's constants.
const (
	// DefaultBaseURL is the US data centre; EU and AU workspaces use
	// https://api.eu.intercom.io and https://api.au.intercom.io.
	DefaultBaseURL = "https://api.intercom.io"
	// Version is the Intercom-Version header the secrets API needs.
	Version = "Preview"
	// DefaultCallTimeout bounds one call when the caller's deadline is later.
	DefaultCallTimeout = 5 * time.Second

	secretsPath = "/secure_mode_secrets"
	maxBody     = 1 << 20 // far above any answer of this API; a larger one is refused, not buffered
)

// ErrNotFound is matched (errors.Is) by the *APIError of a 404, such as
// deleting a secret that is already gone.
var ErrNotFound = errors.New("intercom: not found")

// Material is a secret's signing material. It prints and logs as
// "[redacted]", so that a Secret logged by mistake leaks nothing; convert
// it to string or []byte where it is really used.
type Material string

// String hides the material.
func (Material) String() string { return "[redacted]" }

// GoString hides the material from %#v too.
func (Material) GoString() string { return `"[redacted]"` }

// LogValue hides the material from slog.
func (Material) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON hides the material from JSON, as slog's JSON handler writes a
// Secret; the client only ever decodes it.
func (Material) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Secret is one identity-verification secret as the API describes it.
type Secret struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	SupportsAndroid bool     `json:"supports_android"`
	SupportsIOS     bool     `json:"supports_ios"`
	SupportsWeb     bool     `json:"supports_web"`
	CreatedAt       int64    `json:"created_at"` // Unix seconds
	Secret          Material `json:"secret,omitempty"`
}

// Supports reports whether the secret is enabled for p.
func (s Secret) Supports(p platform.Platform) bool {
	switch p {
	case platform.IOS:
		return s.SupportsIOS
	case platform.Android:
		return s.SupportsAndroid
	case platform.Web:
		return s.SupportsWeb
	}
	return false
}

// APIError is a failed call: Status is 0 when no answer came (Err says
// why: a timeout, a reset connection), else the HTTP status with the code,
// message and request id of Intercom's error body when it had one.
type APIError struct {
	Method, Path string
	Status       int
	Code         string // e.g. "unauthorized", "parameter_invalid"
	Message      string
	RequestID    string
	Err          error // the transport's error when Status is 0
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Intercom %s %s: ", e.Method, e.Path)
	if e.Status == 0 {
		fmt.Fprintf(&b, "no answer: %v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "HTTP %d", e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request_id %s)", e.RequestID)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Is makes a 404 match ErrNotFound.
func (e *APIError) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// Client calls the API with one access token. It is safe for concurrent use.
type Client struct {
	base        string // scheme://host, no trailing slash
	token       string
	http        *http.Client
	callTimeout time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithCallTimeout bounds each call; values <= 0 leave DefaultCallTimeout.
func WithCallTimeout(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.callTimeout = d
		}
	}
}

// New returns a client for the API at baseURL (see CheckBaseURL) that
// authenticates with token, an access token with the read_secure_mode_secret
// and write_secure_mode_secret scopes.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	base, err := CheckBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if token == "" || strings.ContainsFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		// Never quote the token: say only what is wrong with it.
		return nil, errors.New("intercom: the access token is empty or holds white space or control characters")
	}
	c := &Client{base: base, token: token, http: &http.Client{}, callTimeout: DefaultCallTimeout}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// CheckBaseURL checks an API base URL and returns it without a trailing
// slash. It must be https, so that the bearer token never crosses a network
// in clear text; http is allowed for loopback hosts only, for tests.
func CheckBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%q is not an API base URL like %s", s, DefaultBaseURL)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("%q: the API must be reached over https (http only on a loopback address, for tests)", s)
	}
	return u.Scheme + "://" + u.Host, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ListSecrets returns the workspace's secrets, without their material.
func (c *Client) ListSecrets(ctx context.Context) ([]Secret, error) {
	var out struct {
		Type string   `json:"type"`
		Data []Secret `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, secretsPath, nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateSecret creates a secret named name, enabled for the given
// platforms (at least one), and returns it with its material: the only time
// the API shows it.
func (c *Client) CreateSecret(ctx context.Context, name string, platforms ...platform.Platform) (Secret, error) {
	in := map[string]any{"name": name}
	for _, p := range platforms {
		in["supports_"+p.String()] = true
	}
	var s Secret
	if err := c.call(ctx, http.MethodPost, secretsPath, in, http.StatusCreated, &s); err != nil {
		return Secret{}, err
	}
	if s.ID == "" || s.Secret == "" {
		return Secret{}, &APIError{Method: http.MethodPost, Path: secretsPath, Status: http.StatusCreated,
			Message: "the answer lacks the secret's id or material"}
	}
	return s, nil
}

// DeleteSecret deletes the secret id; hashes and JWTs signed with it stop
// verifying. A secret that does not exist (or is deleted already) is an
// error matching ErrNotFound.
func (c *Client) DeleteSecret(ctx context.Context, id string) error {
	if id == "" {
		return errors.New("intercom: no secret id to delete")
	}
	return c.call(ctx, http.MethodDelete, secretsPath+"/"+url.PathEscape(id), nil, http.StatusNoContent, nil)
}

// call makes one request and decodes a want-status answer into out.
func (c *Client) call(ctx context.Context, method, path string, in any, want int, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.callTimeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Intercom-Version", Version)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return &APIError{Method: method, Path: path, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return &APIError{Method: method, Path: path, Err: err}
	}
	if resp.StatusCode != want {
		e := &APIError{Method: method, Path: path, Status: resp.StatusCode}
		var eb struct {
			RequestID string `json:"request_id"`
			Errors    []struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"errors"`
		}
		if json.Unmarshal(data, &eb) == nil {
			e.RequestID = eb.RequestID
			if len(eb.Errors) > 0 {
				// An error message has no reason to quote the token; if
				// one ever did, it would not reach a log from here.
				msg := strings.ReplaceAll(eb.Errors[0].Message, c.token, "[token]")
				e.Code, e.Message = clip(eb.Errors[0].Code, 64), clip(msg, 200)
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if len(data) > maxBody {
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: "the answer is too large"}
	}
	if err := json.Unmarshal(data, out); err != nil {
		// The decoder's text could quote the body, and a create's body
		// holds the secret: say only that it is not the expected JSON.
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Message: "the answer is not the expected JSON"}
	}
	return nil
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
