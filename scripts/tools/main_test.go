package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var pins = map[string]string{"moto": "5.2.1", "cfn-lint": "1.51.0"}

// script writes an executable shell script. The fakes set their own PATH
// for mkdir and friends, so a test's PATH can hold the fakes alone.
func script(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\nPATH=/usr/bin:/bin\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fakePython writes a Python that answers importlib.metadata.version for
// the packages in versions, and fails like Python for any other.
func fakePython(t *testing.T, path string, versions map[string]string) {
	t.Helper()
	body := "case \"$3\" in\n"
	for pkg, v := range versions {
		body += pkg + ") echo " + v + " ;;\n"
	}
	body += "*) echo \"importlib.metadata.PackageNotFoundError: No package metadata was found for $3\" >&2; exit 1 ;;\nesac\n"
	script(t, path, body)
}

// tool writes a console script run by python, as pip writes one.
func tool(t *testing.T, path, python string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!"+python+"\nimport sys\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestFindTellsPinnedFromOtherAndMissing(t *testing.T) {
	tests := []struct {
		name     string
		versions map[string]string // what the tools' Python has installed
		commands []string          // the scripts on the PATH
		fit      bool
		report   []string
	}{
		{
			name:     "both at the pinned versions",
			versions: map[string]string{"moto": "5.2.1", "cfn-lint": "1.51.0"},
			commands: []string{"moto_server", "cfn-lint"},
			fit:      true,
			report:   []string{"moto 5.2.1, the pinned version", "cfn-lint 1.51.0, the pinned version"},
		},
		{
			name:     "moto at another version",
			versions: map[string]string{"moto": "5.1.0", "cfn-lint": "1.51.0"},
			commands: []string{"moto_server", "cfn-lint"},
			report:   []string{"is moto 5.1.0; want 5.2.1", "cfn-lint 1.51.0, the pinned version"},
		},
		{
			name:     "cfn-lint a patch release ahead",
			versions: map[string]string{"moto": "5.2.1", "cfn-lint": "1.51.1"},
			commands: []string{"moto_server", "cfn-lint"},
			report:   []string{"is cfn-lint 1.51.1; want 1.51.0"},
		},
		{
			name:     "cfn-lint missing",
			versions: map[string]string{"moto": "5.2.1"},
			commands: []string{"moto_server"},
			report:   []string{"moto 5.2.1, the pinned version", "cfn-lint: not on the PATH (want cfn-lint 1.51.0)"},
		},
		{
			name:     "moto_server whose Python has no moto",
			versions: map[string]string{"cfn-lint": "1.51.0"},
			commands: []string{"moto_server", "cfn-lint"},
			report:   []string{"cannot tell its moto version", "No package metadata was found for moto"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			python := filepath.Join(dir, "python3.12")
			fakePython(t, python, tt.versions)
			for _, c := range tt.commands {
				tool(t, filepath.Join(dir, c), python)
			}
			found := find(context.Background(), func(name string) (string, error) {
				return exec.LookPath(filepath.Join(dir, name))
			})
			if got := fit(found, pins); got != tt.fit {
				t.Errorf("fit = %v, want %v", got, tt.fit)
			}
			var out bytes.Buffer
			report(&out, found, pins)
			for _, want := range tt.report {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestInterpreterFromTheScript(t *testing.T) {
	dir := t.TempDir()
	python := filepath.Join(dir, "python3")
	script(t, python, "")
	t.Setenv("PATH", dir)
	tests := []struct {
		name, script, want string
	}{
		{"a #! line naming a Python", "#!/opt/venv/bin/python3.11\n", "/opt/venv/bin/python3.11"},
		{"env", "#!/usr/bin/env python3\n", python},
		{"pip's exec line for a long path", "#!/bin/sh\n'''exec' \"/a/very/long/venv/bin/python\" \"$0\" \"$@\"\n' '''\n", "/a/very/long/venv/bin/python"},
		{"a shim that is not Python", "#!/usr/bin/env bash\nexec pyenv exec moto_server\n", python},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "moto_server")
			if err := os.WriteFile(path, []byte(tt.script), 0o755); err != nil {
				t.Fatal(err)
			}
			got, err := interpreter(path)
			if err != nil || got != tt.want {
				t.Errorf("interpreter = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// machine puts fakes of node and python3 alone on the PATH. Its python3
// creates a venv whose pip installs the pinned tools, or fails as pip does
// without the package index when offline.
func machine(t *testing.T, node, python string, offline bool) string {
	t.Helper()
	dir := t.TempDir()
	if node != "" {
		script(t, filepath.Join(dir, "node"), "echo "+node+"\n")
	}
	pip := `for c in moto_server cfn-lint; do printf '#!%s/python\n' "$bin" > "$bin/$c"; chmod +x "$bin/$c"; done`
	if offline {
		pip = `echo "ERROR: No matching distribution found for cfn-lint==1.51.0" >&2; exit 1`
	}
	if python != "" {
		script(t, filepath.Join(dir, "python3"), `
case "$1 $2" in
"-m venv")
	mkdir -p "$3/bin"
	cat > "$3/bin/python" <<'EOF'
#!/bin/sh
PATH=/usr/bin:/bin
bin=$(dirname "$0")
case "$1 $3" in
"-c moto") echo 5.2.1 ;;
"-c cfn-lint") echo 1.51.0 ;;
"-m install") `+pip+` ;;
*) exit 1 ;;
esac
EOF
	chmod +x "$3/bin/python" ;;
*) echo `+python+` ;;
esac
`)
	}
	t.Setenv("PATH", dir)
	return dir
}

func TestRunSetsUpWhatIsMissingOrNamesWhatItCannot(t *testing.T) {
	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(reqs, []byte("cfn-lint==1.51.0\nmoto[server]==5.2.1  # the AWS emulator\nboto3==1.43.11\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		node, python  string
		offline       bool
		wantErr       string // "" for success
		wantOut       []string
		wantVenvTools bool
	}{
		{
			name: "missing tools installed into the venv",
			node: "v20.20.2", python: "3.12",
			wantOut: []string{
				"moto_server: not on the PATH (want moto 5.2.1)",
				"creating the virtual environment",
				"installing " + reqs + " (moto[server] 5.2.1, cfn-lint 1.51.0)",
				"venv/bin/moto_server: moto 5.2.1, the pinned version",
				"venv/bin/cfn-lint: cfn-lint 1.51.0, the pinned version",
			},
			wantVenvTools: true,
		},
		{
			name: "no package index",
			node: "v22.1.0", python: "3.11", offline: true,
			wantErr: "this step needs the Python package index (https://pypi.org)",
			wantOut: []string{"No matching distribution found"},
		},
		{
			name: "no node", python: "3.12",
			wantErr: "the client's tests need Node.js 20 or later: install it from https://nodejs.org/ or your package manager (there is no node on the PATH)",
		},
		{
			name: "node too old", node: "v18.19.0", python: "3.12",
			wantErr: "(" + "%PATH%/node is v18.19.0)",
		},
		{
			name: "no python3", node: "v20.20.2",
			wantErr: "installing moto_server and cfn-lint needs Python 3.11 or later",
		},
		{
			name: "python3 too old", node: "v20.20.2", python: "3.10",
			wantErr: "needs Python 3.11 or later: install it from https://www.python.org/downloads/ or your package manager (apt install python3 python3-venv) (%PATH%/python3 is 3.10)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := machine(t, tt.node, tt.python, tt.offline)
			venv := filepath.Join(t.TempDir(), "venv")
			var out bytes.Buffer
			err := run(context.Background(), &out, venv, reqs)
			wantErr := strings.ReplaceAll(tt.wantErr, "%PATH%", path)
			switch {
			case wantErr == "" && err != nil:
				t.Fatalf("run: %v\n%s", err, out.String())
			case wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr)):
				t.Fatalf("run error = %v, want one containing %q\n%s", err, wantErr, out.String())
			}
			for _, want := range tt.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			_, statErr := os.Stat(filepath.Join(venv, "bin", "moto_server"))
			if got := statErr == nil; got != tt.wantVenvTools {
				t.Errorf("venv holds moto_server: %v, want %v", got, tt.wantVenvTools)
			}
			// A venv left without the tools would put its python3 first on the PATH.
			if _, err := os.Stat(venv); !tt.wantVenvTools && !os.IsNotExist(err) {
				t.Errorf("run left %s behind (stat: %v)", venv, err)
			}
		})
	}
}

func TestRunUsesThePinnedToolsOnThePathAndInstallsNothing(t *testing.T) {
	dir := machine(t, "v20.20.2", "3.12", true)
	python := filepath.Join(dir, "python3.11")
	fakePython(t, python, pins)
	tool(t, filepath.Join(dir, "moto_server"), python)
	tool(t, filepath.Join(dir, "cfn-lint"), python)
	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(reqs, []byte("moto[server]==5.2.1\ncfn-lint==1.51.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	venv := filepath.Join(t.TempDir(), "venv")
	var out bytes.Buffer
	if err := run(context.Background(), &out, venv, reqs); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(venv); !os.IsNotExist(err) {
		t.Errorf("run created %s although the PATH had the pinned tools (stat: %v)\n%s", venv, err, out.String())
	}
	for _, want := range []string{"moto 5.2.1, the pinned version", "cfn-lint 1.51.0, the pinned version"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReadPinsNeedsBothTools(t *testing.T) {
	reqs := filepath.Join(t.TempDir(), "requirements.txt")
	if err := os.WriteFile(reqs, []byte("moto[server]==5.2.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPins(reqs); err == nil || !strings.Contains(err.Error(), "pins no version of cfn-lint") {
		t.Errorf("readPins = %v, want an error naming cfn-lint", err)
	}
}

func TestTheRepositoryRequirementsPinBothTools(t *testing.T) {
	got, err := readPins("requirements.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"moto", "cfn-lint"} {
		if strings.Count(got[pkg], ".") != 2 {
			t.Errorf("requirements.txt pins %s at %q, want an exact release", pkg, got[pkg])
		}
	}
}
