// Package viewstest holds checks of the views' output shared by their unit tests and the end-to-end tests, and
// the golden-file comparison of every package that pins a plan's rendering.
package viewstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// OneJSONDocument decodes data, failing the test unless it is exactly one JSON object in which no value is null
// and no address appears twice in one host's changes.
func OneJSONDocument(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, data)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document:\n%s", data)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s is null", path)
		case map[string]any:
			for k, e := range x {
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("", doc)
	plan, _ := doc["plan"].(map[string]any)
	hosts, _ := plan["hosts"].([]any)
	for _, h := range hosts {
		seen := map[string]bool{}
		changes, _ := h.(map[string]any)["changes"].([]any)
		for _, c := range changes {
			addr, _ := c.(map[string]any)["address"].(string)
			if seen[addr] {
				t.Errorf("address %s twice in one host's changes", addr)
			}
			seen[addr] = true
		}
	}
	return doc
}

// Golden compares got with the golden file testdata/name of the package under test; with update (the package's
// -update flag) it rewrites the file first.
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (go test -update creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it); got:\n%s", name, got)
	}
}
