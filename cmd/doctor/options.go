// The command line: flags, what each means, and the combinations that make
// no sense, refused as usage errors before anything is fetched or called.

package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/intercom-identity/userhash/shared/platform"
)

// defaultTimeout bounds each call the doctor makes (Secrets Manager,
// CloudFormation, the API): long enough for a cold Lambda start and a slow
// TLS handshake, short enough that a wrong endpoint fails in seconds.
const defaultTimeout = 10 * time.Second

// options is the parsed command line.
type options struct {
	platform    platform.Platform // zero: not given
	platformArg string            // as typed, for messages
	userID      string
	email       string
	userIDSent  bool // the app passed the user_id to Intercom
	emailSent   bool // the app passed the email to Intercom
	hash        string
	jwt         string
	status      int // the status Intercom answered the app with; 0: not given

	url      string
	stack    string
	region   string
	profile  string
	token    string
	username string
	password string
	origin   string

	json    bool
	timeout time.Duration
}

// smokeTest reports whether the API is to be called.
func (o options) smokeTest() bool { return o.token != "" || o.username != "" }

// The environment variables that may carry what the app sent and the
// bearer token, so that none of them need be typed on a command line,
// where the shell history and the process list would keep it.
const (
	envHash  = "DOCTOR_HASH"
	envJWT   = "DOCTOR_JWT"
	envToken = "DOCTOR_TOKEN"
)

// parseOptions parses args, reading the password, token, hash or JWT from
// stdin when asked to, and the hash, JWT and token from the environment
// (lookup) when their flags are not given. Usage problems are errors; -h is
// flag.ErrHelp.
func parseOptions(args []string, stdin io.Reader, stderr io.Writer, lookup func(string) (string, bool)) (options, error) {
	var (
		o                         options
		sent                      string
		passwordStdin, tokenStdin bool
		hashStdin, jwtStdin       bool
	)
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.platformArg, "platform", "", "the platform the app runs on, in any spelling the API accepts (ios, iPhone, android, web, browser, ...)")
	fs.StringVar(&o.userID, "user-id", "", "the user_id the app passed to Intercom")
	fs.StringVar(&o.email, "email", "", "the email the app passed to Intercom")
	fs.StringVar(&sent, "sent", "", "which identifiers the app passed to Intercom: user_id, email or both (default: those given); with -sent email, -user-id names the user's user_id that was not sent")
	fs.StringVar(&o.hash, "hash", "", "the user_hash the app passed to Intercom (64 hex digits); or -hash-stdin, or "+envHash+" in the environment")
	fs.BoolVar(&hashStdin, "hash-stdin", false, "read the user_hash from standard input")
	fs.StringVar(&o.jwt, "jwt", "", "the user_jwt the app passed to Intercom; or -jwt-stdin, or "+envJWT+" in the environment")
	fs.BoolVar(&jwtStdin, "jwt-stdin", false, "read the user_jwt from standard input")
	fs.IntVar(&o.status, "status", 0, "the HTTP status Intercom answered the app with: 400, 401 or 403; the doctor explains its cause (with -hash or -jwt, from them)")
	fs.StringVar(&o.url, "url", "", "the deployed endpoint, e.g. https://abc.execute-api.eu-west-1.amazonaws.com/v1/intercom/user-hash")
	fs.StringVar(&o.stack, "stack", "", "a CloudFormation stack of this service: its outputs give the endpoint and the secret IDs")
	fs.StringVar(&o.region, "region", "", "the AWS region (default: AWS_REGION or the profile's)")
	fs.StringVar(&o.profile, "profile", "", "the AWS shared-config profile (default: AWS_PROFILE)")
	fs.StringVar(&o.token, "token", "", "jwt mode: a bearer token (the ID token) of a user, for the call to the API; -token-stdin or "+envToken+" in the environment keeps it out of the shell history and the process list")
	fs.BoolVar(&tokenStdin, "token-stdin", false, "jwt mode: read the bearer token from standard input")
	fs.StringVar(&o.username, "username", "", "password mode: the user to sign in as, for the call to the API")
	fs.BoolVar(&passwordStdin, "password-stdin", false, "password mode: read the password from standard input (there is no password flag)")
	fs.StringVar(&o.origin, "origin", "", "a browser origin whose CORS the API must allow, e.g. capacitor://localhost")
	fs.BoolVar(&o.json, "json", false, "print one JSON object instead of text")
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "the time bound of each call (Secrets Manager, CloudFormation, the API)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: go run ./cmd/doctor [flags]   (or: make doctor ARGS='[flags]')

