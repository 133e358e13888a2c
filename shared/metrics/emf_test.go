// An EMF reader for the tests: it checks a line against every rule of the
// CloudWatch Embedded Metric Format specification and then extracts the
// metric data points from it as CloudWatch Logs would, so the tests assert
// on what CloudWatch would graph rather than on JSON text.

package metrics_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// datum is one extracted metric data point.
type datum struct {
	Namespace string
	Name      string
	Unit      string
	Dims      string // "A=a,B=b", sorted by name; "" for none
	Value     float64
}

func (d datum) String() string {
	return fmt.Sprintf("%s/%s{%s} %v %s", d.Namespace, d.Name, d.Dims, d.Value, d.Unit)
}

// The units the specification's schema allows.
var emfUnits = map[string]bool{}

func init() {
	for _, u := range strings.Split("Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None", "|") {
		emfUnits[u] = true
	}
}

// parseEMF checks that line is one EMF document and returns its data
// points. The rules are those of the specification: the line is one JSON
// object and nothing else; _aws holds an integer Timestamp and a
// CloudWatchMetrics array and nothing else; each MetricDirective holds a
// Namespace, Dimensions and Metrics and nothing else; each DimensionSet
// holds at most 9 keys (the older, stricter limit; 30 today), each naming a
// root member with a non-empty string value; at most 100 MetricDefinitions,
// each naming a root member that is a number or an array of at most 100
// numbers, with a Unit from the list if any.
func parseEMF(line []byte) (timestamp int64, points []datum, err error) {
	if len(line) > 256<<10 {
		return 0, nil, fmt.Errorf("line is %d bytes, over the 256 KiB event limit", len(line))
	}
	if bytes.ContainsAny(line, "\r\n") {
		return 0, nil, fmt.Errorf("line holds a line break, so it would be split into several log events")
	}
	if !utf8.Valid(line) {
		return 0, nil, fmt.Errorf("line is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var root map[string]json.RawMessage
	if err := dec.Decode(&root); err != nil {
		return 0, nil, fmt.Errorf("not a JSON object: %v", err)
	}
	if dec.More() {
		return 0, nil, fmt.Errorf("data after the JSON object")
	}
	if dup := duplicateKey(line); dup != "" {
		return 0, nil, fmt.Errorf("root member %q given twice", dup)
	}
	var meta map[string]json.RawMessage
	if err := strictDecode(root["_aws"], &meta); err != nil || meta == nil {
		return 0, nil, fmt.Errorf("_aws is not an object: %v", err)
	}
	for k := range meta {
		if k != "Timestamp" && k != "CloudWatchMetrics" {
			return 0, nil, fmt.Errorf("_aws has the extra member %q", k)
		}
	}
	var ts json.Number
	if err := strictDecode(meta["Timestamp"], &ts); err != nil {
		return 0, nil, fmt.Errorf("_aws.Timestamp is not a number: %v", err)
	}
	if timestamp, err = ts.Int64(); err != nil {
		return 0, nil, fmt.Errorf("_aws.Timestamp %s is not an integer of milliseconds", ts)
	}
	var directives []map[string]json.RawMessage
	if err := strictDecode(meta["CloudWatchMetrics"], &directives); err != nil || directives == nil {
		return 0, nil, fmt.Errorf("_aws.CloudWatchMetrics is not an array: %v", err)
	}
	dimensionKeys, metricKeys := map[string]bool{}, map[string]bool{}
	for i, d := range directives {
		for k := range d {
			if k != "Namespace" && k != "Dimensions" && k != "Metrics" {
				return 0, nil, fmt.Errorf("directive %d has the extra member %q", i, k)
			}
		}
		var ns string
		if err := strictDecode(d["Namespace"], &ns); err != nil || ns == "" || len(ns) > 255 || strings.TrimSpace(ns) == "" {
			return 0, nil, fmt.Errorf("directive %d: Namespace %q is not a string of 1 to 255 characters", i, ns)
		}
		var sets [][]string
		if err := strictDecode(d["Dimensions"], &sets); err != nil || len(sets) == 0 {
			return 0, nil, fmt.Errorf("directive %d: Dimensions is not a non-empty array of arrays of strings: %v", i, err)
		}
		var defs []map[string]json.RawMessage
		if err := strictDecode(d["Metrics"], &defs); err != nil || defs == nil || len(defs) > 100 {
			return 0, nil, fmt.Errorf("directive %d: Metrics is not an array of at most 100 definitions: %v", i, err)
		}
		for _, set := range sets {
			if len(set) > 9 {
				return 0, nil, fmt.Errorf("directive %d: a dimension set has %d keys", i, len(set))
			}
			dims := make([]string, 0, len(set))
			for _, key := range set {
				var v string
				if err := strictDecode(root[key], &v); err != nil || v == "" || len(v) > 1024 {
					return 0, nil, fmt.Errorf("directive %d: dimension %q does not name a root string of 1 to 1024 characters", i, key)
				}
				dimensionKeys[key] = true
				dims = append(dims, key+"="+v)
			}
			sort.Strings(dims)
			for _, def := range defs {
				var name, unit string
				for k := range def {
					if k != "Name" && k != "Unit" && k != "StorageResolution" {
						return 0, nil, fmt.Errorf("directive %d: a metric definition has the extra member %q", i, k)
					}
				}
				if err := strictDecode(def["Name"], &name); err != nil || name == "" || len(name) > 255 {
					return 0, nil, fmt.Errorf("directive %d: a metric definition has no Name of 1 to 255 characters", i)
				}
				if raw, ok := def["Unit"]; ok {
					if err := strictDecode(raw, &unit); err != nil || !emfUnits[unit] {
						return 0, nil, fmt.Errorf("metric %s: Unit %s is not a CloudWatch unit", name, raw)
					}
				} else {
					unit = "None"
				}
				if raw, ok := def["StorageResolution"]; ok && string(raw) != "1" && string(raw) != "60" {
					return 0, nil, fmt.Errorf("metric %s: StorageResolution %s is not 1 or 60", name, raw)
				}
				values, err := metricValues(root[name])
				if err != nil {
					return 0, nil, fmt.Errorf("metric %s: %v", name, err)
				}
				metricKeys[name] = true
				for _, v := range values {
					points = append(points, datum{Namespace: ns, Name: name, Unit: unit, Dims: strings.Join(dims, ","), Value: v})
				}
			}
		}
	}
	for k := range dimensionKeys {
		if metricKeys[k] {
			return 0, nil, fmt.Errorf("member %q is both a dimension and a metric", k)
		}
	}
	return timestamp, points, nil
}

// metricValues reads a metric target: a number, or an array of at most 100.
func metricValues(raw json.RawMessage) ([]float64, error) {
	if raw == nil {
		return nil, fmt.Errorf("no root member of that name")
	}
	var one float64
	if err := strictDecode(raw, &one); err == nil {
		return []float64{one}, nil
	}
	var many []float64
	if err := strictDecode(raw, &many); err != nil || len(many) == 0 || len(many) > 100 {
		return nil, fmt.Errorf("value %s is neither a number nor an array of 1 to 100 numbers", raw)
	}
	return many, nil
}

// strictDecode decodes raw into v and refuses null, which encoding/json
// would take as "leave v as it is".
func strictDecode(raw json.RawMessage, v any) error {
	if raw == nil || string(raw) == "null" {
		return fmt.Errorf("missing or null")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// duplicateKey returns a root member name that appears twice, which
// encoding/json would silently let the last one win.
func duplicateKey(line []byte) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	if _, err := dec.Token(); err != nil {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// parseLines parses every line of out as EMF.
func parseLines(out string) ([][]datum, error) {
	var lines [][]datum
	for _, line := range strings.SplitAfter(out, "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\n") {
			return nil, fmt.Errorf("line %q does not end in a newline", line)
		}
		_, points, err := parseEMF([]byte(strings.TrimSuffix(line, "\n")))
		if err != nil {
			return nil, fmt.Errorf("%v in line %s", err, line)
		}
		lines = append(lines, points)
	}
	return lines, nil
}
