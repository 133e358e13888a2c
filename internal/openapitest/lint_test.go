// What an OpenAPI linter (Redocly's recommended rules among them) asks of
// openapi.yaml beyond validity, checked here so that make test needs no
// linter of its own: every component is used, every operation can succeed
// and has a unique operationId, and the answers to any other method resolve.

package openapitest_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/internal/openapitest"
)

func TestDescriptionIsLintClean(t *testing.T) {
	spec := openapitest.Load(t)
	raw, err := os.ReadFile(openapitest.File())
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)

	// no-unused-components: each is the target of a $ref somewhere, a
	// security scheme the name of a security requirement.
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`"#/components/(\w+)/(\w+)"`).FindAllStringSubmatch(text, -1) {
		used[m[1]+"/"+m[2]] = true
	}
	c := spec.Doc.Components
	var unused []string
	check := func(kind string, names []string) {
		for _, n := range names {
			if !used[kind+"/"+n] {
				unused = append(unused, kind+"/"+n)
			}
		}
	}
	check("schemas", keys(c.Schemas))
	check("responses", keys(c.Responses))
	check("headers", keys(c.Headers))
	check("parameters", keys(c.Parameters))
	check("requestBodies", keys(c.RequestBodies))
	check("examples", keys(c.Examples))
	schemes := keys(c.SecuritySchemes)
	var ops []string
	ids := map[string]string{}
	for path, item := range spec.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			ops = append(ops, where)
			if op.Security != nil {
				for _, req := range *op.Security {
					for name := range req {
						schemes = slices.DeleteFunc(schemes, func(s string) bool { return s == name })
					}
				}
			}
			// operation-2xx-response
			ok := false
			for status := range op.Responses.Map() {
				ok = ok || strings.HasPrefix(status, "2")
			}
			if !ok {
				t.Errorf("%s has no 2xx response: an operation that can only fail belongs in %s", where, openapitest.OtherMethods)
			}
			// operation-operationId, operation-operationId-unique
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s and %s share the operationId %s", where, other, op.OperationID)
			}
			ids[op.OperationID] = where
			if op.Summary == "" {
				t.Errorf("%s has no summary", where)
			}
		}
		if _, err := openapitest.OtherMethodResponses(item); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	for _, s := range schemes {
		unused = append(unused, "securitySchemes/"+s)
	}
	if len(unused) > 0 {
		slices.Sort(unused)
		t.Errorf("components nothing refers to: %v", unused)
	}
	if len(ops) == 0 {
		t.Error("no operations")
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
