// The smoke test: a real call to the deployed API per platform, as an app
// makes it, and the answer checked against the secret: the status, the
// headers that matter, CORS for an origin, and the hash and JWT recomputed
// with the function's own signing code.

package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/signing"
)

// answer is the API's 200 body (README, "The API").
type answer struct {
	Platform  string `json:"platform"`
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	UserHash  string `json:"user_hash"`
	UserJWT   string `json:"user_jwt"`
	ExpiresAt string `json:"user_jwt_expires_at"`
}

// problem is the API's failure body, ours (problem+json with a code) or
// API Gateway's own ({"message": ...}).
type problem struct {
	Code    string `json:"code"`
	Detail  string `json:"detail"`
	Message string `json:"message"`
}

var lowerHex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// maxBody is the most of an answer the doctor reads: ours are a few hundred
// bytes.
const maxBody = 64 << 10

// smokeTest calls the API for each platform to check, and adds its checks.
func (d *doctor) smokeTest(ctx context.Context) {
	ps := d.platformsToCall()
	if len(ps) == 0 {
		d.rep.fail("api", "not called: no platform is configured here to ask for", "Give -platform, or fix the configuration so that the doctor knows the stack's platforms.")
		return
	}
	for _, p := range ps {
		d.callAPI(ctx, p)
	}
}

// callAPI makes one call for platform p and checks the answer.
func (d *doctor) callAPI(ctx context.Context, p platform.Platform) {
	name := "api." + p.String()
	body := map[string]string{"platform": p.String()}
	if d.opts.username != "" {
		body["username"], body["password"] = d.opts.username, d.opts.password
	}
	reqBody, _ := json.Marshal(body)
	header := http.Header{"Content-Type": {"application/json"}}
	if d.opts.token != "" {
		header.Set("Authorization", "Bearer "+d.opts.token)
	}
	if d.opts.origin != "" {
		header.Set("Origin", d.opts.origin)
	}
	start := time.Now()
	resp, respBody, err := d.do(ctx, http.MethodPost, header, reqBody)
	took := time.Since(start)
	if err != nil {
		d.rep.fail(name, "POST "+d.apiURL+": "+err.Error(), "Check the URL (the stack's UserHashUrl output) and the network path; give more time with -timeout.")
		return
	}
	reqID := resp.Header.Get("X-Request-Id")
	if reqID == "" {
		reqID = resp.Header.Get("Apigw-Requestid")
	}
	status := fmt.Sprintf("%d in %s", resp.StatusCode, roundMS(took))
	if reqID != "" {
		status += ", request id " + reqID
	}
	if resp.StatusCode != http.StatusOK {
		detail, fix := apiFailure(resp, respBody, d.opts.token != "")
		d.rep.fail(name, status+": "+detail, fix)
		return
	}
	var a answer
	if err := json.Unmarshal(respBody, &a); err != nil {
		d.rep.fail(name, status+": the body is not the API's JSON answer", "Check that the URL is this service's endpoint (the stack's UserHashUrl output).")
		return
	}
	d.extra = append(d.extra, a.UserHash, a.UserJWT)
	d.rep.pass(name, status)
	d.checkHeaders(name, resp)
	if d.opts.origin != "" {
		d.checkCORS(ctx, name, resp)
	}
	k := d.keyOf(p)
	d.checkAnswerHash(name, p, a, k)
	d.checkAnswerJWT(name, a, k)
}

// do sends one request to the API within the time bound and reads the
// answer.
func (d *doctor) do(ctx context.Context, method string, header http.Header, body []byte) (*http.Response, []byte, error) {
	// -url was checked already; a stack's output is checked here, before
	// any credential leaves.
	if err := safeForCredentials(d.apiURL); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, d.apiURL, bytes.NewReader(body))
	if err != nil {
		return nil, nil, errors.New("not a valid request URL")
	}
	req.Header = header
	resp, err := d.http.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return nil, nil, fmt.Errorf("no answer within %s", d.opts.timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, nil, ue.Err // its own text would repeat the method and URL
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("answer cut short: %v", err)
	}
	return resp, b, nil
}

// apiFailure explains a non-200 answer: ours carries a stable code, API
// Gateway's own a message.
func apiFailure(resp *http.Response, body []byte, bearer bool) (detail, fix string) {
	var pb problem
	_ = json.Unmarshal(body, &pb)
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return "redirected to " + clip(resp.Header.Get("Location")), "Call the final URL: the stack's UserHashUrl output, with https."
	case pb.Code != "":
		fix, ok := problemFixes[pb.Code]
		if !ok {
			fix = "See docs/errors.md for this code."
		}
		if pb.Code == "unauthenticated" && bearer {
			fix = "The token was refused: send a current ID token of a user of the issuer and audience the API is configured with."
		}
		return fmt.Sprintf("%s: %s", pb.Code, clip(pb.Detail)), fix
	case resp.StatusCode == http.StatusUnauthorized && pb.Message != "":
		return "API Gateway refused the call before the function ran: " + clip(pb.Message),
			"Send a current ID token (not an access token, which lacks the email) from the issuer and audience the stack's JWT authorizer accepts (outputs JwtIssuerUrl, UserPoolClientId); a password-mode stack takes -username instead."
	case resp.StatusCode == http.StatusNotFound:
		return "not found: " + clip(pb.Message), "Use the stack's UserHashUrl output: the route is POST /v1/intercom/user-hash."
	case pb.Message != "":
		return "API Gateway: " + clip(pb.Message), "See docs/errors.md, \"The gateway's own answers\": back off and retry on 429 and 5xx."
	}
	return "an answer that is neither the API's nor API Gateway's", "Check that the URL is this service's endpoint (the stack's UserHashUrl output)."
}

