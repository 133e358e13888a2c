// Command doctor answers the two questions an operator of this service asks
// most (README, "Troubleshooting Intercom's 400, 401 and 403"): "why does
// Intercom say 401?" (or 400, or 403) and "does my deployed stack work?".
// It reads the function's own configuration (config.Load, the same
// environment variables), fetches each platform's secret with the
// function's own Secrets Manager client and cache, and signs with the
// function's own code (shared/signing), so that what it proves holds for
// the function.
//
//	# which mistake made this hash fail?
//	make doctor ARGS='-platform ios -user-id u-123 -hash 0e86805cbabd1549...'
//	# what does Intercom's 400 mean for this app? (-status 400, 401 or 403)
//	make doctor ARGS='-status 400 -platform android -jwt eyJhbGci...'
//	# does the deployed stack sign correctly? (the password is read from stdin)
//	make doctor ARGS='-stack intercom-user-hash-dev -username alice@example.com -password-stdin' < pw.txt
//	# the same for scripts, with a bearer token
//	go run ./cmd/doctor -stack intercom-user-hash-dev -token "$ID_TOKEN" -json
//
// It prints one line per check (ok or FAIL, a name, a detail, and for a
// failure one sentence on how to fix it), or with -json one object:
// {"ok": bool, "checks": [{"name", "ok", "detail", "fix"}], "cause": code}.
// The exit status is 0 when every check holds, 1 when one fails, 2 for a
// usage error. It never prints a secret, a token, a password, or more than a
// short prefix of a hash it was given.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// The exit statuses, stable for scripts.
const (
	exitOK     = 0 // every check holds
	exitFailed = 1 // at least one check failed
	exitUsage  = 2 // the command line is wrong (as the flag package exits)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// run is the whole command, with its inputs and outputs passed in so that
// tests can run it in process. lookup reads the environment (os.LookupEnv).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookup func(string) (string, bool)) int {
	o, err := parseOptions(args, stdin, stderr, lookup)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "doctor: "+err.Error())
		fmt.Fprintln(stderr, "run `go run ./cmd/doctor -h` for the flags")
		return exitUsage
	}
	d := newDoctor(o, lookup)
	rep := d.examine(ctx)
	if o.json {
		err = rep.writeJSON(stdout, d.sensitive())
	} else {
		err = rep.writeText(stdout, d.sensitive())
	}
	if err != nil {
		fmt.Fprintln(stderr, "doctor: "+err.Error())
		return exitFailed
	}
	if !rep.OK {
		return exitFailed
	}
	return exitOK
}
