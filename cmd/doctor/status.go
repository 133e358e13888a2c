// What Intercom's answer means: the status the app saw (-status 400, 401 or
// 403) turned into the cause behind it, using the hash and JWT checks when
// the app's values are given. The README's "Troubleshooting Intercom's 400,
// 401 and 403" and docs/errors.md's "What Intercom answers" say the same;
// keep them in step.

package main

import (
	"fmt"

	"github.com/intercom-identity/userhash/shared/platform"
)

// The statuses Intercom answers an identity it does not accept with, each
// with what it means. A status outside this map is refused as a usage error.
var intercomStatuses = map[int]string{
	400: "Intercom's 400: Messenger Security is enforced for this platform and the messenger got no JWT, or one it refuses",
	401: "Intercom's 401: the user_hash (or JWT) does not verify with the secret Intercom has for this platform",
	403: "Intercom's 403: the web messenger got an update (boot or Intercom('update')) with a user_id or email but neither user_hash nor intercom_user_jwt",
}

// explainStatus adds the "intercom" check: what the status means and the
// cause the doctor concludes from what it was given. It always fails: the
// app saw an error, and the check says which fix is left to try.
func (d *doctor) explainStatus() {
	status := d.opts.status
	given := firstCause(d.causeOf) // "" when neither -hash nor -jwt was given
	var f finding
	switch status {
	case 400:
		switch {
		case d.opts.jwt != "" && d.jwtCause() != CauseMatch:
			f = finding{d.jwtCause(), refused(d.jwtCause(), "the JWT the app sent is itself refused (see jwt above)")}
		case d.opts.jwt != "":
			f = finding{CauseSentAfterLogin, "the JWT the app sent is right for this platform and user, so Intercom did not get it with the login, or holds another secret"}
		case d.opts.hash != "":
			f = finding{CauseHashWhereJWTRequired, "the app sent a user_hash, and where Messenger Security is enforced Intercom takes only a JWT"}
		default:
			f = finding{CauseJWTMissing, "the app sent Intercom no JWT"}
		}
	case 401:
		switch given {
		case "":
			// Nothing to diagnose: say how to find out, with no cause.
			d.rep.fail("intercom", intercomStatuses[status]+"; which mistake made it, the hash or JWT the app sent tells",
				"Run the doctor again with the -hash (or -jwt) the app sent and the -user-id or -email it passed to Intercom: it names the mistake and its fix.")
			return
		case CauseMatch:
			f = finding{CauseSentAfterLogin, "the hash or JWT the app sent is right, so Intercom did not get it with the login, or holds another secret"}
		default:
			f = finding{given, refused(given, "the hash or JWT the app sent is itself the mistake (see above)")}
		}
	case 403:
		f = finding{CauseUpdateWithoutVerification, "a boot or update carried the user but not its user_hash or JWT"}
		if p := d.opts.platform; p != 0 && p != platform.Web {
			f.detail += fmt.Sprintf("; this 403 is the web messenger's, and the app runs on %s", p)
		}
	}
	d.causeOf = append(d.causeOf, f.cause)
	d.rep.fail("intercom", fmt.Sprintf("%s; %s [%s]", intercomStatuses[status], f.detail, f.cause), fixes[f.cause])
}

// jwtCause is the cause found for the JWT: examine checks the hash first,
// so it is the last cause found before this check.
func (d *doctor) jwtCause() Cause {
	if d.opts.jwt == "" || len(d.causeOf) == 0 {
		return ""
	}
	return d.causeOf[len(d.causeOf)-1]
}

// refused is the detail for a cause found in what the app sent: why, or
// that it could not be checked.
func refused(c Cause, why string) string {
	if c == CauseUndetermined {
		return "the doctor could not check what the app sent (see above)"
	}
	return why
}
