package testbed

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// recorder stands in for a test in Require: it records whether Require skipped or failed it.
type recorder struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Skip(args ...any) {
	r.skipped, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) {
	r.failed, r.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

// require runs Require against a bed that is not up, the way a test would (Skip and Fatal end its goroutine).
func require(t *testing.T) *recorder {
	t.Setenv("FLEETCTL_TESTBED", filepath.Join(t.TempDir(), "testbed.json"))
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Require(r)
	}()
	<-done
	return r
}

// TestRequireNeverSkipsInCI: without the bed, a test fails; it skips only when a developer allows it and CI is
// not set, so no skip can ever pass a CI run (.ci/run sets CI and refuses FLEETCTL_ALLOW_SKIP).
func TestRequireNeverSkipsInCI(t *testing.T) {
	for _, tc := range []struct {
		allow, ci string
		skip      bool
	}{
		{allow: "", ci: "", skip: false},
		{allow: "1", ci: "", skip: true},
		{allow: "1", ci: "1", skip: false},
		{allow: "1", ci: "true", skip: false},
		{allow: "", ci: "1", skip: false},
	} {
		t.Setenv("FLEETCTL_ALLOW_SKIP", tc.allow)
		t.Setenv("CI", tc.ci)
		r := require(t)
		if r.skipped != tc.skip || r.failed == tc.skip {
			t.Errorf("FLEETCTL_ALLOW_SKIP=%q CI=%q: skipped %t, failed %t, want skip %t (%s)", tc.allow, tc.ci, r.skipped, r.failed, tc.skip, r.msg)
		}
		if !strings.Contains(r.msg, "sudo test/testbed/up") {
			t.Errorf("the message does not say how to bring the bed up: %s", r.msg)
		}
	}
}

// TestNoOtherSkips: Require is the only place a test may skip, so CI's rule holds for every test of the project.
func TestNoOtherSkips(t *testing.T) {
	skip := regexp.MustCompile(`\.(Skip|Skipf|SkipNow)\(`)
	self, _ := filepath.Abs("require_test.go")
	root, _ := filepath.Abs("../..")
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir // .git, the bed's runtime and cache folders, fixtures
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || path == self {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if skip.MatchString(line) && !(strings.HasSuffix(path, filepath.Join("test", "testbed", "testbed.go"))) {
				found = append(found, fmt.Sprintf("%s:%d: %s", strings.TrimPrefix(path, root+"/"), i+1, strings.TrimSpace(line)))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("tests skip outside testbed.Require, which CI could not catch:\n%s", strings.Join(found, "\n"))
	}
}
