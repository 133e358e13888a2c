// Problem responses (RFC 9457): every failure the API returns, each with a
// stable machine-readable code and a type URI that documents it.

package httpapi

import (
	"cmp"
	"encoding/json"
	"maps"
	"net/http"
	"slices"

	"github.com/aws/aws-lambda-go/events"
)

// Code is the stable, machine-readable name of a failure. Apps may switch
// on it; it never changes meaning.
type Code string

// The codes, as the API documents them.
const (
	CodeInvalidRequest      Code = "invalid_request"
	CodeUnsupportedPlatform Code = "unsupported_platform"
	CodeUnauthenticated     Code = "unauthenticated"
	CodeChallengeRequired   Code = "challenge_required"
	CodeUnidentifiedUser    Code = "unidentified_user"
	CodeForbiddenOrigin     Code = "forbidden_origin"
	CodeNotFound            Code = "not_found"
	CodeMethodNotAllowed    Code = "method_not_allowed"
	CodeTooManyRequests     Code = "too_many_requests"
	CodeSecretUnavailable   Code = "secret_unavailable"
	CodeIdentityUnavailable Code = "identity_unavailable"
	CodeInternal            Code = "internal"

	// CodeOK is not a failure: it is what the request log says of a success.
	CodeOK Code = "ok"
)

// TypeBase is the prefix of every problem type URI; the code is its
// fragment, which names the section of the error reference.
const TypeBase = "https://github.com/intercom-identity/userhash/blob/main/docs/errors.md#"

var problemMeta = map[Code]struct {
	status int
	title  string
}{
	CodeInvalidRequest:      {http.StatusBadRequest, "The request is malformed"},
	CodeUnsupportedPlatform: {http.StatusBadRequest, "The platform is not supported"},
	CodeUnauthenticated:     {http.StatusUnauthorized, "Authentication failed"},
	CodeChallengeRequired:   {http.StatusUnauthorized, "A further sign-in step is required"},
	CodeUnidentifiedUser:    {http.StatusForbidden, "The user is not identified"},
	CodeForbiddenOrigin:     {http.StatusForbidden, "The request did not come through the API's edge"},
	CodeNotFound:            {http.StatusNotFound, "Not found"},
	CodeMethodNotAllowed:    {http.StatusMethodNotAllowed, "Method not allowed"},
	CodeTooManyRequests:     {http.StatusTooManyRequests, "Too many sign-in attempts"},
	CodeSecretUnavailable:   {http.StatusServiceUnavailable, "The platform secret is unavailable"},
	CodeIdentityUnavailable: {http.StatusServiceUnavailable, "The identity provider is unavailable"},
	CodeInternal:            {http.StatusInternalServerError, "Internal error"},
}

// Codes returns every failure code the API answers with, in the order the
// API documents them (by status).
func Codes() []Code {
	codes := slices.Collect(maps.Keys(problemMeta))
	slices.SortFunc(codes, func(a, b Code) int {
		return cmp.Or(cmp.Compare(problemMeta[a].status, problemMeta[b].status), cmp.Compare(a, b))
	})
	return codes
}

// Problem is an RFC 9457 problem details object with this API's code. The
// request id travels in the X-Request-Id header, not here, so that two
// answers to the same failure are the same bytes: a wrong password and an
// unknown user cannot be told apart even by their bodies' lengths.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   Code   `json:"code"`
}

// RequestIDHeader carries the id of the request's log line on every
// answer, so a user's report can be matched to the log. (API Gateway adds
// its own apigw-requestid header, with the same id, in AWS.)
const RequestIDHeader = "X-Request-Id"

// Status returns the HTTP status of code.
func (c Code) Status() int {
	if m, ok := problemMeta[c]; ok {
		return m.status
	}
	return http.StatusInternalServerError
}

// ProblemResponse returns the problem+json response for code. detail must
// be written for the client: never an error string from a dependency, and
// never a secret or an identifier.
func ProblemResponse(code Code, detail string) events.APIGatewayV2HTTPResponse {
	m, ok := problemMeta[code]
	if !ok {
		code, m = CodeInternal, problemMeta[CodeInternal]
	}
	body, _ := json.Marshal(Problem{
		Type:   TypeBase + string(code),
		Title:  m.title,
		Status: m.status,
		Detail: detail,
		Code:   code,
	})
	return events.APIGatewayV2HTTPResponse{
		StatusCode: m.status,
		Headers: map[string]string{
			"Content-Type":           "application/problem+json",
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
		},
		Body: string(body),
	}
}
