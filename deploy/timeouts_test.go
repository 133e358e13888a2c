// The function's timeout against the time bounds in the code: a request
// that meets the slowest Cognito and Secrets Manager the bounds allow still
// gets the function's own answer, never the gateway's 500 after a timeout.

package deploy_test

import (
	"testing"
	"time"

	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/secrets"
)

func TestTimeoutHoldsTheSlowestRequest(t *testing.T) {
	tpl := loadTemplate(t)
	seconds, ok := at(tpl, "Globals", "Function", "Timeout").(int)
	if !ok {
		t.Fatalf("Globals.Function.Timeout = %v, want a number of seconds", at(tpl, "Globals", "Function", "Timeout"))
	}
	timeout := time.Duration(seconds) * time.Second
	// A sign-in may take its whole bound, and the platform secret's fetch
	// its attempt timeout after it; a second is left for the rest.
	slowest := cognito.DefaultTimeout + secrets.DefaultAttemptTimeout + time.Second
	if slowest > timeout {
		t.Errorf("the slowest request takes %v (sign-in %v, secret fetch %v, 1s to answer), more than the function's timeout %v", slowest, cognito.DefaultTimeout, secrets.DefaultAttemptTimeout, timeout)
	}
	// Both attempts fit in the sign-in's bound, so a hung first attempt
	// still gets its retry.
	if 2*cognito.AttemptTimeout >= cognito.DefaultTimeout {
		t.Errorf("two attempts of %v do not fit in the sign-in's bound of %v", cognito.AttemptTimeout, cognito.DefaultTimeout)
	}
}
