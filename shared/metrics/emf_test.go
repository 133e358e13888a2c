// An EMF reader for the tests: it holds a line to the rules of the
// CloudWatch Embedded Metric Format specification and extracts the metric
// data points from it as CloudWatch Logs would, so that the tests assert on
// what CloudWatch would graph rather than on JSON text. encoding/json
// writes the lines, so the JSON itself (one object, escaped, valid UTF-8,
// no line break, no member twice) is its guarantee; what is checked here is
// what the code decides: the _aws metadata, the directives, and that each
// name in them refers to a root member of the right kind.

package metrics_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
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

// emfMetadata is the _aws member. The specification allows no other
// members in it, in a directive or in a metric definition, and its names
// are case-sensitive, where encoding/json matches names in any case:
// emfMetadata is the _aws member. The specification allows no other
// members in it, in a directive or in a metric definition, and its names
// are case-sensitive, where encoding/json matches names in any case:
// exactMembers checks both.
type emfMetadata struct {
	Timestamp         *int64 // milliseconds: an integer, which int64 decoding insists on
	CloudWatchMetrics []struct {
		Namespace  string
		Dimensions [][]string
		Metrics    []struct {
			Name              string
			Unit              *string
			StorageResolution *int
		}
	}
}

// emfUnits are the units the specification allows.
var emfUnits = strings.Split("Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes/Second|Kilobytes/Second|Megabytes/Second|Gigabytes/Second|Terabytes/Second|Bits/Second|Kilobits/Second|Megabits/Second|Gigabits/Second|Terabits/Second|Count/Second|None", "|")

// parseEMF checks line against the specification and returns its data
// points: _aws holds an integer Timestamp and a CloudWatchMetrics array,
// and nothing else; each directive a Namespace of 1 to 255 characters, at
// least one DimensionSet and at most 100 MetricDefinitions; each
// DimensionSet at most 9 keys (the older, stricter limit; 30 today), each
// naming a root member that is a string of 1 to 1024 characters; each
// MetricDefinition a Name naming a root member that is a number (or an
// array of at most 100 numbers), a Unit from the list, and a
// StorageResolution of 1 or 60 if any; no member both a dimension and a
// metric.
func parseEMF(line []byte) (timestamp int64, points []datum, err error) {
	var root map[string]json.RawMessage
	if err := json.Unmarshal(line, &root); err != nil {
		return 0, nil, fmt.Errorf("not a JSON object: %v", err)
	}
	var meta emfMetadata
	if err := json.Unmarshal(root["_aws"], &meta); err != nil || meta.Timestamp == nil || meta.CloudWatchMetrics == nil {
		return 0, nil, fmt.Errorf("_aws is not {Timestamp: integer, CloudWatchMetrics: [...]}: %v", err)
	}
	if err := exactMembers(root["_aws"]); err != nil {
		return 0, nil, err
	}
	dimensions, metrics := map[string]bool{}, map[string]bool{}
	for i, d := range meta.CloudWatchMetrics {
		if len(d.Namespace) == 0 || len(d.Namespace) > 255 || strings.TrimSpace(d.Namespace) == "" {
			return 0, nil, fmt.Errorf("directive %d: Namespace %q is not 1 to 255 characters", i, d.Namespace)
		}
		if len(d.Dimensions) == 0 || d.Metrics == nil || len(d.Metrics) > 100 {
			return 0, nil, fmt.Errorf("directive %d: %d dimension sets and %d metrics, want at least 1 and at most 100", i, len(d.Dimensions), len(d.Metrics))
		}
		for _, set := range d.Dimensions {
			if len(set) > 9 {
				return 0, nil, fmt.Errorf("directive %d: a dimension set has %d keys", i, len(set))
			}
			var dims []string
			for _, key := range set {
				var v string
				if json.Unmarshal(root[key], &v) != nil || v == "" || len(v) > 1024 {
					return 0, nil, fmt.Errorf("directive %d: dimension %q does not name a root string of 1 to 1024 characters", i, key)
				}
				dimensions[key] = true
				dims = append(dims, key+"="+v)
			}
			slices.Sort(dims)
			for _, m := range d.Metrics {
				unit := "None"
				if m.Unit != nil {
					unit = *m.Unit
				}
				if m.Name == "" || len(m.Name) > 255 || !slices.Contains(emfUnits, unit) {
					return 0, nil, fmt.Errorf("directive %d: metric %q with unit %q", i, m.Name, unit)
				}
				if r := m.StorageResolution; r != nil && *r != 1 && *r != 60 {
					return 0, nil, fmt.Errorf("metric %s: StorageResolution %d is not 1 or 60", m.Name, *r)
				}
				var values []float64
				var one float64
				if string(root[m.Name]) == "null" {
					return 0, nil, fmt.Errorf("metric %s: root member is null", m.Name) // which Unmarshal would take as 0
				} else if json.Unmarshal(root[m.Name], &one) == nil {
					values = []float64{one}
				} else if json.Unmarshal(root[m.Name], &values) != nil || len(values) == 0 || len(values) > 100 {
					return 0, nil, fmt.Errorf("metric %s: root member %s is neither a number nor 1 to 100 numbers", m.Name, root[m.Name])
				}
				metrics[m.Name] = true
				for _, v := range values {
					points = append(points, datum{Namespace: d.Namespace, Name: m.Name, Unit: unit, Dims: strings.Join(dims, ","), Value: v})
				}
			}
		}
	}
	for k := range dimensions {
		if metrics[k] {
			return 0, nil, fmt.Errorf("member %q is both a dimension and a metric", k)
		}
	}
	return *meta.Timestamp, points, nil
}

// exactMembers checks that the _aws object raw, its directives and their
// metric definitions have no members but the specification's.
func exactMembers(raw json.RawMessage) error {
	only := func(v any, where string, names ...string) error {
		o, _ := v.(map[string]any)
		for k := range o {
			if !slices.Contains(names, k) {
				return fmt.Errorf("%s has the member %q, which the specification does not define", where, k)
			}
		}
		return nil
	}
	var meta map[string]any
	if err := json.Unmarshal(raw, &meta); err != nil {
		return err
	}
	if err := only(meta, "_aws", "Timestamp", "CloudWatchMetrics"); err != nil {
		return err
	}
	directives, _ := meta["CloudWatchMetrics"].([]any)
	for i, d := range directives {
		if err := only(d, fmt.Sprintf("directive %d", i), "Namespace", "Dimensions", "Metrics"); err != nil {
			return err
		}
		defs, _ := d.(map[string]any)["Metrics"].([]any)
		for _, m := range defs {
			if err := only(m, fmt.Sprintf("a metric of directive %d", i), "Name", "Unit", "StorageResolution"); err != nil {
				return err
			}
		}
	}
	return nil
}

// parseLines parses every line of out as EMF; each must end in a newline.
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
