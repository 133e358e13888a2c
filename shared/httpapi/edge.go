// The API behind a CloudFront distribution with an AWS WAF web ACL (the
// template's EdgeWebAclArn): CloudFront adds a secret X-Origin-Verify
// header to every request it forwards, and the handler refuses any request
// without it, which went around the web ACL's per-caller limit.

package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/netip"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

const (
	// originVerifyHeader carries the secret CloudFront adds (as one of the
	// origin's custom headers); payload format 2.0 has header names in
	// lower case.
	originVerifyHeader = "x-origin-verify"
	// viewerAddressHeader is CloudFront's "IP:port" of the viewer, which
	// the AllViewerExceptHostHeader origin request policy forwards.
	viewerAddressHeader = "cloudfront-viewer-address"
)

// verifyOrigin refuses a request whose X-Origin-Verify is not the edge's
// secret, when the handler has one. The header's value is never logged or
// echoed. A secret that cannot be read fails closed, with the 503 of a
// platform secret.
func (h *Handler) verifyOrigin(ctx context.Context, req *events.APIGatewayV2HTTPRequest) *failure {
	if h.origin == nil {
		return nil
	}
	want, err := h.origin(ctx)
	if err != nil {
		var later tryLater
		if errors.As(err, &later) {
			return secretUnavailable("the edge's origin-verify", later.RetryAfter(), err)
		}
		return &failure{code: CodeInternal, detail: "an internal error occurred", err: err}
	}
	got := header(req.Headers, originVerifyHeader)
	// An empty secret would let an empty header through.
	if len(want) == 0 || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
		return &failure{code: CodeForbiddenOrigin, detail: "this API is served through its CloudFront URL (the stack's EdgeUrl); call that instead"}
	}
	return nil
}

// viewerIP returns the address of CloudFront-Viewer-Address, which is
// "IP:port": 198.51.100.10:46532, or for IPv6 the address unbracketed
// before the last colon (2001:db8::1:46532); a bracketed form is taken
// too. Anything else is "": the identity provider then gets no address
// rather than a wrong one.
func viewerIP(v string) string {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		if ap.Addr().Zone() != "" {
			return ""
		}
		return ap.Addr().Unmap().String()
	}
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return ""
	}
	ap, err := netip.ParseAddrPort("[" + v[:i] + "]" + v[i:])
	if err != nil || !ap.Addr().Is6() || ap.Addr().Zone() != "" {
		return ""
	}
	return ap.Addr().Unmap().String()
}
