// Package build holds the release build (the release script beside this file) and its test.
package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestRelease runs the release build into a temporary folder and checks what a user downloads: a statically
// linked binary per architecture (as file(1) says), stamped with the version and commit (as fleetctl version
// says), sums that verify, and .deb and .rpm packages holding the binary, man page and completions.
//
// file(1) comes from Debian's file package (test/testbed/up installs it); its absence fails the test.
func TestRelease(t *testing.T) {
	need := func(tool string) string {
		p, err := exec.LookPath(tool)
		if err != nil {
			// No skip: a test that skips for a missing tool could pass CI without running.
			t.Fatalf("%s not found: test/testbed/up installs it (or apt-get install it)", tool)
		}
		return p
	}
	fileCmd := need("file")
	dist := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "DIST_DIR="+dist)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	const version = "v9.8.7-test"
	run("build/release", version)
	commit := strings.TrimSpace(run("git", "rev-parse", "HEAD"))

	for arch, fileSays := range map[string]string{"amd64": "x86-64", "arm64": "ARM aarch64"} {
		bin := filepath.Join(dist, "fleetctl-"+version+"-linux-"+arch)
		out, err := exec.Command(fileCmd, bin).Output()
		if err != nil {
			t.Fatalf("file %s: %v", bin, err)
		}
		if s := string(out); !strings.Contains(s, "statically linked") || !strings.Contains(s, fileSays) {
			t.Errorf("file says of the %s binary: %s", arch, s)
		}
		// The toolchain records how it built: no cgo, trimmed paths.
		info, err := exec.Command("go", "version", "-m", bin).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", bin, err)
		}
		for _, want := range []string{"CGO_ENABLED=0", "-trimpath=true", "GOARCH=" + arch} {
			if !strings.Contains(string(info), want) {
				t.Errorf("%s binary was not built with %s:\n%s", arch, want, info)
			}
		}
	}
	// The binary of this machine's architecture runs and says what it is.
	native := filepath.Join(dist, "fleetctl-"+version+"-linux-"+goarch(t))
	out, err := exec.Command(native, "version").Output()
	if err != nil {
		t.Fatalf("%s version: %v", native, err)
	}
	want := regexp.MustCompile(`^fleetctl ` + regexp.QuoteMeta(version) + ` ` + commit[:12] + `(\+dirty)? \(go1\.[0-9.]+ linux/` + goarch(t) + `\)\n$`)
	if !want.Match(out) {
		t.Errorf("fleetctl version says %q, want %s", out, want)
	}

	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "-c", "SHA256SUMS")
	cmd.Dir = dist
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	for _, f := range []string{"fleetctl-" + version + "-linux-amd64", "fleetctl-" + version + "-linux-arm64",
		"fleetctl_9.8.7~test_amd64.deb", "fleetctl_9.8.7~test_arm64.deb", "fleetctl-9.8.7~test-1.x86_64.rpm",
		"fleetctl-9.8.7~test-1.aarch64.rpm", "fleetctl.1.gz"} {
		if !strings.Contains(string(sums), "  "+f+"\n") {
			t.Errorf("SHA256SUMS does not list %s:\n%s", f, sums)
		}
	}
	if _, err := exec.LookPath("dpkg-deb"); err == nil {
		out := run("dpkg-deb", "-c", filepath.Join(dist, "fleetctl_9.8.7~test_amd64.deb"))
		for _, p := range []string{"./usr/bin/fleetctl", "./usr/share/man/man1/fleetctl.1.gz", "./usr/share/bash-completion/completions/fleetctl",
			"./usr/share/zsh/vendor-completions/_fleetctl", "./usr/share/fish/vendor_completions.d/fleetctl.fish"} {
			if !strings.Contains(out, p) {
				t.Errorf("the .deb lacks %s:\n%s", p, out)
			}
		}
	}
}

func goarch(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOARCH").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}
