// A small CloudFormation evaluator for the template tests: it reads
// template.yaml with its short-form tags, resolves the parameters,
// conditions, rules and intrinsic functions for one choice of parameters, as
// CloudFormation would, and leaves the resources that such a deployment
// creates. The tests then assert on plain values instead of on the
// template's text, so that a condition wired to the wrong branch fails.

package deploy_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// loadTemplate returns template.yaml in CloudFormation's long form: !Ref x
// becomes {"Ref": x}, !If [...] becomes {"Fn::If": [...]}, and so on.
func loadTemplate(t *testing.T) map[string]any {
	t.Helper()
	return loadTemplateFile(t, "../template.yaml")
}

// loadTemplateFile is loadTemplate for another template, such as
// deploy/edge-waf.yaml.
func loadTemplateFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read template: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not YAML: %v", path, err)
	}
	v, err := longForm(&doc)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is not a mapping", path)
	}
	return m
}

func longForm(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		return longForm(n.Content[0])
	case yaml.AliasNode:
		return longForm(n.Alias)
	}
	var v any
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := longForm(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := []any{}
		for _, c := range n.Content {
			val, err := longForm(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if isShortForm(n.Tag) {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
	}
	if !isShortForm(n.Tag) {
		return v, nil
	}
	switch name := strings.TrimPrefix(n.Tag, "!"); name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + name: v}, nil
	}
}

func isShortForm(tag string) bool {
	return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!")
}

// noValue is what AWS::NoValue evaluates to; maps and lists drop it.
type noValueT struct{}

var noValue = noValueT{}

// Pseudo parameters as one test deployment sees them.
var pseudo = map[string]string{
	"AWS::Region":    "eu-west-1",
	"AWS::AccountId": "111122223333",
	"AWS::Partition": "aws",
	"AWS::StackName": "test-stack",
	"AWS::URLSuffix": "amazonaws.com",
}

// deployment is the template evaluated for one choice of parameters.
type deployment struct {
	t         *testing.T
	tpl       map[string]any
	params    map[string]any // string, or []any of strings for a CommaDelimitedList
	pseudo    map[string]string
	conds     map[string]bool
	resources map[string]map[string]any // those that exist, with their properties evaluated
	outputs   map[string]any
}

// deploy evaluates tpl with the given parameters (the rest take their
// defaults). It returns an error where CloudFormation would refuse the
// parameters: a value outside AllowedValues or AllowedPattern, or a rule's
// failed assertion.
func deploy(t *testing.T, tpl map[string]any, given map[string]string) (*deployment, error) {
	t.Helper()
	return deployIn(t, tpl, given, pseudo)
}

// deployIn is deploy with other pseudo parameters: another region, or
// another partition (aws-cn, whose URLSuffix is amazonaws.com.cn).
func deployIn(t *testing.T, tpl map[string]any, given, pseudo map[string]string) (*deployment, error) {
	t.Helper()
	d := &deployment{t: t, tpl: tpl, params: map[string]any{}, pseudo: pseudo, conds: map[string]bool{}}
	params := section(tpl, "Parameters")
	for name := range given {
		if _, ok := params[name]; !ok {
			t.Fatalf("the test sets %s, which is not a parameter of the template", name)
		}
	}
	for name, p := range params {
		p := p.(map[string]any)
		v, ok := given[name]
		if !ok {
			v = fmt.Sprint(p["Default"])
			if p["Default"] == nil {
				return nil, fmt.Errorf("parameter %s has no default and no value", name)
			}
		}
		if allowed, ok := p["AllowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == v }) {
			return nil, fmt.Errorf("parameter %s: %q is not an allowed value", name, v)
		}
		// A CommaDelimitedList's pattern applies to each of its values.
		values := []string{v}
		if p["Type"] == "CommaDelimitedList" {
			values = strings.Split(v, ",")
		}
		for _, v := range values {
			if pat, ok := p["AllowedPattern"].(string); ok && !regexp.MustCompile(`^(?:`+pat+`)$`).MatchString(v) {
				return nil, fmt.Errorf("parameter %s: %q does not match %s", name, v, pat)
			}
		}
		if p["Type"] == "Number" {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("parameter %s: %q is not a number", name, v)
			}
			if lo, ok := p["MinValue"].(int); ok && n < float64(lo) {
				return nil, fmt.Errorf("parameter %s: %q is less than MinValue %d", name, v, lo)
			}
			if hi, ok := p["MaxValue"].(int); ok && n > float64(hi) {
				return nil, fmt.Errorf("parameter %s: %q is more than MaxValue %d", name, v, hi)
			}
		}
		if p["Type"] == "CommaDelimitedList" {
			var list []any
			for _, s := range strings.Split(v, ",") {
				list = append(list, s)
			}
			d.params[name] = list
		} else {
			d.params[name] = v
		}
	}
	for name := range section(tpl, "Conditions") {
		d.cond(name)
	}
	for name, r := range section(tpl, "Rules") {
		r := r.(map[string]any)
		if c, ok := r["RuleCondition"]; ok && !d.truth(c) {
			continue
		}
		for _, a := range r["Assertions"].([]any) {
			a := a.(map[string]any)
			if !d.truth(a["Assert"]) {
				return nil, fmt.Errorf("rule %s: %v", name, a["AssertDescription"])
			}
		}
	}
	d.resources = map[string]map[string]any{}
	for name, r := range section(tpl, "Resources") {
		if c, ok := r.(map[string]any)["Condition"].(string); !ok || d.cond(c) {
			d.resources[name] = nil // exists; properties evaluated below, once all are known
		}
	}
	for name := range d.resources {
		r := section(tpl, "Resources")[name].(map[string]any)
		props, _ := d.eval(r["Properties"]).(map[string]any)
		d.resources[name] = props
	}
	d.outputs = map[string]any{}
	for name, o := range section(tpl, "Outputs") {
		o := o.(map[string]any)
		if c, ok := o["Condition"].(string); ok && !d.cond(c) {
			continue
		}
		d.outputs[name] = d.eval(o["Value"])
	}
	return d, nil
}

