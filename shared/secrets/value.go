// Turning a GetSecretValue answer into the values refs ask for: the whole
// SecretString (or, for a rotated value, its "secret" field), or one field
// of it when it is a JSON object. Errors here say what is wrong with a value
// and never show any of it.

package secrets

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// version is one fetched version of a secret, parsed once so that a cache
// hit is a map lookup.
type version struct {
	versionID string
	whole     []byte            // the SecretString as stored
	fields    map[string][]byte // its string fields, when it is a JSON object; nil otherwise
	other     map[string]bool   // its fields that are not strings
	rotated   *rotatedSecret    // a rotation function's value, whose "secret" field is the whole secret; nil otherwise
	warned    sync.Map          // keys whose error was logged, so it is logged once per version
}

func parseVersion(out *secretsmanager.GetSecretValueOutput) (*version, error) {
	if out.SecretString == nil {
		if len(out.SecretBinary) > 0 {
			return nil, fmt.Errorf("%w: the secret holds SecretBinary only; store the value as SecretString", ErrInvalidValue)
		}
		return nil, fmt.Errorf("%w: the secret has no SecretString", ErrInvalidValue)
	}
	if *out.SecretString == "" {
		return nil, fmt.Errorf("%w: SecretString is empty", ErrInvalidValue)
	}
	v := &version{versionID: aws.ToString(out.VersionId), whole: []byte(*out.SecretString)}
	if trimmed := bytes.TrimSpace(v.whole); len(trimmed) > 0 && trimmed[0] == '{' {
		var raw map[string]json.RawMessage
		// A value that only looks like JSON is still a fine whole-string
		// secret; its keys just cannot be asked for. The parse error is
		// dropped because its text quotes the value.
		if json.Unmarshal(v.whole, &raw) == nil {
			v.fields, v.other = map[string][]byte{}, map[string]bool{}
			for k, r := range raw {
				var s string
				if json.Unmarshal(r, &s) == nil {
					v.fields[k] = []byte(s)
				} else {
					v.other[k] = true
				}
			}
			// One reading of the rotated shape, the one the rotation
			// function writes and checks its own values with.
			if rv, ok, err := rotatedFrom(raw); ok {
				v.rotated = &rotatedSecret{secret: []byte(rv.Secret), err: err}
			}
		}
	}
	return v, nil
}

// rotatedSecret is what a rotated value gives for the whole secret: its
// secret, or why it is unusable.
type rotatedSecret struct {
	secret []byte
	err    error
}

// ValueOf returns what key asks for in a GetSecretValue answer, as the cache
// reads it: for key "" the whole SecretString, or the "secret" field of a
// rotated value; otherwise that field of a JSON SecretString. Its errors
// wrap ErrInvalidValue and never show the value.
func ValueOf(out *secretsmanager.GetSecretValueOutput, key string) ([]byte, error) {
	v, err := parseVersion(out)
	if err != nil {
		return nil, err
	}
	return v.get(key)
}

// get returns the whole value for key "", else the JSON field key. A
// rotated value's whole value is its secret: the reader of a stack whose
// secrets were plain text reads on unchanged once rotation has run.
func (v *version) get(key string) ([]byte, error) {
	switch {
	case key == "" && v.rotated != nil:
		return v.rotated.secret, v.rotated.err
	case key == "":
		return v.whole, nil
	}
	if v.fields == nil {
		return nil, fmt.Errorf("%w: key %q asked for, but the SecretString is not a JSON object", ErrInvalidValue, key)
	}
	f, ok := v.fields[key]
	switch {
	case v.other[key]:
		return nil, fmt.Errorf("%w: field %q of the SecretString is not a string", ErrInvalidValue, key)
	case !ok:
		return nil, fmt.Errorf("%w: the SecretString has no field %q", ErrInvalidValue, key)
	case len(f) == 0:
		return nil, fmt.Errorf("%w: field %q of the SecretString is empty", ErrInvalidValue, key)
	}
	return f, nil
}

// warnOnce reports whether key's error has not been logged yet for this
// version, and marks it logged.
func (v *version) warnOnce(key string) bool {
	_, seen := v.warned.LoadOrStore(key, struct{}{})
	return !seen
}