// clip shortens text from the far side to one line of at most 200 bytes:
// the answer is not ours to trust, even when it claims to be the API's.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// problemFixes says, for each of the API's problem codes, what the operator
// running the doctor does about it (docs/errors.md has the app's side).
var problemFixes = map[string]string{
	"unauthenticated":      "The username or password is wrong, or the user does not exist: try the credentials in the app, or give a bearer token instead.",
	"challenge_required":   "The user must complete a further sign-in step (MFA, a new password) first: finish it in the app, or test with another user.",
	"unidentified_user":    "The user has neither a user_id nor an email: check USER_ID_CLAIM and EMAIL_CLAIM (and that the email is verified).",
	"forbidden_origin":     "The stack has a CloudFront edge and this URL goes around it: call the stack's EdgeUrl output (-stack reads it as UserHashUrl).",
	"unsupported_platform": "The deployment has no secret for this platform: add it to the stack's Platforms, or leave it out with -platform.",
	"secret_unavailable":   "The function cannot read the platform's secret: put its value in (docs/deploy.md, step 3) and check the function's log line for why.",
	"too_many_requests":    "The identity provider throttled sign-ins: wait and try again.",
	"identity_unavailable": "The identity provider failed or did not answer in time: try again; check Cognito's health.",
	"invalid_request":      "The API refused the request's form: report it, since the doctor sends what the API documents.",
	"internal":             "Look up the request id in the function's log for the cause.",
}

// checkHeaders checks the headers that keep the answer private and
// readable: it must not be cached, and it is JSON.
func (d *doctor) checkHeaders(name string, resp *http.Response) {
	var wrong []string
	if cc := resp.Header.Get("Cache-Control"); !hasToken(cc, "no-store") {
		wrong = append(wrong, fmt.Sprintf("Cache-Control is %q, not no-store", cc))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		wrong = append(wrong, fmt.Sprintf("Content-Type is %q, not application/json", resp.Header.Get("Content-Type")))
	}
	if len(wrong) > 0 {
		d.rep.fail(name+".headers", strings.Join(wrong, "; "), "Something between the app and the function changes the answer's headers (a proxy or CDN): let the function's headers through, and never cache this route.")
		return
	}
	d.rep.pass(name+".headers", "Cache-Control: no-store, Content-Type: application/json")
}

// checkCORS checks that a browser at -origin may call the API: the
// preflight allows the method and headers, and the answer names the origin.
func (d *doctor) checkCORS(ctx context.Context, name string, post *http.Response) {
	need := []string{"content-type"}
	if d.opts.token != "" {
		need = append(need, "authorization")
	}
	header := http.Header{
		"Origin":                         {d.opts.origin},
		"Access-Control-Request-Method":  {http.MethodPost},
		"Access-Control-Request-Headers": {strings.Join(need, ", ")},
	}
	var wrong []string
	pre, _, err := d.do(ctx, http.MethodOptions, header, nil)
	switch {
	case err != nil:
		wrong = append(wrong, "preflight: "+err.Error())
	case !allowsOrigin(pre.Header, d.opts.origin):
		wrong = append(wrong, fmt.Sprintf("the preflight (%d) does not allow the origin", pre.StatusCode))
	default:
		if m := pre.Header.Get("Access-Control-Allow-Methods"); !hasToken(m, "POST") && !hasToken(m, "*") {
			wrong = append(wrong, fmt.Sprintf("the preflight allows methods %q, not POST", m))
		}
		allowed := pre.Header.Get("Access-Control-Allow-Headers")
		for _, h := range need {
			if !hasToken(allowed, h) && !hasToken(allowed, "*") {
				wrong = append(wrong, fmt.Sprintf("the preflight allows headers %q, not %s", allowed, h))
			}
		}
	}
	if !allowsOrigin(post.Header, d.opts.origin) {
		wrong = append(wrong, "the answer to the POST has no Access-Control-Allow-Origin for it")
	}
	if len(wrong) > 0 {
		d.rep.fail(name+".cors", d.opts.origin+": "+strings.Join(wrong, "; "),
			"Add the origin to the stack's AllowedOrigins parameter (ALLOWED_ORIGINS on the local server) and deploy again.")
		return
	}
	d.rep.pass(name+".cors", d.opts.origin+" may call it (preflight and answer)")
}

