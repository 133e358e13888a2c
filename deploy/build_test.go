// The builds SAM runs: `make build-UserHashFunction ARTIFACTS_DIR=DIR` (and
// build-RotateSecretFunction) must leave DIR/bootstrap, a static
// linux/arm64 executable built with the flags the provided.al2023 runtime
// and a small cold start want, by the Go that go.mod pins.

package deploy_test

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/internal/testenv"
)

func TestBuildTargetWritesStaticARM64Bootstrap(t *testing.T) {
	makeBin := testenv.NeedsTool(t, "make")
	for logicalID, pkg := range map[string]string{
		"UserHashFunction":     "./functions/userhash",
		"RotateSecretFunction": "./functions/rotate",
	} {
		t.Run(logicalID, func(t *testing.T) { checkBuildTarget(t, makeBin, logicalID, pkg) })
	}
}

func checkBuildTarget(t *testing.T, makeBin, logicalID, pkg string) {
	dir := t.TempDir()
	cmd := exec.Command(makeBin, "-C", "..", "--no-print-directory", "build-"+logicalID, "ARTIFACTS_DIR="+dir)
	// The target's own settings, not whatever this shell exports.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains([]string{"LAMBDA_ARCH", "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS"}, name)
	})
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build-%s: %v\n%s", logicalID, err, out)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"bootstrap"}) {
		t.Fatalf("ARTIFACTS_DIR holds %v, want just bootstrap", names)
	}
	path := filepath.Join(dir, "bootstrap")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm()&0o111 == 0 {
		t.Errorf("bootstrap is not executable: %v %v", st.Mode(), err)
	}

	f, err := elf.Open(path)
	if err != nil {
		t.Fatalf("bootstrap is not an ELF file: %v", err)
	}
	defer f.Close()
	var progs []elf.ProgType
	for _, p := range f.Progs {
		progs = append(progs, p.Type)
	}
	libs, _ := f.ImportedLibraries()
	tests := []struct {
		name      string
		got, want any
	}{
		{"class", f.Class, elf.ELFCLASS64},
		{"machine", f.Machine, elf.EM_AARCH64},
		{"type", f.Type, elf.ET_EXEC},
		{"interpreter (dynamic loader)", slices.Contains(progs, elf.PT_INTERP), false},
		{"dynamic segment", slices.Contains(progs, elf.PT_DYNAMIC), false},
		{"dynamic section", f.Section(".dynamic") != nil, false},
		{"shared libraries", len(libs), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
			}
		})
	}

	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("read build info: %v", err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	for key, want := range map[string]string{
		"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0", "-trimpath": "true", "-tags": "lambda.norpc",
	} {
		if got := settings[key]; got != want {
			t.Errorf("build setting %s = %q, want %q", key, got, want)
		}
	}
	if want := "github.com/intercom-identity/userhash/" + strings.TrimPrefix(pkg, "./"); info.Path != want {
		t.Errorf("bootstrap is built from %s, want %s", info.Path, pkg)
	}
	// What ships carries the standard library of the Go that built it, so
	// that Go is the pinned one, whichever Go the builder has installed.
	if want := pinnedGo(t); info.GoVersion != want {
		t.Errorf("bootstrap is built by %s, want %s (go.mod's go line)", info.GoVersion, want)
	}
}

// pinnedGo returns the toolchain that go.mod's go line names, "go1.27.3"
// for `go 1.27.3`: the Makefile builds with exactly it.
func pinnedGo(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			if strings.Count(v, ".") != 2 {
				t.Fatalf("go.mod says go %s: want a full release such as 1.27.3, the toolchain every build uses", v)
			}
			return "go" + v
		}
	}
	t.Fatal("go.mod has no go line")
	return ""
}

// TestToolchainPins holds every place that pins the toolchain by name to
// go.mod's go line: the Makefile (which sam build runs), CI, and the
// README's command for plain go commands.
func TestToolchainPins(t *testing.T) {
	pin := pinnedGo(t)
	for file, line := range map[string]string{
		"Makefile":  "export GOTOOLCHAIN := " + pin,
		".ci/run":   "export GOTOOLCHAIN=" + pin,
		"README.md": "export GOTOOLCHAIN=" + pin,
	} {
		b, err := os.ReadFile(filepath.Join("..", file))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), line+"\n") {
			t.Errorf("%s does not say %q: pin the toolchain of go.mod's go line", file, line)
		}
	}
}
