package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// openPTY opens a pseudo-terminal pair: what is written to the terminal end can be read from the controller end.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	unlock := int32(0)
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); errno != 0 {
		t.Fatalf("unlock the pseudo-terminal: %v", errno)
	}
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("number of the pseudo-terminal: %v", errno)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pseudo-terminal's terminal end: %v", err)
	}
	t.Cleanup(func() { ptmx.Close(); pts.Close() })
	return ptmx, pts
}

// bedInventory copies the bed's sandbox inventory into a temporary folder (its secrets linked beside it) with one
// more host, which no test host answers for, and returns its path.
func bedInventory(t *testing.T, extraHost string) string {
	t.Helper()
	b := testbed.Require(t)
	inv, err := os.ReadFile(b.Inventory)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(b.Dir, "secrets"), filepath.Join(dir, "secrets")); err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(inv), "use_agent = false", "use_agent = false\nconnect_timeout = \"2s\"", 1)
	text += "\n[[hosts]]\nname = \"" + extraHost + "\"\naddress = \"10.210.0.250\"\n"
	path := filepath.Join(dir, "inventory.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestColourOnATerminal runs plan with stdout on a real pseudo-terminal: the plan is in colour there, and not
// through a pipe or with NO_COLOR. The plan is of a host that cannot be reached, so no host is touched.
func TestColourOnATerminal(t *testing.T) {
	inv := bedInventory(t, "colour-probe")
	run := func(stdout *os.File, env map[string]string) (int, string) {
		var stderr bytes.Buffer
		io := StdIO(strings.NewReader(""), stdout, &stderr, func(k string) string {
			if v, ok := env[k]; ok {
				return v
			}
			if k == "NO_COLOR" || k == "TERM" {
				return ""
			}
			return os.Getenv(k)
		})
		code := Run(context.Background(), []string{"fleetctl", "plan", "-i", inv, "--limit", "colour-probe"}, io)
		return code, stderr.String()
	}
	const bold, red = "\x1b[1m", "\x1b[31m"

	controller, terminal := openPTY(t)
	read := make(chan string)
	go func() {
		b, _ := io.ReadAll(controller) // ends with EIO once the terminal end is closed
		read <- string(b)
	}()
	code, stderr := run(terminal, nil)
	terminal.Close()
	var out string
	select {
	case out = <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("the pseudo-terminal's output never ended")
	}
	if code != ExitError || !strings.Contains(out, "colour-probe") {
		t.Fatalf("plan of an unreachable host: exit %d\nstdout:\n%q\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(out, bold+"colour-probe") || !strings.Contains(out, red+"error") {
		t.Errorf("no colour on a terminal:\n%q", out)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		b, _ := io.ReadAll(pr)
		read <- string(b)
	}()
	run(pw, nil)
	pw.Close()
	if out := <-read; !strings.Contains(out, "colour-probe") || strings.Contains(out, "\x1b[") {
		t.Errorf("colour through a pipe:\n%q", out)
	}

	controller, terminal = openPTY(t)
	go func() {
		b, _ := io.ReadAll(controller)
		read <- string(b)
	}()
	run(terminal, map[string]string{"NO_COLOR": "1"})
	terminal.Close()
	if out := <-read; !strings.Contains(out, "colour-probe") || strings.Contains(out, "\x1b[") {
		t.Errorf("colour on a terminal with NO_COLOR set:\n%q", out)
	}
}
