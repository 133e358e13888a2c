// What a password sign-in knows about the caller's device, for the
// identity provider's risk checks: never part of the identity.

package auth

import "context"

// Caller is what the sign-in passes on about where a password came from,
// so that the identity provider's threat protection judges the user's
// device and address, not the function's. Neither field identifies the
// user to Intercom, and neither is logged.
type Caller struct {
	// IP is the address the request came from: API Gateway's
	// requestContext.http.sourceIp, or the local server's peer.
	IP string
	// EncodedData is the app's device fingerprint from Cognito's
	// user-context-data collector (the body's "encoded_data"), as given.
	EncodedData string
}

type callerKey struct{}

// WithCaller returns ctx carrying c for the sign-in that follows.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the Caller that WithCaller put in ctx, or the zero
// Caller.
func CallerFrom(ctx context.Context) Caller {
	c, _ := ctx.Value(callerKey{}).(Caller)
	return c
}
