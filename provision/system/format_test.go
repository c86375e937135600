package system

import (
	"fmt"
	"strings"
	"testing"
)

// TestPrintingNeverShowsContent guards the outputs file's password against a stray %+v in a log line or error.
func TestPrintingNeverShowsContent(t *testing.T) {
	spec := FileSpec{Path: "/etc/x", Content: []byte(`password = "hunter2-secret"`), Mode: 0o640, Owner: "root", Group: "telegraf"}
	set := &FileSet{Label: "l", Files: []FileSpec{spec}}
	fact := FileFact{Exists: true, Content: spec.Content}
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", spec, spec, spec, spec), fmt.Sprintf("%+v %#v", set, set),
		fmt.Sprintf("%+v", []FileSpec{spec}), fmt.Sprintf("%+v %#v", fact, fact), fmt.Sprintf("%+v", map[string]FileFact{"a": fact})} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("content printed: %s", s)
		}
	}
}
