// The stack's CloudWatch dashboard plots what exists: every metric of the
// function's own namespace is one shared/metrics emits, under a dimension
// set it emits it with, read from the EMF lines the recorder writes; the
// Lambda and gateway metrics name the stack's own function and API; the
// log queries read the stack's own log groups; and the alarm widget shows
// every alarm the stack creates.

package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intercom-identity/userhash/shared/httpapi"
	"github.com/intercom-identity/userhash/shared/metrics"
	"github.com/intercom-identity/userhash/shared/platform"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// metricKey names a metric as CloudWatch keeps it apart: namespace, name
// and the set of dimension names.
func metricKey(ns, name string, dims []string) string {
	d := slices.Clone(dims)
	slices.Sort(d)
	return ns + " " + name + " {" + strings.Join(d, ",") + "}"
}

// emitted returns the metrics the function emits, read from the EMF lines
// of a recorder configured as functions/userhash configures it in Lambda.
func emitted(t *testing.T) map[string]bool {
	t.Helper()
	var buf bytes.Buffer
	rec := metrics.New(&buf, metrics.WithFunctionName("fn"))
	rec.SecretEvent(secrets.Event{Kind: secrets.EventFetch})
	rec.Request(httpapi.Outcome{Status: 200, Code: "ok", Platform: platform.IOS, Duration: time.Millisecond})
	rec.SecretEvent(secrets.Event{Kind: secrets.EventFetchError})
	rec.Flush()
	out := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var l struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		for _, d := range l.AWS.CloudWatchMetrics {
			for _, dims := range d.Dimensions {
				for _, m := range d.Metrics {
					out[metricKey(d.Namespace, m.Name, dims)] = true
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the recorder emitted no metrics")
	}
	return out
}

// search matches the SEARCH expressions of the dashboard:
// SEARCH('{Namespace,Dim,...} MetricName="X" Dim="v"', 'Stat', period).
var (
	search     = regexp.MustCompile(`^SEARCH\('\{([^}]*)\}([^']*)', '(\w+)', (\d+)\)$`)
	searchTerm = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

type plotted struct {
	key   string            // metricKey
	dims  map[string]string // dimension values
	stat  string
	title string
}

type widget struct {
	Type       string
	Properties struct {
		Title   string
		Region  string
		Metrics [][]any
		Query   string
		Alarms  []string
	}
}

// dashboardOf returns the widgets of a deployment's dashboard, and the
// metrics they plot.
func dashboardOf(t *testing.T, d *deployment) ([]widget, []plotted) {
	t.Helper()
	body, ok := d.resource("OperationsDashboard")["DashboardBody"].(string)
	if !ok {
		t.Fatalf("DashboardBody is not a string: %v", d.resource("OperationsDashboard")["DashboardBody"])
	}
	var dash struct{ Widgets []widget }
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("DashboardBody is not JSON: %v\n%s", err, body)
	}
	var ps []plotted
	for _, w := range dash.Widgets {
		for _, m := range w.Properties.Metrics {
			p := plotted{dims: map[string]string{}, title: w.Properties.Title}
			if len(m) == 1 {
				opts, _ := m[0].(map[string]any)
				expr, _ := opts["expression"].(string)
				g := search.FindStringSubmatch(expr)
				if g == nil {
					t.Errorf("%q: expression %q is not a SEARCH the test reads", w.Properties.Title, expr)
					continue
				}
				schema := strings.Split(g[1], ",")
				var name string
				for _, term := range searchTerm.FindAllStringSubmatch(g[2], -1) {
					if term[1] == "MetricName" {
						name = term[2]
					} else {
						p.dims[term[1]] = term[2]
					}
				}
				p.key, p.stat = metricKey(schema[0], name, schema[1:]), g[3]
				ps = append(ps, p)
				continue
			}
			var s []string
			for _, e := range m {
				switch e := e.(type) {
				case string:
					s = append(s, e)
				case map[string]any:
					p.stat, _ = e["stat"].(string)
				}
			}
			if len(s) < 2 || len(s)%2 != 0 {
				t.Errorf("%q: metric %v is not [namespace, name, dim, value, ...]", w.Properties.Title, m)
				continue
			}
			var dims []string
			for i := 2; i < len(s); i += 2 {
				dims = append(dims, s[i])
				p.dims[s[i]] = s[i+1]
			}
			p.key = metricKey(s[0], s[1], dims)
			ps = append(ps, p)
		}
	}
	return dash.Widgets, ps
}

func TestTemplateDashboard(t *testing.T) {
	tpl := loadTemplate(t)
	emits := emitted(t)
	for _, tt := range []struct {
		name     string
		params   map[string]string
		rotation bool
	}{
		{name: "defaults", params: map[string]string{}},
		{name: "with rotation", params: map[string]string{"RotationDays": "30", "IntercomAccessTokenSecretArn": tokenARN}, rotation: true},
		{name: "password mode, one platform", params: map[string]string{"AuthMode": "password", "Platforms": "android"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, tpl, tt.params)
			if err != nil {
				t.Fatal(err)
			}
			widgets, ps := dashboardOf(t, d)
			seen := map[string]bool{}
			for _, p := range ps {
				seen[p.key+" "+p.stat] = true
				seen[p.key] = true
				ns, _, _ := strings.Cut(p.key, " ")
				switch ns {
				case metrics.DefaultNamespace:
					if !emits[p.key] {
						t.Errorf("%q plots %s, which the function never emits (it emits %v)", p.title, p.key, keys(emits))
					}
					if fn := p.dims[metrics.DimensionFunctionName]; fn != "<UserHashFunction>" {
						t.Errorf("%q plots %s of FunctionName %q, want the stack's function", p.title, p.key, fn)
					}
				case "AWS/Lambda":
					if fn := p.dims["FunctionName"]; fn != "<UserHashFunction>" && fn != "<RotateSecretFunction>" {
						t.Errorf("%q plots %s of FunctionName %q, want one of the stack's functions", p.title, p.key, fn)
					}
				case "AWS/ApiGateway":
					if p.dims["ApiId"] != "<HttpApi>" || len(p.dims) != 1 {
						t.Errorf("%q plots %s with %v, want ApiId of the stack's API alone (as Api5xxAlarm)", p.title, p.key, p.dims)
					}
				default:
					t.Errorf("%q plots %s, of a namespace the stack does not feed", p.title, p.key)
				}
			}
			ns := metrics.DefaultNamespace
			fn, out, plat := metrics.DimensionFunctionName, metrics.DimensionOutcome, metrics.DimensionPlatform
			want := []string{
				metricKey(ns, metrics.MetricRequests, []string{fn, out}),
				metricKey(ns, metrics.MetricRequests, []string{fn, plat, out}),
				metricKey(ns, metrics.MetricLatency, []string{fn}) + " p50",
				metricKey(ns, metrics.MetricLatency, []string{fn}) + " p99",
				metricKey(ns, metrics.MetricSecretFetches, []string{fn}),
				metricKey(ns, metrics.MetricSecretFetchErrors, []string{fn}),
				metricKey(ns, metrics.MetricSecretStaleServes, []string{fn}),
				metricKey(ns, metrics.MetricSecretUnavailable, []string{fn}),
				metricKey("AWS/ApiGateway", "4xx", []string{"ApiId"}),
				metricKey("AWS/ApiGateway", "5xx", []string{"ApiId"}),
			}
			if tt.rotation {
				want = append(want, metricKey("AWS/Lambda", "Errors", []string{"FunctionName"}))
			}
			for _, w := range want {
				if !seen[w] {
					t.Errorf("the dashboard does not plot %s", w)
				}
			}

			var queries, alarms []string
			for _, w := range widgets {
				if w.Properties.Region != "" && w.Properties.Region != pseudo["AWS::Region"] {
					t.Errorf("%q is in region %s, want the stack's", w.Properties.Title, w.Properties.Region)
				}
				switch w.Type {
				case "log":
					queries = append(queries, w.Properties.Query)
				case "alarm":
					alarms = append(alarms, w.Properties.Alarms...)
				}
			}
			coldStart := "SOURCE '" + fmt.Sprint(d.ref("UserHashLogGroup")) + "' | filter type = \"platform.report\" and ispresent(record.metrics.initDurationMs)"
			if !slices.ContainsFunc(queries, func(q string) bool { return strings.HasPrefix(q, coldStart) }) {
				t.Errorf("no cold-start query on the function's log group in %q", queries)
			}
			rotationLog := "SOURCE '" + "<RotateSecretLogGroup>" + "'"
			if got := slices.ContainsFunc(queries, func(q string) bool { return strings.HasPrefix(q, rotationLog) }); got != tt.rotation {
				t.Errorf("a query on the rotation function's log: %v, want %v", got, tt.rotation)
			}
			var wantAlarms []string
			for _, a := range d.of("AWS::CloudWatch::Alarm") {
				wantAlarms = append(wantAlarms, "<"+a+".Arn>")
			}
			slices.Sort(alarms)
			if !slices.Equal(alarms, wantAlarms) {
				t.Errorf("alarm widget shows %v, want every alarm of the stack %v", alarms, wantAlarms)
			}
			if got := d.outputs["DashboardName"]; got != "<OperationsDashboard>" {
				t.Errorf("output DashboardName = %v, want the dashboard", got)
			}
		})
	}

	t.Run("off", func(t *testing.T) {
		d, err := deploy(t, tpl, map[string]string{"Dashboard": "off"})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.of("AWS::CloudWatch::Dashboard"); len(got) != 0 {
			t.Errorf("Dashboard off creates %v", got)
		}
		if _, ok := d.outputs["DashboardName"]; ok {
			t.Error("Dashboard off still outputs DashboardName")
		}
	})
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