Explains Intercom's 400, 401 or 403 and smoke-tests a deployed stack, with the
function's own configuration (the same environment variables) and code.

  diagnose a hash:  -platform ios -user-id u-123 -hash 0e86805c...
  diagnose a JWT:   -platform android -jwt eyJhbGci...
  explain a status: -status 400 (or 401, 403), with -platform and -hash or -jwt when you have them
  smoke test:       -stack NAME (or -url URL) with -token TOKEN, or -username NAME -password-stdin

A hash, JWT or token on the command line stays in the shell history and
shows in the process list: pipe it in (-hash-stdin, -jwt-stdin,
-token-stdin; standard input holds one value) or set `+envHash+`, `+envJWT+`
or `+envToken+`. Credentials go over http:// only to a loopback address
(localhost, 127.0.0.1, ::1); anywhere else the URL must be https://.

Exit status: 0 every check holds, 1 a check failed, 2 usage error.

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q: every input is a flag", fs.Arg(0))
	}
	stdins := 0
	for _, on := range []bool{passwordStdin, tokenStdin, hashStdin, jwtStdin} {
		if on {
			stdins++
		}
	}
	if stdins > 1 && !(tokenStdin && passwordStdin && stdins == 2) {
		return options{}, errors.New("-hash-stdin, -jwt-stdin, -token-stdin, -password-stdin: standard input holds one of them; give the others as flags or in " + envHash + ", " + envJWT + ", " + envToken)
	}
	// Each variable counts only where its flag would make sense, so that
	// one left exported from an earlier run does not turn another kind of
	// run into a usage error.
	for _, in := range []struct {
		flag, env string
		stdin     bool
		dst       *string
		applies   bool
	}{
		{"-hash", envHash, hashStdin, &o.hash, o.userID != "" || o.email != ""},
		{"-jwt", envJWT, jwtStdin, &o.jwt, o.platformArg != ""},
	} {
		if *in.dst != "" && in.stdin {
			return options{}, fmt.Errorf("%s and %s-stdin: give one", in.flag, in.flag)
		}
		if in.stdin {
			v, err := readLine(stdin)
			if *in.dst = strings.TrimSpace(v); err != nil || *in.dst == "" {
				return options{}, fmt.Errorf("%s-stdin: nothing on standard input", in.flag)
			}
		}
		if v, ok := lookup(in.env); ok && *in.dst == "" && in.applies {
			*in.dst = strings.TrimSpace(v)
		}
	}
	if v, ok := lookup(envToken); ok && o.token == "" && !tokenStdin && o.username == "" && (o.url != "" || o.stack != "") {
		o.token = strings.TrimSpace(v)
	}
	if err := o.check(sent, passwordStdin, tokenStdin); err != nil {
		return options{}, err
	}
	switch {
	case passwordStdin:
		pw, err := readLine(stdin)
		if err != nil || pw == "" {
			return options{}, errors.New("-password-stdin: no password on standard input")
		}
		o.password = pw
	case tokenStdin:
		tok, err := readLine(stdin)
		if o.token = strings.TrimSpace(tok); err != nil || o.token == "" {
			return options{}, errors.New("-token-stdin: no token on standard input")
		}
	}
	return o, nil
}

