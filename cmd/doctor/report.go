// The report: one line per check in text, or one JSON object for scripts,
// with every sensitive value the doctor holds masked as a last line of
// defence (the checks are written never to contain one in the first place).

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Check is one thing the doctor checked. Name is stable for scripts
// ("config", "stack", "aws", "secret.ios", "hash", "jwt", "api.ios",
// "api.ios.headers", "api.ios.cors", "api.ios.user_hash",
// "api.ios.user_jwt", "intercom" for -status); Detail and Fix are for people and may change.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	Fix    string `json:"fix,omitempty"` // for a failed check: one sentence on how to fix it
}

// Report is everything the doctor found. Cause is set when a hash or a JWT
// was given: "match" or one of the cause codes.
type Report struct {
	OK     bool    `json:"ok"`
	Checks []Check `json:"checks"`
	Cause  Cause   `json:"cause,omitempty"`
}

func (r *Report) add(c Check) { r.Checks = append(r.Checks, c) }

func (r *Report) pass(name, detail string) { r.add(Check{Name: name, OK: true, Detail: detail}) }

func (r *Report) fail(name, detail, fix string) {
	r.add(Check{Name: name, Detail: detail, Fix: fix})
}

// finish sets OK: true only when there is at least one check and every
// check holds.
func (r *Report) finish() {
	r.OK = len(r.Checks) > 0
	for _, c := range r.Checks {
		r.OK = r.OK && c.OK
	}
}

// minMasked is the shortest value that is masked: shorter ones would mask
// ordinary words, and no real secret, password or token is that short.
const minMasked = 6

// masked returns r with every occurrence of a sensitive value replaced.
func (r Report) masked(sensitive []string) Report {
	var repl []string
	for _, s := range sensitive {
		if len(s) >= minMasked {
			repl = append(repl, s, "[redacted]")
		}
	}
	if len(repl) == 0 {
		return r
	}
	m := strings.NewReplacer(repl...)
	out := r
	out.Checks = make([]Check, len(r.Checks))
	for i, c := range r.Checks {
		out.Checks[i] = Check{Name: m.Replace(c.Name), OK: c.OK, Detail: m.Replace(c.Detail), Fix: m.Replace(c.Fix)}
	}
	return out
}

// writeJSON writes the report as one JSON object on one line.
func (r Report) writeJSON(w io.Writer, sensitive []string) error {
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	return json.NewEncoder(w).Encode(r.masked(sensitive))
}

// writeText writes one line per check, "ok" or "FAIL", its name and detail,
// and under a failed check the fix; then the cause and a summary.
func (r Report) writeText(w io.Writer, sensitive []string) error {
	r = r.masked(sensitive)
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	var b strings.Builder
	failed := 0
	for _, c := range r.Checks {
		status := "ok"
		if !c.OK {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(&b, "%-4s  %-*s  %s\n", status, width, c.Name, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(&b, "      %-*s  fix: %s\n", width, "", c.Fix)
		}
	}
	if r.Cause != "" {
		fmt.Fprintf(&b, "\ncause: %s\n", r.Cause)
		if r.Cause == CauseMatch {
			b.WriteString("If Intercom still answers 401: " + matchButRejected + "\n")
		}
	}
	switch {
	case failed > 0:
		fmt.Fprintf(&b, "\n%d of %d checks failed\n", failed, len(r.Checks))
	case r.OK:
		fmt.Fprintf(&b, "\nall %d checks hold\n", len(r.Checks))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
