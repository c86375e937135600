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
// transport is not SSH. Each line of stdout reaches onLine as it is written.
type shellRunner struct {
	t        *testing.T
	stageDir string
	commands int
	unstaged []string
	// afterStage, when set, runs once the files are staged and before the command (a local attacker's move).
	afterStage func(dir string)
	// sudoFails makes every command fail as a refused sudo does, without running anything.
	sudoFails bool
}

func (r *shellRunner) Sudo(ctx context.Context, script string, stdin []byte) ([]byte, error) {
	return r.SudoWatch(ctx, script, bytes.NewReader(stdin), nil)
}

func (r *shellRunner) SudoWatch(ctx context.Context, script string, stdin io.Reader, onLine func(string)) ([]byte, error) {
	r.commands++
	if r.sudoFails {
		return nil, &remote.ExitError{Status: 1, Stderr: "sudo: a password is required\n"}
	}
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
	if r.afterStage != nil {
		r.afterStage(dir)
	}
	return dir, nil
}

func (r *shellRunner) Unstage(_ context.Context, dir string) error {
	r.unstaged = append(r.unstaged, dir)
	return os.RemoveAll(dir)
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

// TestStagedFilesAreVerified plays a process of the login user (who owns the upload directory) changing what was
// uploaded after the upload and before root's command takes it: new content, a link to a file only root may read,
// the directory itself swapped for a link. Root refuses each, and runs nothing; what it installs is exactly what
// was uploaded (bytes appended later are not taken).
func TestStagedFilesAreVerified(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "shadow")
	if err := os.WriteFile(secretFile, []byte("root's secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		attack   func(dir string) error
		accepted bool
	}{
		{"content replaced", func(dir string) error { return os.WriteFile(filepath.Join(dir, "0"), []byte("evil\n"), 0o600) }, false},
		{"content appended", func(dir string) error {
			f, err := os.OpenFile(filepath.Join(dir, "0"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("evil\n")
			return err
		}, true},
		{"made a link", func(dir string) error {
			p := filepath.Join(dir, "0")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Symlink(secretFile, p)
		}, false},
		{"made a directory", func(dir string) error {
			p := filepath.Join(dir, "0")
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o700)
		}, false},
		{"directory swapped for a link", func(dir string) error {
			other := t.TempDir()
			if err := os.WriteFile(filepath.Join(other, "0"), []byte("new content\n"), 0o600); err != nil {
				return err
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			return os.Symlink(other, dir)
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "installed")
			r := &shellRunner{t: t, afterStage: func(dir string) {
				if err := c.attack(dir); err != nil {
					t.Fatal(err)
				}
			}}
			frags := []Fragment{{Script: "cat \"$S/new-0\" > " + out, Files: []remote.File{{Name: "new-0", Data: []byte("new content\n")}}}}
			n, err := RunFragments(context.Background(), r, frags, nil, nil)
			if c.accepted {
				if b, _ := os.ReadFile(out); err != nil || string(b) != "new content\n" {
					t.Fatalf("ran %d: %v; installed %q", n, err, b)
				}
				return
			}
			var ee *remote.ExitError
			if n != 0 || !errors.As(err, &ee) || ee.Status != exitStaging || !strings.Contains(err.Error(), "fleetctl: refusing the staged file for new-0") &&
				!strings.Contains(err.Error(), "is gone or not a directory") {
				t.Fatalf("ran %d: %v", n, err)
			}
			if _, err := os.Stat(out); err == nil {
				t.Fatal("the fragment ran on a changed staged file")
			}
		})
	}
}

// TestStagingIsRemovedWhenTheCommandNeverRuns: the staged files hold secrets (the agent's password); when root's
// command cannot take them (sudo refused, the run cancelled before it started), they are removed, not left in /tmp.
func TestStagingIsRemovedWhenTheCommandNeverRuns(t *testing.T) {
	frags := []Fragment{{Script: "true", Files: []remote.File{{Name: "outputs", Data: []byte("password = \"x\"\n")}}}}
	r := &shellRunner{t: t, sudoFails: true}
	if _, err := RunFragments(context.Background(), r, frags, nil, nil); err == nil || !strings.Contains(err.Error(), "a password is required") {
		t.Fatalf("refused sudo: %v", err)
	}
	if _, err := os.Stat(r.stageDir); !os.IsNotExist(err) || len(r.unstaged) != 1 || r.unstaged[0] != r.stageDir {
		t.Fatalf("after a refused sudo the staging directory is still there (%v; unstaged %v)", err, r.unstaged)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = &shellRunner{t: t}
	r.afterStage = func(string) { cancel() }
	if _, err := RunFragments(ctx, r, frags, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v", err)
	}
	if _, err := os.Stat(r.stageDir); !os.IsNotExist(err) {
		t.Fatalf("after a cancelled run the staging directory is still there (%v)", err)
	}
}
