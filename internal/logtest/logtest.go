// Package logtest collects what code under test logs, from any number of
// goroutines, so a test can read it back: the request lines, and the proof
// that no secret, credential or identifier is in them.
//
//	var logs logtest.Buffer
//	logger := slog.New(slog.NewJSONHandler(&logs, nil))
//	...
//	for _, line := range logs.Lines(t) { /* each a decoded JSON object */ }
//	if strings.Contains(logs.String(), secret) { t.Error("the log holds the secret") }
package logtest

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// Buffer is an io.Writer safe for concurrent use. The zero value is ready.
type Buffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

// Write appends p, as one write.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.b.Write(p)
}

// WriteString appends s, as one write.
func (b *Buffer) WriteString(s string) {
	_, _ = b.Write([]byte(s))
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Writes returns how many writes there were, so a test can tell a line
// written in one piece from one written in several.
func (b *Buffer) Writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes
}

// Lines returns the lines written so far, each decoded as a JSON object;
// a line that is not one fails the test.
func (b *Buffer) Lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not a JSON object: %q", line)
		}
		out = append(out, m)
	}
	return out
}
