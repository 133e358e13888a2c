// Makes user-jwt.json, the known answer of signing_test.go's
// TestUserJWTKnownAnswer, with Node's own crypto and no JWT library, so
// that the answer does not come from the code under test:
//
//   node shared/signing/testdata/user-jwt.js > shared/signing/testdata/user-jwt.json
//
// An Intercom Messenger Security JWT as RFC 7519 defines it: the
// base64url (no padding) of the header and of the claims, joined by a dot,
// then the base64url HMAC-SHA256 of that text keyed with the platform
// secret. The claims are in the order the Go code writes them (user_id,
// email, exp, iat), so that the two tokens are the same bytes.
const crypto = require("node:crypto");

const secret = "demo-ios-secret";
const claims = { user_id: "u-alice-1001", email: "alice@example.com", exp: 1795622645, iat: 1795619045 };

const b64url = (s) => Buffer.from(s).toString("base64url");
const signingInput = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" })) + "." + b64url(JSON.stringify(claims));
const signature = crypto.createHmac("sha256", secret).update(signingInput).digest("base64url");

process.stdout.write(JSON.stringify({
  made_by: "node " + process.version + ", node:crypto; see user-jwt.js",
  secret,
  user_id: claims.user_id,
  email: claims.email,
  iat: claims.iat,
  exp: claims.exp,
  token: signingInput + "." + signature,
}, null, 2) + "\n");
