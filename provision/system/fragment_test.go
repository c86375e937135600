package system

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/remote"
)

// shellRunner runs scripts with the local sh, as the current user: the composed command is real shell, only the
// transport is not SSH.
type shellRunner struct {
	t        *testing.T
	stageDir string
	commands int
}

func (r *shellRunner) Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error) {
	return r.SudoWatch(ctx, script, bytes.NewReader(stdin), nil)
}

func (r *shellRunner) SudoWatch(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	r.commands++
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Stdin = stdin
	var stderr, out bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// Lines are handed over as the command prints them, as over SSH: a caller may act on one mid-command.
	sc := bufio.NewScanner(io.TeeReader(pipe, &out))
	for sc.Scan() {
		if onLine != nil {
			onLine(sc.Text())
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.Bytes(), &remote.ExitError{Status: ee.ExitCode(), Stderr: stderr.String()}
	}
	return out.Bytes(), err
}

func (r *shellRunner) Stage(_ context.Context, files []remote.File) (string, error) {
	dir, err := os.MkdirTemp(r.t.TempDir(), "stage")
	if err != nil {
		return "", err
	}
	for _, f := range files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, f.Data, 0o600); err != nil {
			return "", err
		}
	}
	r.stageDir = dir
	return dir, nil
}

func TestRunFragmentsInOneCommand(t *testing.T) {
	out := t.TempDir()
	r := &shellRunner{t: t}
	frags := []Fragment{
		{Script: "cat \"$S/a\" > " + out + "/first", Files: []remote.File{{Name: "a", Data: []byte("one")}}},
		// A fragment's own output, even a line that looks like a progress line, never reaches stdout.
		{Script: "echo '" + fragmentMarker + "9 done'; cat \"$S/a\" \"$S/b\" > " + out + "/second",
			Files: []remote.File{{Name: "a", Data: []byte("two")}, {Name: "b", Data: []byte("!")}}},
		{Script: "touch \"$S/scratch\" && echo third > " + out + "/third"},
	}
	var done []int
	n, err := RunFragments(context.Background(), r, frags, nil, func(i int, _ time.Duration) { done = append(done, i) })
	if err != nil || n != 3 {
		t.Fatalf("ran %d: %v", n, err)
	}
	if r.commands != 1 {
		t.Errorf("%d remote commands, want 1", r.commands)
	}
	if len(done) != 3 || done[0] != 0 || done[2] != 2 {
		t.Errorf("progress: %v", done)
	}
	for name, want := range map[string]string{"first": "one", "second": "two!", "third": "third\n"} {
		if b, _ := os.ReadFile(filepath.Join(out, name)); string(b) != want {
			t.Errorf("%s: %q, want %q (each fragment sees its own files)", name, b, want)
		}
	}
	if _, err := os.Stat(r.stageDir); !os.IsNotExist(err) {
		t.Errorf("the staging directory was left behind: %v", err)
	}
}

func TestRunFragmentsStopsAtTheFirstFailure(t *testing.T) {
	out := t.TempDir()
	r := &shellRunner{t: t}
	var gotStatus int
	var gotOutput string
	frags := []Fragment{
		{Script: "echo ok > " + out + "/first"},
		{Script: "echo 'progress on stdout'; echo 'the reason' >&2; exit 7", Explain: func(status int, output string) error {
			gotStatus, gotOutput = status, output
			return errors.New("explained")
		}},
		{Script: "echo never > " + out + "/third"},
	}
	n, err := RunFragments(context.Background(), r, frags, nil, nil)
	if n != 1 || err == nil || err.Error() != "explained" {
		t.Fatalf("completed %d, err %v", n, err)
	}
	if gotStatus != 7 || !strings.Contains(gotOutput, "the reason") || !strings.Contains(gotOutput, "progress on stdout") {
		t.Errorf("Explain got %d %q", gotStatus, gotOutput)
	}
	if _, err := os.Stat(filepath.Join(out, "third")); !os.IsNotExist(err) {
		t.Error("a fragment after the failed one ran")
	}

	// Without Explain the error still carries the status and the output.
	n, err = RunFragments(context.Background(), r, []Fragment{{Script: "echo 'no space left' >&2; exit 4"}}, nil, nil)
	var fe *FragmentError
	if n != 0 || !errors.As(err, &fe) || fe.Status != 4 || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("completed %d, err %v", n, err)
	}
}

func TestRunFragmentsWithoutFilesUsesAPrivateDirectory(t *testing.T) {
	r := &shellRunner{t: t}
	out := filepath.Join(t.TempDir(), "s")
	if _, err := RunFragments(context.Background(), r, []Fragment{{Script: "echo \"$S\" > " + out + "; [ -d \"$S\" ] && [ -w \"$S\" ]"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	s := strings.TrimSpace(string(b))
	if !strings.HasPrefix(s, "/tmp/fleetctl.") {
		t.Fatalf("scratch directory %q", s)
	}
	if _, err := os.Stat(s); !os.IsNotExist(err) {
		t.Errorf("%s was left behind", s)
	}
}

func TestRunFragmentsWaitsForTheGate(t *testing.T) {
	for _, open := range []bool{true, false} {
		out := t.TempDir()
		r := &shellRunner{t: t}
		frags := []Fragment{
			{Script: "echo before > " + out + "/before"},
			{Script: "echo gated > " + out + "/gated", Gated: true},
			{Script: "echo after > " + out + "/after"},
		}
		gate := make(chan error, 1)
		beforeDone := make(chan struct{})
		go func() {
			// The gate's verdict comes only once the host has finished what precedes it: the fragment before the
			// gate runs without waiting for it (a run that waited would never report it, and fail here).
			select {
			case <-beforeDone:
			case <-time.After(30 * time.Second):
				t.Errorf("open=%t: the fragment before the gate did not complete while the gate was pending", open)
			}
			if open {
				gate <- nil
			} else {
				gate <- errors.New("influxdb user failed")
			}
		}()
		n, err := RunFragments(context.Background(), r, frags, gate, func(i int, _ time.Duration) {
			if i == 0 {
				close(beforeDone)
			}
		})
		_, gatedErr := os.Stat(filepath.Join(out, "gated"))
		_, afterErr := os.Stat(filepath.Join(out, "after"))
		if open && (err != nil || n != 3 || gatedErr != nil || afterErr != nil) {
			t.Errorf("open gate: ran %d, %v", n, err)
		}
		if !open && (!errors.Is(err, ErrGateClosed) || n != 1 || gatedErr == nil || afterErr == nil) {
			t.Errorf("closed gate: ran %d, %v; gated file %v, after file %v", n, err, gatedErr, afterErr)
		}
		if r.commands != 1 {
			t.Errorf("%d commands", r.commands)
		}
	}
}
