// Command invoke-rie runs one event through a Lambda bootstrap inside the
// AWS Lambda Runtime Interface Emulator, with no Docker, and exits non-zero
// unless the function answered. `make invoke-rie EVENT=...` builds the
// bootstrap for this machine and runs it:
//
//	go run ./scripts/invoke-rie -rie .tools/bin/aws-lambda-rie -bootstrap DIR/bootstrap events/ios.json
//
// The function's answer (the API Gateway response, whatever its HTTP
// status: a 400 problem is an answer) goes to stdout, and the emulator's
// and the function's log to stderr. The exit status is 1 when the
// invocation failed: the event file cannot be read, the emulator does not
// start or answers other than 200 (a failed init), or the function
// returned an error (an event the runtime cannot decode, a panic), which
// the emulator reports as a 200 with an errorType body, never an API
// Gateway response.
//
// The function reads its configuration from this process's environment,
// as it would from the function's in Lambda.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/intercom-identity/userhash/internal/rie"
)

func main() {
	rieBin := flag.String("rie", ".tools/bin/aws-lambda-rie", "the emulator (make rie builds it)")
	bootstrap := flag.String("bootstrap", "", "the function's bootstrap, built for this machine")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: invoke-rie -bootstrap FILE [-rie FILE] EVENT.json")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *bootstrap == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	answer, err := invoke(*rieBin, *bootstrap, flag.Arg(0))
	if answer != nil {
		fmt.Println(string(answer))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoke-rie: "+err.Error())
		os.Exit(1)
	}
}

// invoke runs the event and returns the function's answer, and an error
// unless that answer is an API Gateway response.
func invoke(rieBin, bootstrap, eventFile string) ([]byte, error) {
	event, err := os.ReadFile(eventFile)
	if err != nil {
		return nil, fmt.Errorf("read the event: %w", err)
	}
	bootstrap, err = filepath.Abs(bootstrap)
	if err != nil {
		return nil, err
	}
	env := os.Environ()
	for _, kv := range []string{"AWS_LAMBDA_FUNCTION_TIMEOUT=10", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128"} {
		if name, _, _ := strings.Cut(kv, "="); os.Getenv(name) == "" {
			env = append(env, kv)
		}
	}
	f, err := rie.Start(rieBin, bootstrap, env)
	if err != nil {
		return nil, err
	}
	status, body, err := f.Invoke(event)
	f.Stop()
	fmt.Fprint(os.Stderr, f.Output())
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return body, fmt.Errorf("the emulator answered HTTP %d: the function did not start (its log is above)", status)
	}
	return body, checkAnswer(body)
}

// checkAnswer returns nil for an API Gateway (payload 2.0) response, and
// the function's error otherwise.
func checkAnswer(body []byte) error {
	var a struct {
		StatusCode   *int   `json:"statusCode"`
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	switch err := json.Unmarshal(body, &a); {
	case err != nil:
		return fmt.Errorf("the function's answer is not JSON: %w", err)
	case a.ErrorType != "" || a.ErrorMessage != "":
		return fmt.Errorf("the function failed: %s: %s", a.ErrorType, a.ErrorMessage)
	case a.StatusCode == nil:
		return errors.New("the function's answer is not an API Gateway response (no statusCode)")
	}
	fmt.Fprintf(os.Stderr, "invoke-rie: the function answered HTTP %d\n", *a.StatusCode)
	return nil
}