func section(tpl map[string]any, name string) map[string]any {
	m, _ := tpl[name].(map[string]any)
	return m
}

func (d *deployment) cond(name string) bool {
	if v, ok := d.conds[name]; ok {
		return v
	}
	c, ok := section(d.tpl, "Conditions")[name]
	if !ok {
		d.t.Fatalf("condition %s is not defined", name)
	}
	v := d.truth(c)
	d.conds[name] = v
	return v
}

// truth evaluates a condition function.
func (d *deployment) truth(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		d.t.Fatalf("not a condition function: %v", v)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			return d.cond(arg.(string))
		case "Fn::Equals":
			a := arg.([]any)
			return fmt.Sprint(d.eval(a[0])) == fmt.Sprint(d.eval(a[1]))
		case "Fn::Not":
			return !d.truth(arg.([]any)[0])
		case "Fn::Contains": // rules only: [list of strings, string]
			a := arg.([]any)
			want := fmt.Sprint(d.eval(a[1]))
			return slices.ContainsFunc(d.eval(a[0]).([]any), func(e any) bool { return fmt.Sprint(e) == want })
		case "Fn::And", "Fn::Or":
			every, some := true, false
			for _, c := range arg.([]any) {
				b := d.truth(c)
				every, some = every && b, some || b
			}
			if fn == "Fn::And" {
				return every
			}
			return some
		}
	}
	d.t.Fatalf("unknown condition function in %v", v)
	return false
}

var subRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// eval resolves the intrinsic functions in v. A reference to a resource
// evaluates to "<Name>" (or "<Name.Attr>"); a reference to a resource that
// this deployment does not create fails the test, as it fails the stack.
func (d *deployment) eval(v any) any {
	switch v := v.(type) {
	case []any:
		out := []any{}
		for _, e := range v {
			if e := d.eval(e); e != noValue {
				out = append(out, e)
			}
		}
		return out
	case map[string]any:
		if len(v) == 1 {
			for fn, arg := range v {
				if r, ok := d.intrinsic(fn, arg); ok {
					return r
				}
			}
		}
		out := map[string]any{}
		for k, e := range v {
			if e := d.eval(e); e != noValue {
				out[k] = e
			}
		}
		return out
	}
	return v
}

func (d *deployment) intrinsic(fn string, arg any) (any, bool) {
	switch fn {
	case "Ref":
		return d.ref(arg.(string)), true
	case "Fn::GetAtt":
		a := arg.([]any)
		return d.ref(fmt.Sprintf("%s.%s", a[0], a[1])), true
	case "Fn::If":
		a := arg.([]any)
		if d.cond(a[0].(string)) {
			return d.eval(a[1]), true
		}
		return d.eval(a[2]), true
	case "Fn::Sub":
		return subRef.ReplaceAllStringFunc(arg.(string), func(m string) string {
			return fmt.Sprint(d.ref(m[2 : len(m)-1]))
		}), true
	case "Fn::Join":
		a := arg.([]any)
		var parts []string
		for _, p := range d.eval(a[1]).([]any) {
			parts = append(parts, fmt.Sprint(p))
		}
		return strings.Join(parts, a[0].(string)), true
	case "Fn::Split":
		a := arg.([]any)
		var out []any
		for _, s := range strings.Split(fmt.Sprint(d.eval(a[1])), a[0].(string)) {
			out = append(out, s)
		}
		return out, true
	case "Fn::Select":
		a := arg.([]any)
		return d.eval(a[1]).([]any)[a[0].(int)], true
	}
	return nil, false
}

func (d *deployment) ref(name string) any {
	if name == "AWS::NoValue" {
		return noValue
	}
	if v, ok := d.pseudo[name]; ok {
		return v
	}
	if v, ok := d.params[name]; ok {
		return v
	}
	res, _, _ := strings.Cut(name, ".")
	if _, ok := section(d.tpl, "Resources")[res]; !ok {
		d.t.Errorf("reference to %s, which the template does not define", name)
	} else if _, ok := d.resources[res]; !ok {
		d.t.Errorf("reference to %s, which this deployment does not create", name)
	}
	return "<" + name + ">"
}

// resource returns the evaluated properties of a resource the deployment
// creates, failing the test if it does not create it.
func (d *deployment) resource(name string) map[string]any {
	d.t.Helper()
	props, ok := d.resources[name]
	if !ok {
		d.t.Fatalf("the deployment does not create %s", name)
	}
	return props
}

// of returns the resources of one type, by name.
func (d *deployment) of(typ string) []string {
	var names []string
	for name, r := range section(d.tpl, "Resources") {
		if _, ok := d.resources[name]; ok && r.(map[string]any)["Type"] == typ {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// at walks maps by key; nil where a key is missing.
func at(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// strs turns a list of values into strings; a single string is a list of one.
func strs(v any) []string {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}
