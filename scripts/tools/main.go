// Command tools sets up what `make test` needs besides Go, and says what it
// does. Node.js and Python are the machine's: it checks them and, when one is
// missing or too old, names it and how to get it. moto_server and cfn-lint
// are the project's: when the PATH has the versions that requirements.txt
// pins, they are used as they are and nothing is downloaded; otherwise they
// are installed from that file into a Python virtual environment, which the
// Makefile puts first on the PATH.
//
//	go run ./scripts/tools -venv .tools/venv -requirements scripts/tools/requirements.txt
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The oldest Node.js the client's tests run on (clients/js/package.json's
// engines), and the oldest Python the pinned packages install on (networkx
// 3.6, which cfn-lint needs, asks for 3.11).
const (
	minNode   = 20
	minPython = "3.11"
)

// A pythonTool is a command the integration tests run, and the Python
// package that provides it.
type pythonTool struct {
	command string // on the PATH, as the tests look it up
	pkg     string // its name in requirements.txt, without extras
}

var pythonTools = []pythonTool{
	{command: "moto_server", pkg: "moto"},
	{command: "cfn-lint", pkg: "cfn-lint"},
}

func main() {
	venv := flag.String("venv", ".tools/venv", "the virtual environment to install into when the PATH lacks the pinned tools")
	reqs := flag.String("requirements", "scripts/tools/requirements.txt", "the pinned Python packages")
	flag.Parse()

	ctx, stop := context.WithTimeout(context.Background(), 15*time.Minute)
	defer stop()
	if err := run(ctx, os.Stderr, *venv, *reqs); err != nil {
		fmt.Fprintln(os.Stderr, "tools:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer, venv, reqs string) error {
	if err := checkNode(ctx, w); err != nil {
		return err
	}
	pins, err := readPins(reqs)
	if err != nil {
		return err
	}

	// Several test packages run `make tools` at once; one of them installs.
	if err := os.MkdirAll(filepath.Dir(venv), 0o755); err != nil {
		return err
	}
	unlock, err := lock(venv + ".lock")
	if err != nil {
		return err
	}
	defer unlock()

	found := find(ctx, exec.LookPath)
	report(w, found, pins)
	if fit(found, pins) {
		return nil
	}
	if err := install(ctx, w, venv, reqs, pins); err != nil {
		return err
	}
	// The Makefile puts the venv first on the PATH: look there as the tests will.
	bin := filepath.Join(venv, "bin")
	found = find(ctx, func(name string) (string, error) { return exec.LookPath(filepath.Join(bin, name)) })
	report(w, found, pins)
	if !fit(found, pins) {
		return fmt.Errorf("%s was installed from %s but does not hold the pinned tools", venv, reqs)
	}
	return nil
}

// checkNode fails, naming what to install, unless node is at least minNode.
func checkNode(ctx context.Context, w io.Writer) error {
	how := fmt.Sprintf("the client's tests need Node.js %d or later: install it from https://nodejs.org/ or your package manager", minNode)
	path, err := exec.LookPath("node")
	if err != nil {
		return errors.New(how + " (there is no node on the PATH)")
	}
	out, err := output(ctx, path, "--version")
	if err != nil {
		return fmt.Errorf("%s (%s --version: %v)", how, path, err)
	}
	v := strings.TrimSpace(out)
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < minNode {
		return fmt.Errorf("%s (%s is %s)", how, path, v)
	}
	fmt.Fprintf(w, "tools: node %s at %s\n", v, path)
	return nil
}

// readPins returns the versions requirements.txt pins for pythonTools.
func readPins(reqs string) (map[string]string, error) {
	f, err := os.Open(reqs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pins := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		name, version, ok := strings.Cut(strings.TrimSpace(line), "==")
		if !ok {
			continue
		}
		name, _, _ = strings.Cut(name, "[")
		pins[strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(version)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, t := range pythonTools {
		if pins[t.pkg] == "" {
			return nil, fmt.Errorf("%s pins no version of %s", reqs, t.pkg)
		}
	}
	return pins, nil
}

// A finding is where a tool was found on the PATH, and at what version.
type finding struct {
	tool    pythonTool
	path    string // "" when not on the PATH
	version string // "" when it could not be told
	err     error  // why not
}

// find looks each tool up with look (exec.LookPath for the PATH) and asks
// its version.
func find(ctx context.Context, look func(string) (string, error)) []finding {
	var fs []finding
	for _, t := range pythonTools {
		f := finding{tool: t}
		if path, err := look(t.command); err != nil {
			f.err = err
		} else {
			f.path = path
			f.version, f.err = packageVersion(ctx, f.path, t.pkg)
		}
		fs = append(fs, f)
	}
	return fs
}

// fit reports whether every tool was found at its pinned version.
func fit(fs []finding, pins map[string]string) bool {
	for _, f := range fs {
		if f.err != nil || f.version != pins[f.tool.pkg] {
			return false
		}
	}
	return true
}

func report(w io.Writer, fs []finding, pins map[string]string) {
	for _, f := range fs {
		want := pins[f.tool.pkg]
		switch {
		case f.path == "":
			fmt.Fprintf(w, "tools: %s: not on the PATH (want %s %s)\n", f.tool.command, f.tool.pkg, want)
		case f.err != nil:
			fmt.Fprintf(w, "tools: %s at %s: cannot tell its %s version (%v); want %s\n", f.tool.command, f.path, f.tool.pkg, f.err, want)
		case f.version != want:
			fmt.Fprintf(w, "tools: %s at %s is %s %s; want %s\n", f.tool.command, f.path, f.tool.pkg, f.version, want)
		default:
			fmt.Fprintf(w, "tools: %s at %s: %s %s, the pinned version\n", f.tool.command, f.path, f.tool.pkg, f.version)
		}
	}
}

// packageVersion asks the Python that runs script for the installed version
// of pkg: moto_server has no --version, and the version of the package is
// what requirements.txt pins. The interpreter is the script's #! line, or
// python3 on the PATH when that line is not a Python (a pyenv shim runs the
// python3 of the same PATH).
func packageVersion(ctx context.Context, script, pkg string) (string, error) {
	python, err := interpreter(script)
	if err != nil {
		return "", err
	}
	out, err := output(ctx, python, "-c", "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))", pkg)
	if err != nil {
		return "", fmt.Errorf("%s has no %s package: %w", python, pkg, err)
	}
	return strings.TrimSpace(out), nil
}

// interpreter returns the Python that runs script, from its #! line. pip
// writes `#!/bin/sh` and an exec line when the interpreter's path is too
// long for #!.
func interpreter(script string) (string, error) {
	f, err := os.Open(script)
	if err != nil {
		return "", err
	}
	defer f.Close()
	br := bufio.NewReader(io.LimitReader(f, 4096))
	first, _ := br.ReadString('\n')
	second, _ := br.ReadString('\n')
	shebang := strings.Fields(strings.TrimPrefix(strings.TrimSpace(first), "#!"))
	switch {
	case !strings.HasPrefix(first, "#!") || len(shebang) == 0:
	case isPython(shebang[0]):
		return shebang[0], nil
	case filepath.Base(shebang[0]) == "env" && len(shebang) > 1 && isPython(shebang[1]):
		return exec.LookPath(shebang[1])
	case strings.HasPrefix(second, "'''exec' "):
		if q := strings.Split(second, "\""); len(q) > 1 && isPython(q[1]) {
			return q[1], nil
		}
	}
	return exec.LookPath("python3")
}

func isPython(path string) bool { return strings.HasPrefix(filepath.Base(path), "python") }

// install creates venv with python3 (when it is not there yet) and installs
// requirements.txt into it from the package index.
func install(ctx context.Context, w io.Writer, venv, reqs string, pins map[string]string) (installErr error) {
	python, err := checkPython(ctx)
	if err != nil {
		return err
	}
	venvPython := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(venvPython); err != nil {
		fmt.Fprintf(w, "tools: creating the virtual environment %s with %s\n", venv, python)
		if err := stream(ctx, w, python, "-m", "venv", venv); err != nil {
			os.RemoveAll(venv)
			return fmt.Errorf("%s -m venv %s: %v (on Debian and Ubuntu: apt install python3-venv)", python, venv, err)
		}
		// A venv without the tools would still put its python3 first on
		// the PATH, in front of the one a pyenv shim runs: keep none.
		defer func() {
			if installErr != nil {
				os.RemoveAll(venv)
			}
		}()
	}
	fmt.Fprintf(w, "tools: installing %s (moto[server] %s, cfn-lint %s) into %s from the Python package index\n",
		reqs, pins["moto"], pins["cfn-lint"], venv)
	if err := stream(ctx, w, venvPython, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", reqs); err != nil {
		return fmt.Errorf("could not install %s into %s (%v): this step needs the Python package index (https://pypi.org). "+
			"Where it cannot be reached, put moto[server] %s and cfn-lint %s on the PATH yourself, for example from a wheel mirror: "+
			"pip install -r %s",
			reqs, venv, err, pins["moto"], pins["cfn-lint"], reqs)
	}
	return nil
}

// checkPython returns python3's path, or names what to install.
func checkPython(ctx context.Context) (string, error) {
	how := fmt.Sprintf("installing moto_server and cfn-lint needs Python %s or later: install it from https://www.python.org/downloads/ or your package manager (apt install python3 python3-venv)", minPython)
	path, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New(how + " (there is no python3 on the PATH)")
	}
	out, err := output(ctx, path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
	if err != nil {
		return "", fmt.Errorf("%s (%s: %v)", how, path, err)
	}
	if v := strings.TrimSpace(out); !atLeast(v, minPython) {
		return "", fmt.Errorf("%s (%s is %s)", how, path, v)
	}
	return path, nil
}

// atLeast reports whether the dotted version v is at least min.
func atLeast(v, min string) bool {
	a, b := strings.Split(v, "."), strings.Split(min, ".")
	for i := range b {
		if i >= len(a) {
			return false
		}
		x, errX := strconv.Atoi(a[i])
		y, _ := strconv.Atoi(b[i])
		if errX != nil || x != y {
			return errX == nil && x > y
		}
	}
	return true
}

func output(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		lines := strings.Split(strings.TrimSpace(string(ee.Stderr)), "\n")
		err = fmt.Errorf("%w: %s", err, lines[len(lines)-1])
	}
	return string(out), err
}

func stream(ctx context.Context, w io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = w, w
	return cmd.Run()
}

// lock holds an exclusive lock on path until the returned func is called.
func lock(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
