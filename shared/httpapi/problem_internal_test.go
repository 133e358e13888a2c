package httpapi

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestEveryCodeIsDocumented holds the error reference and the README's
// table of codes to the codes the API answers with: each code's type URI
// points at a section of docs/errors.md, and an app developer reading the
// README sees every code.
func TestEveryCodeIsDocumented(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	reference, readme := read("docs/errors.md"), read("README.md")
	for code, m := range problemMeta {
		// A section at any level has the anchor #code; the codes are
		// subsections of "What this API answers".
		if !strings.Contains(reference, "\n## "+string(code)+"\n") && !strings.Contains(reference, "\n### "+string(code)+"\n") {
			t.Errorf("docs/errors.md has no section %q, which the type URI of %s points at", "### "+code, code)
		}
		row := "| " + strconv.Itoa(m.status) + " | `" + string(code) + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README.md's table of codes has no row starting %q", row)
		}
	}
}
