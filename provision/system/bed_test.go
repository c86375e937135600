package system_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/remote"
	"github.com/fleetctl/fleetctl/provision/secret"
	"github.com/fleetctl/fleetctl/provision/system"
	"github.com/fleetctl/fleetctl/test/testbed"
)

// bedHost is a real-systemd host of the bed that no other test package uses; these tests keep to a directory of
// their own on it.
const bedHost = "sd11-debian12"

func dialBed(t *testing.T) (context.Context, *remote.Conn, *testbed.Bed, testbed.Host) {
	t.Helper()
	bed := testbed.Require(t)
	h := bed.Host(t, bedHost)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	auth, closeAuth, err := remote.AuthFromKeys([]string{bed.SSH.ClientKey}, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closeAuth)
	conn, err := remote.Dial(ctx, h.Name, h.Addr(), remote.Config{User: bed.SSH.User, Auth: auth,
		HostKeys: &remote.HostKeys{Path: bed.SSH.KnownHosts}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return ctx, conn, bed, h
}

// scratch is a new path of the host's that the test removes when it ends.
func scratch(t *testing.T, bed *testbed.Bed, h testbed.Host, prefix string) string {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	p := prefix + hex.EncodeToString(b)
	t.Cleanup(func() { bed.Run(t, h, "sudo rm -rf "+p) })
	return p
}

func pending(chs []plan.Change) []plan.Change {
	var out []plan.Change
	for _, c := range chs {
		if c.Action.Changes() {
			out = append(out, c)
		}
	}
	return out
}

// TestFileSetOnARealHost installs files over SSH (staged by sftp, installed atomically, in one command), proves a
// second plan is empty, then has the check refuse new content: the error says so and the previous files are back,
// with nothing left behind on the host.
func TestFileSetOnARealHost(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	dir := scratch(t, bed, h, "/etc/fleetctl-it-")
	a, sub := dir+"/a.conf", dir+"/sub/b.conf"
	masker := secret.NewMasker()
	masker.Add(secret.New("pa55word-it"))

	fileSet := func(content, check string) (*system.FileSet, error) {
		facts, err := system.Read(ctx, conn, system.Query{Files: []string{a, sub}, Dirs: []string{dir}})
		if err != nil {
			return nil, err
		}
		return system.NewFileSet(conn, facts, system.FileSet{Label: "it files", Watch: dir, Check: check, Masker: masker, Files: []system.FileSpec{
			{Path: a, Content: []byte(content), Mode: 0o640, Owner: "root", Group: "root", SecretKeys: []string{"password"}},
			{Path: sub, Content: []byte("static = 1\n"), Mode: 0o644, Owner: "root", Group: "root"},
		}}), nil
	}
	apply := func(fs *system.FileSet) error {
		if err := fs.Read(ctx); err != nil {
			return err
		}
		if p := pending(fs.Diff(nil)); len(p) > 0 {
			return fs.Apply(ctx, p)
		}
		return nil
	}
	stagedBefore := bed.Run(t, h, "ls -d /tmp/fleetctl.* 2>/dev/null | wc -l")

	good := "mode = \"good\"\npassword = \"pa55word-it\"\n"
	fs, err := fileSet(good, "grep -q good "+a)
	if err != nil {
		t.Fatal(err)
	}
	if err := apply(fs); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if got := bed.Run(t, h, "sudo stat -c '%a %U %G' "+a+" "+sub+"; sudo cat "+a); got != "640 root root\n644 root root\n"+good {
		t.Fatalf("installed files:\n%s", got)
	}
	fs, err = fileSet(good, "grep -q good "+a)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pending(fs.Diff(nil)); len(p) != 0 {
		t.Fatalf("second plan is not empty: %+v", p)
	}

	// The check refuses the new content: nothing takes effect, and the message never shows the secret.
	fs, err = fileSet("mode = \"bad\"\npassword = \"pa55word-it\"\n", "grep -q good "+a+" || { echo 'E! no good mode in pa55word-it'; exit 1; }")
	if err != nil {
		t.Fatal(err)
	}
	err = apply(fs)
	if !errors.Is(err, system.ErrCheckFailed) || !strings.Contains(err.Error(), "E! no good mode") || strings.Contains(err.Error(), "pa55word-it") {
		t.Fatalf("refused check: %v", err)
	}
	if got := bed.Run(t, h, "sudo cat "+a); got != good {
		t.Fatalf("after a refused check the file is\n%s\nwant the previous one", got)
	}
	if got := bed.Run(t, h, "sudo find "+dir+" -name '*.fleetctl-*' | wc -l; ls -d /tmp/fleetctl.* 2>/dev/null | wc -l"); got != "0\n"+stagedBefore {
		t.Fatalf("left behind (temporary files in %s, staging directories before %s):\n%s", dir, strings.TrimSpace(stagedBefore), got)
	}
}

// TestGateOverSudo: the gate line reaches the host through sudo, and a closed gate keeps what follows from running.
func TestGateOverSudo(t *testing.T) {
	ctx, conn, bed, h := dialBed(t)
	dir := scratch(t, bed, h, "/tmp/fleetctl-gate-")
	for _, open := range []bool{false, true} {
		gate := make(chan error, 1)
		if open {
			gate <- nil
		} else {
			gate <- errors.New("the server side failed")
		}
		frags := []system.Fragment{
			{Script: "mkdir -p " + dir + " && touch " + dir + "/before"},
			{Script: "touch " + dir + "/gated", Gated: true},
		}
		n, err := system.RunFragments(ctx, conn, frags, gate, nil)
		got := bed.Run(t, h, "ls "+dir)
		switch {
		case !open && (!errors.Is(err, system.ErrGateClosed) || n != 1 || got != "before\n"):
			t.Fatalf("closed gate: ran %d, %v; %s holds %q", n, err, dir, got)
		case open && (err != nil || n != 2 || got != "before\ngated\n"):
			t.Fatalf("open gate: ran %d, %v; %s holds %q", n, err, dir, got)
		}
	}
}
