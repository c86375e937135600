package remote

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pkg/sftp"
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
	// The fix it suggests removes the key from this known_hosts file, not from ~/.ssh/known_hosts.
	if want := "ssh-keygen -f '" + kh + "' -R '10.0.0.5'"; !strings.Contains(err.Error(), want) {
		t.Fatalf("changed key: want %q in %v", want, err)
	}
	// A non-standard port is recorded in [host]:port form.
	if err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("db1").check("10.0.0.6:2222", remote, other); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	if !strings.Contains(string(b), "[10.0.0.6]:2222 ssh-ed25519 ") || strings.Count(string(b), "\n") != 2 {
		t.Fatalf("known_hosts:\n%s", b)
	}
	// ... and so is the host in the removal it suggests when that key changes.
	err = strict.Callback("db1").check("10.0.0.6:2222", remote, key)
	if want := "ssh-keygen -f '" + kh + "' -R '[10.0.0.6]:2222'"; !errors.Is(err, ErrHostKeyChanged) || !strings.Contains(err.Error(), want) {
		t.Fatalf("changed key on a port: want %q in %v", want, err)
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

// sftpRecorder is the server's side of an sftp stream, recording the attributes of every MKDIR and OPEN request.
type sftpRecorder struct {
	r    io.Reader
	buf  []byte
	mu   sync.Mutex
	seen []string // "mkdir PATH perm=0700", "open PATH perm=none"...
}

func (s *sftpRecorder) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf = append(s.buf, p[:n]...)
	for len(s.buf) >= 4 {
		size := 4 + int(binary.BigEndian.Uint32(s.buf))
		if len(s.buf) < size {
			break
		}
		pkt := s.buf[:size]
		if typ := pkt[4]; typ == sftpMkdir || typ == sftpOpen {
			pathLen := int(binary.BigEndian.Uint32(pkt[9:13]))
			path, rest := string(pkt[13:13+pathLen]), pkt[13+pathLen:]
			op := "mkdir"
			if typ == sftpOpen {
				op, rest = "open", rest[4:]
			}
			perm := "none"
			if flags := binary.BigEndian.Uint32(rest); flags&sftpAttrPerm != 0 {
				perm = fmt.Sprintf("%04o", binary.BigEndian.Uint32(rest[4:])) // only the permissions flag is ever set
			}
			s.seen = append(s.seen, op+" "+filepath.Base(path)+" perm="+perm)
		}
		s.buf = append(s.buf[:0], s.buf[size:]...)
	}
	return n, err
}

// TestStagingCreatesPrivately: the directory and the files staged over sftp are created with their private modes
// in the request that creates them (so they are never, even for a moment, open to others), and the server, here
// pkg/sftp's, still understands every request. A request that creates nothing is left alone.
func TestStagingCreatesPrivately(t *testing.T) {
	toServer, fromClient := io.Pipe()
	toClient, fromServer := io.Pipe()
	rec := &sftpRecorder{r: toServer}
	srv, err := sftp.NewServer(struct {
		io.Reader
		io.WriteCloser
	}{rec, fromServer})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	// Closing both streams ends client and server alike.
	defer fromServer.Close()
	defer fromClient.Close()
	cl, err := sftp.NewClientPipe(toClient, &privateModes{w: fromClient})
	if err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "stage")
	if err := cl.Mkdir(dir); err != nil {
		t.Fatal(err)
	}
	f, err := cl.OpenFile(dir+"/0", os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(bytes.Repeat([]byte("x"), 100000)); err != nil { // several WRITE packets pass unchanged
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := cl.Open(dir + "/0")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	r.Close()
	if err != nil || len(b) != 100000 {
		t.Fatalf("read back %d bytes: %v", len(b), err)
	}
	rec.mu.Lock()
	got := strings.Join(rec.seen, ", ")
	rec.mu.Unlock()
	if got != "mkdir stage perm=0700, open 0 perm=0600, open 0 perm=none" {
		t.Fatalf("requests: %s", got)
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