func allowsOrigin(h http.Header, origin string) bool {
	got := h.Get("Access-Control-Allow-Origin")
	return got == origin || got == "*"
}

// hasToken reports whether the comma-separated header value v holds tok,
// without regard to case.
func hasToken(v, tok string) bool {
	for _, t := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// keyOf returns the secret the doctor read for p, or nil.
func (d *doctor) keyOf(p platform.Platform) *key {
	for _, k := range d.keys {
		if k.platform == p {
			return k
		}
	}
	return nil
}

// checkAnswerHash recomputes the answer's hash with the platform's secret.
func (d *doctor) checkAnswerHash(name string, p platform.Platform, a answer, k *key) {
	name += ".user_hash"
	ident := signing.Identifier(a.UserID, a.Email)
	switch {
	case a.Platform != p.String():
		d.rep.fail(name, fmt.Sprintf("the answer is for platform %q, asked for %s", a.Platform, p), "The function must sign with the secret of the platform asked for: deploy this version of it.")
		return
	case !lowerHex64.MatchString(a.UserHash):
		d.rep.fail(name, "user_hash is not 64 lowercase hex digits", "Deploy this version of the function.")
		return
	case ident == "":
		d.rep.fail(name, "the answer has a hash but neither user_id nor email", "Deploy this version of the function.")
		return
	case k == nil || k.value == nil:
		d.rep.fail(name, fmt.Sprintf("not verified: the doctor has no %s secret (see secret.%s)", p, p), "")
		return
	}
	over := "user_id"
	if a.UserID == "" {
		over = "email"
	}
	if hmac.Equal([]byte(signing.UserHash(k.value, ident)), []byte(a.UserHash)) {
		d.rep.pass(name, fmt.Sprintf("%s: HMAC-SHA256 of the answer's %s with the %s secret (fingerprint %s)", short(a.UserHash), over, p, fingerprint(k.value)))
		return
	}
	for _, other := range d.keys {
		if other.value != nil && other.platform != p && hmac.Equal([]byte(signing.UserHash(other.value, ident)), []byte(a.UserHash)) {
			d.rep.fail(name, fmt.Sprintf("%s: made with the %s secret as the doctor reads it, not the %s one", short(a.UserHash), other.platform, p),
				"The function reads other secret IDs than the doctor: compare the function's *_SECRET_ID variables with the doctor's (or use -stack).")
			return
		}
	}
	d.rep.fail(name, fmt.Sprintf("%s: not made with the %s secret as the doctor reads it (fingerprint %s)", short(a.UserHash), p, fingerprint(k.value)),
		"The function holds another value: it keeps a fetched secret for SECRET_CACHE_TTL (5m), so wait and run again after a change; otherwise it reads other secret IDs than the doctor (use -stack).")
}

// checkAnswerJWT verifies the answer's JWT with the platform's secret and
// holds its claims to the answer's.
func (d *doctor) checkAnswerJWT(name string, a answer, k *key) {
	name += ".user_jwt"
	if a.UserJWT == "" {
		if a.UserID != "" && a.ExpiresAt != "" {
			d.rep.fail(name, "user_jwt_expires_at without user_jwt", "Deploy this version of the function.")
			return
		}
		d.rep.pass(name, "none issued (no user_id, or USER_JWT_TTL is 0)")
		return
	}
	if k == nil || k.value == nil {
		d.rep.fail(name, "not verified: the doctor has no secret for the platform", "")
		return
	}
	claims, err := verifyJWT(a.UserJWT, k.value)
	if err != nil {
		why := "not signed with the platform's secret as the doctor reads it"
		if !errors.Is(err, errNotSignedBy) {
			why = "not an HS256 JWT with Intercom's claims"
		}
		d.rep.fail(name, why, "See the user_hash check: the function and the doctor read different secrets, or the function is another version.")
		return
	}
	var wrong []string
	if claims.UserID != a.UserID {
		wrong = append(wrong, "its user_id is not the answer's")
	}
	if claims.Email != a.Email {
		wrong = append(wrong, "its email is not the answer's")
	}
	var exp time.Time
	if claims.ExpiresAt == nil {
		wrong = append(wrong, "it has no exp")
	} else {
		exp = claims.ExpiresAt.UTC()
		if !exp.After(d.now()) {
			wrong = append(wrong, "it has already expired (is this machine's clock right?)")
		}
		if got, err := time.Parse(time.RFC3339, a.ExpiresAt); err != nil || !got.Equal(exp) {
			wrong = append(wrong, fmt.Sprintf("user_jwt_expires_at %q is not its exp", a.ExpiresAt))
		}
	}
	if len(wrong) > 0 {
		d.rep.fail(name, strings.Join(wrong, "; "), "Deploy this version of the function.")
		return
	}
	d.rep.pass(name, fmt.Sprintf("HS256 with the %s secret, claims match the answer, exp %s (in %s)", k.platform, exp.Format(time.RFC3339), exp.Sub(d.now()).Round(time.Second)))
}
