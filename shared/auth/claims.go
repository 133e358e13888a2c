// Claims as strings: API Gateway hands the function a token's claims as a
// map of strings, so everything downstream (ClaimMapping) reads them that
// way, whether the gateway, the local server's verifier or a Cognito ID
// token supplied them.

package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ClaimStrings decodes a JWT payload (a JSON object) into the map of
// strings that API Gateway's JWT authorizer passes in
// requestContext.authorizer.jwt.claims:
//
//   - a string is kept as it is, byte for byte;
//   - a number is its JSON text ("exp": 1764083045 gives "1764083045"), so
//     large integer IDs are not rounded through float64;
//   - true and false are "true" and "false";
//   - an array is its elements, each flattened the same way, separated by
//     spaces inside brackets (["a","b"] gives "[a b]"), as the gateway
//     writes cognito:groups;
//   - an object is its compact JSON text (the gateway's rendering of
//     objects is not documented; JSON at least loses nothing);
//   - null is left out, as if the claim were absent.
func ClaimStrings(payload []byte) (map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("claims are not a JSON object: %v", err)
	}
	if m == nil {
		return nil, errors.New("claims are not a JSON object")
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v == nil {
			continue
		}
		out[k] = claimString(v)
	}
	return out, nil
}

func claimString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = claimString(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default: // map[string]any
		b, _ := json.Marshal(v) // values came from JSON, so this cannot fail
		return string(b)
	}
}
