package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func newKey(t *testing.T) ssh.PublicKey {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestHostKeyPolicy(t *testing.T) {
	dir := t.TempDir()
	kh := filepath.Join(dir, "known_hosts")
	addr, remote := "10.0.0.5:22", &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 22}
	key, other := newKey(t), newKey(t)

	// No known_hosts file and no consent: refused, saying how to consent.
	strict := &HostKeys{Path: kh}
	c := strict.Callback("web1")
	if err := c.check(addr, remote, key); !errors.Is(err, ErrHostUnknown) || !strings.Contains(err.Error(), "--accept-new-host-keys") ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(key)) {
		t.Fatalf("unknown host: %v", err)
	}
	// With consent the key is recorded, and then accepted without it.
	if err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("web1").check(addr, remote, key); err != nil {
		t.Fatalf("accept new: %v", err)
	}
	if err := strict.Callback("web1").check(addr, remote, key); err != nil {
		t.Fatalf("recorded key refused: %v", err)
	}
	// A changed key is refused even with consent, naming both fingerprints and the file line.
	err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("web1").check(addr, remote, other)
	if !errors.Is(err, ErrHostKeyChanged) || !strings.Contains(err.Error(), ssh.FingerprintSHA256(other)) ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(key)) || !strings.Contains(err.Error(), "known_hosts:1") {
		t.Fatalf("changed key: %v", err)
	}
	// A non-standard port is recorded in [host]:port form.
	if err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("db1").check("10.0.0.6:2222", remote, other); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	if !strings.Contains(string(b), "[10.0.0.6]:2222 ssh-ed25519 ") || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("known_hosts:\n%s", b)
	}
}

func TestQuoteSurvivesTheShell(t *testing.T) {
	for _, s := range []string{"plain", "it's", `a "b" $HOME ` + "`id`", "new\nline", ""} {
		out, err := exec.Command("sh", "-c", "printf %s "+Quote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("%q came back as %q (%v)", s, out, err)
		}
	}
}

func TestExitErrorKeepsTheTail(t *testing.T) {
	e := &ExitError{Status: 65, Stderr: strings.Repeat("x", 5000) + "the real reason\n"}
	if msg := e.Error(); !strings.HasPrefix(msg, "exit status 65: …") || !strings.HasSuffix(msg, "the real reason") || len(msg) > 2100 {
		t.Fatalf("%q…", e.Error()[:40])
	}
	if (&ExitError{Status: 1}).Error() != "exit status 1" {
		t.Fatal("empty stderr")
	}
}

// TestSudoStdinFraming: with a sudo password configured, the script's stdin is its own whether sudo read the
// password line (it asked) or not (NOPASSWD, cached credentials): a gate line is never mistaken for anything else.
func TestSudoStdinFraming(t *testing.T) {
	script := `IFS= read -r gate; printf '%s|' "$gate"; cat`
	inner, lead := framedStdin(script, "pa55 word", "fleetctl-stdin-0123")
	for _, asked := range []bool{true, false} {
		in := lead + "open\nrest\n"
		if asked {
			in = in[strings.Index(in, "\n")+1:] // sudo took the password line
		}
		cmd := exec.Command("sh", "-c", inner)
		cmd.Stdin = strings.NewReader(in)
		out, err := cmd.Output()
		if err != nil || string(out) != "open|rest\n" {
			t.Errorf("sudo asked %t: the script read %q (%v)", asked, out, err)
		}
	}
}
