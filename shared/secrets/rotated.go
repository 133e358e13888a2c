// The value the rotation function stores: the Intercom secret and the
// id Intercom gave it, as one JSON object. The rotation function writes it;
// the cache reads its "secret" field wherever a whole SecretString is asked
// for, so that a stack's secret IDs need not change when rotation is
// switched on, nor again when it is switched off.

package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
)

// The fields of a rotated value. A JSON object with the id field is a
// rotated value, whatever else it holds.
const (
	RotatedSecretField = "secret"
	RotatedIDField     = "intercom_secret_id"
)

// RotatedValue is a rotated secret's SecretString:
//
//	{"secret": "<the Intercom secret>", "intercom_secret_id": "<its id in Intercom>"}
//
// Its String and LogValue never show the secret, so that printing or
// logging one by mistake leaks nothing.
type RotatedValue struct {
	Secret           string `json:"secret"`
	IntercomSecretID string `json:"intercom_secret_id"`
}

// String shows the id and hides the secret.
func (v RotatedValue) String() string {
	return fmt.Sprintf("{secret:[redacted] intercom_secret_id:%s}", v.IntercomSecretID)
}

// LogValue shows the id and hides the secret.
func (v RotatedValue) LogValue() slog.Value {
	return slog.GroupValue(slog.String(RotatedIDField, v.IntercomSecretID))
}

// Marshal returns the SecretString to store. Both fields must be set.
func (v RotatedValue) Marshal() (string, error) {
	if v.Secret == "" || v.IntercomSecretID == "" {
		return "", errors.New("a rotated value needs both the secret and the Intercom secret id")
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// ParseRotated reads s as a rotated value. ok is false, with no error, for
// a SecretString that is no rotated value (a plain secret, or a JSON object
// without the id field); an error means it claims to be one but is broken.
// Errors never quote the value.
func ParseRotated(s string) (v RotatedValue, ok bool, err error) {
	t := bytes.TrimSpace([]byte(s))
	if len(t) == 0 || t[0] != '{' {
		return RotatedValue{}, false, nil
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal(t, &raw) != nil {
		return RotatedValue{}, false, nil
	}
	return rotatedFrom(raw)
}

// rotatedFrom is ParseRotated of a JSON object already decoded, so that
// the cache decodes a fetched value once.
func rotatedFrom(raw map[string]json.RawMessage) (v RotatedValue, ok bool, err error) {
	if _, has := raw[RotatedIDField]; !has {
		return RotatedValue{}, false, nil
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{RotatedSecretField, &v.Secret}, {RotatedIDField, &v.IntercomSecretID}} {
		r, has := raw[f.name]
		if !has {
			return RotatedValue{}, true, fmt.Errorf("%w: the rotated value has no field %q", ErrInvalidValue, f.name)
		}
		if json.Unmarshal(r, f.dst) != nil {
			return RotatedValue{}, true, fmt.Errorf("%w: field %q of the rotated value is not a string", ErrInvalidValue, f.name)
		}
		if *f.dst == "" {
			return RotatedValue{}, true, fmt.Errorf("%w: field %q of the rotated value is empty", ErrInvalidValue, f.name)
		}
	}
	return v, true, nil
}