// check refuses what cannot be right, naming the flag at fault.
func (o *options) check(sent string, passwordStdin, tokenStdin bool) error {
	if o.platformArg != "" {
		p, err := platform.Parse(o.platformArg)
		if err != nil {
			return fmt.Errorf("-platform: %q is not a platform; use ios, android or web (or iphone, ipad, browser, ...)", o.platformArg)
		}
		o.platform = p
	}
	if _, ok := intercomStatuses[o.status]; o.status != 0 && !ok {
		return fmt.Errorf("-status: %d is not one the doctor explains; Intercom refuses an identity with 400 (Messenger Security), 401 (identity verification) or 403 (web update)", o.status)
	}
	if o.timeout <= 0 {
		return errors.New("-timeout: must be more than 0")
	}
	if (o.hash != "" || o.jwt != "") && o.platform == 0 {
		return errors.New("-platform: needed with -hash and -jwt: the platform the app runs on picks the secret")
	}
	if o.hash != "" {
		if o.userID == "" && o.email == "" {
			return errors.New("-hash: give the identifier the app passed to Intercom with it: -user-id, -email, or both")
		}
		if !isHash(o.hash) {
			return fmt.Errorf("-hash: %s is not 64 hex digits; a user_hash is HMAC-SHA256 in hex, as the API returns it (if the app sent this, that is the mistake)", describeLength(o.hash))
		}
	}
	if err := o.parseSent(sent); err != nil {
		return err
	}

	switch {
	case o.url != "" && o.stack != "":
		return errors.New("-url and -stack: give one; the stack's UserHashUrl output is its endpoint")
	case o.url != "":
		u, err := url.Parse(o.url)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("-url: not an http(s) URL; use the stack's UserHashUrl output")
		}
		if err := safeForCredentials(o.url); err != nil {
			return fmt.Errorf("-url: %v", err)
		}
	}
	if o.token != "" && tokenStdin {
		return errors.New("-token and -token-stdin: give one")
	}
	if tokenStdin && passwordStdin {
		return errors.New("-token-stdin and -password-stdin: standard input holds one of them")
	}
	bearer := o.token != "" || tokenStdin
	switch {
	case bearer && o.username != "":
		return errors.New("-token and -username: jwt mode takes a bearer token, password mode a username and password; give one")
	case o.username != "" && !passwordStdin:
		return errors.New("-username: add -password-stdin and pipe the password in; there is no password flag, so that it stays out of the shell history and the process list")
	case passwordStdin && o.username == "":
		return errors.New("-password-stdin: needs -username")
	case (bearer || o.username != "") && o.url == "" && o.stack == "":
		return errors.New("-token, -username: the credentials are for a call to the API; give -url or -stack")
	case o.url != "" && !bearer && o.username == "":
		return errors.New("-url: calling the API needs credentials: -token (jwt mode) or -username with -password-stdin (password mode)")
	case o.origin != "" && !bearer && o.username == "":
		return errors.New("-origin: checks CORS on a call to the API; give -url or -stack and credentials")
	}
	if o.origin != "" {
		if u, err := url.Parse(o.origin); err != nil || u.Scheme == "" || u.Host == "" || u.Path != "" {
			return fmt.Errorf("-origin: %q is not an origin; use scheme://host[:port], e.g. capacitor://localhost", o.origin)
		}
	}
	if o.hash == "" && o.jwt == "" && (o.userID != "" || o.email != "") {
		return errors.New("-user-id, -email: give the -hash or -jwt the app sent with them")
	}
	return nil
}

// parseSent sets which identifiers the app passed to Intercom.
func (o *options) parseSent(sent string) error {
	switch sent {
	case "":
		o.userIDSent, o.emailSent = o.userID != "", o.email != ""
		return nil
	case "user_id":
		o.userIDSent = true
	case "email":
		o.emailSent = true
	case "both":
		o.userIDSent, o.emailSent = true, true
	default:
		return fmt.Errorf("-sent: %q is not user_id, email or both", sent)
	}
	switch {
	case o.hash == "" && o.jwt == "":
		return errors.New("-sent: says what the app sent with a -hash or -jwt; give one")
	case o.userIDSent && o.userID == "":
		return errors.New("-sent: says the user_id was sent; give it with -user-id")
	case o.emailSent && o.email == "":
		return errors.New("-sent: says the email was sent; give it with -email")
	}
	return nil
}

// safeForCredentials refuses a URL that would carry a token or password
// in clear text: http:// is for a local server on a loopback address only.
func safeForCredentials(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return errors.New("http:// would send the credentials in clear text; use https:// (http:// only for a local server on localhost, 127.0.0.1 or ::1)")
	}
	return errors.New("not an http(s) URL")
}

// isLoopback reports whether host names this machine: localhost or a
// loopback address, never a name that resolves elsewhere.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isHash reports whether s is 64 hex digits, in either case.
func isHash(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// describeLength says what a malformed hash looks like without showing it.
func describeLength(s string) string {
	if strings.Count(s, ".") == 2 && strings.HasPrefix(s, "eyJ") {
		return "the value looks like a JWT (give it with -jwt); it"
	}
	return fmt.Sprintf("the value (%d characters)", len(s))
}

// readLine reads the first line of r, without its line ending. Nothing else
// is trimmed: a password may start or end with a space.
func readLine(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 64<<10), 4096).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", err
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}
