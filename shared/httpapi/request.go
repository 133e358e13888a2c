// Decoding the request body strictly: one flat JSON object of string
// fields, each known and given once. Anything else is a client bug the app
// developer should hear about, not something to guess around.

package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// MaxBodyBytes is the largest body accepted.
const MaxBodyBytes = 8 << 10

// badRequestError wraps every decoding failure; its text is written for the
// client (it names fields, never their values).
type badRequestError struct{ detail string }

func (e *badRequestError) Error() string { return e.detail }

func badRequest(format string, args ...any) error {
	return &badRequestError{detail: fmt.Sprintf(format, args...)}
}

// identityFields are names a client might send hoping to choose whose hash
// it gets; they get a detail that says why that cannot work.
var identityFields = map[string]bool{"user_id": true, "userId": true, "email": true, "user_hash": true}

// fields are the string fields of a request body.
type fields map[string]string

// readBody returns the raw body, checking size, content type and encoding
// in the order the API documents.
func readBody(req *events.APIGatewayV2HTTPRequest) ([]byte, error) {
	body := []byte(req.Body)
	if req.IsBase64Encoded {
		// A base64 body of more than 4/3 of the limit cannot decode to
		// within it; refuse it before decoding.
		if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBodyBytes+3 {
			return nil, badRequest("the body is larger than %d bytes", MaxBodyBytes)
		}
		var err error
		if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, badRequest("the body is not valid base64 though marked as such")
		}
	}
	if len(body) > MaxBodyBytes {
		return nil, badRequest("the body is larger than %d bytes", MaxBodyBytes)
	}
	if err := checkContentType(header(req.Headers, "content-type")); err != nil {
		return nil, err
	}
	if !utf8.Valid(body) {
		return nil, badRequest("the body is not valid UTF-8")
	}
	return body, nil
}

// checkContentType accepts JSON (application/json or any +json type, in
// UTF-8) and a missing content type, which many mobile HTTP clients send.
func checkContentType(v string) error {
	if v == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return badRequest("the Content-Type header is malformed; send application/json")
	}
	if mt != "application/json" && !(strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return badRequest("the Content-Type %s is not JSON; send Content-Type: application/json", quoteField(mt))
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return badRequest("the body must be UTF-8 JSON")
	}
	return nil
}

// decodeFields parses body as one JSON object whose members are all among
// allowed and all strings, each given once; the caller checks that the
// required ones are there. It reads token by token, so a deeply nested or huge value is
// refused at its first byte rather than built in memory.
func decodeFields(body []byte, allowed []string) (fields, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("the body is empty; send a JSON object such as {\"platform\": \"ios\"}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, badRequest("the body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, badRequest("the body must be a JSON object")
	}
	out := fields{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badRequest("the body is not valid JSON")
		}
		name, _ := tok.(string) // object keys are always strings
		if !slices.Contains(allowed, name) {
			if identityFields[name] {
				return nil, badRequest("unknown field %q: the identity comes from the authenticated user, never from the body; the body takes only %s", name, strings.Join(allowed, ", "))
			}
			return nil, badRequest("unknown field %s; the body takes only %s", quoteField(name), strings.Join(allowed, ", "))
		}
		if _, dup := out[name]; dup {
			return nil, badRequest("the field %q is given more than once", name)
		}
		tok, err = dec.Token()
		if err != nil {
			return nil, badRequest("the body is not valid JSON")
		}
		s, ok := tok.(string)
		if !ok {
			return nil, badRequest("the field %q must be a string", name)
		}
		out[name] = s
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, badRequest("the body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("the body has data after the JSON object")
	}
	return out, nil
}

// quoteField quotes an unknown field's name for the client, cut short: it
// is the client's own input, and may be anything.
func quoteField(name string) string {
	const maxLen = 40
	if len(name) > maxLen {
		name = strings.ToValidUTF8(name[:maxLen], "") + "..."
	}
	return fmt.Sprintf("%q", name)
}

// header returns the value of the named header. API Gateway lower-cases
// header names; events written by hand or by other tools may not.
func header(h map[string]string, name string) string {
	if v, ok := h[name]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
