// A made-up request answered during init, so that the first real one does
// not pay for first use: encoding/json's reflection over the event, body
// and response types (aws-lambda-go decodes and encodes them with it), the
// HMAC and JWT code, the first log and metrics line. In Lambda the first
// request runs at the memory size's share of a CPU, while init commonly
// runs faster; this moves about a millisecond of CPU from one to the other.

package httpapi

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/intercom-identity/userhash/shared/platform"
)

// warmUpSecret is the made-up request's secret source: a fixed key that is
// no one's secret, so that nothing reaches the cache or Secrets Manager.
type warmUpSecret struct{}

func (warmUpSecret) PlatformSecret(context.Context, platform.Platform) ([]byte, error) {
	return []byte("warm-up, not a secret"), nil
}

// WarmUp answers one made-up jwt-mode request for a made-up user with a
// handler of its own, built with opts (give it the real handler's claim
// mapping and JWT lifetime, and a logger and an observer that write
// nowhere, made the same way as the real ones), with the event and the
// answer going through encoding/json as the Lambda runtime sends them.
// It never signs in: WithPasswords among opts is ignored. It returns the
// answer's status, 200 unless the options break the made-up request.
func WarmUp(opts ...Option) int {
	h := New(warmUpSecret{}, []platform.Platform{platform.IOS}, opts...)
	h.passwords = nil
	claims := map[string]string{h.claims.UserID: "warm-up-user", h.claims.Email: "warm-up@example.invalid"}
	if !h.claims.IssuerVerifiesEmails {
		claims[h.claims.EmailVerified] = "true"
	}
	for _, a := range h.claims.Attributes {
		if _, ok := claims[a.Claim]; !ok {
			claims[a.Claim] = "warm-up"
		}
	}
	ev := events.APIGatewayV2HTTPRequest{
		RouteKey: "POST " + Path,
		RawPath:  Path,
		Headers:  map[string]string{"content-type": "application/json"},
		Body:     `{"platform":"ios"}`,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: Path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}},
		},
	}
	raw, _ := json.Marshal(ev)
	var in events.APIGatewayV2HTTPRequest
	_ = json.Unmarshal(raw, &in)
	resp, _ := h.Handle(context.Background(), in)
	_, _ = json.Marshal(resp)
	return resp.StatusCode
}
