package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func newSigner(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

func sign(t *testing.T, ca ssh.Signer, key ssh.PublicKey, typ uint32, principals ...string) *ssh.Certificate {
	t.Helper()
	c := &ssh.Certificate{Key: key, CertType: typ, KeyId: "test", ValidPrincipals: principals,
		ValidAfter: uint64(time.Now().Add(-time.Hour).Unix()), ValidBefore: uint64(time.Now().Add(time.Hour).Unix())}
	if err := c.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestHostCertificates(t *testing.T) {
	dir := t.TempDir()
	ca, _ := newSigner(t)
	other, _ := newSigner(t)
	host, _ := newSigner(t)
	addr, remote := "10.0.0.5:22", &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 22}
	cert := sign(t, ca, host.PublicKey(), ssh.HostCert, "10.0.0.5")
	write := func(lines ...string) string {
		p := filepath.Join(dir, "known_hosts")
		if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caLine := "@cert-authority 10.0.0.* " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(ca.PublicKey())))

	// A CA line trusts the certificate of a host known by no other line.
	kh := write(caLine)
	if err := (&HostKeys{Path: kh}).Callback("web1").check(addr, remote, cert); err != nil {
		t.Fatalf("certificate of a trusted CA refused: %v", err)
	}
	// A certificate for another name is refused, even from the trusted CA.
	wrong := sign(t, ca, host.PublicKey(), ssh.HostCert, "10.0.0.6")
	if err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("web1").check(addr, remote, wrong); err == nil {
		t.Fatal("certificate for another host accepted")
	}
	// Signed by a CA nobody trusts: the certified key is checked as a plain key, as OpenSSH does: unknown here...
	untrusted := sign(t, other, host.PublicKey(), ssh.HostCert, "10.0.0.5")
	if err := (&HostKeys{Path: kh}).Callback("web1").check(addr, remote, untrusted); !errors.Is(err, ErrHostUnknown) ||
		!strings.Contains(err.Error(), ssh.FingerprintSHA256(host.PublicKey())) {
		t.Fatalf("untrusted certificate: %v", err)
	}
	// ...recorded as the plain key with consent...
	if err := (&HostKeys{Path: kh, AcceptNew: true}).Callback("web1").check(addr, remote, untrusted); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(kh)
	if !strings.Contains(string(b), "10.0.0.5 "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(host.PublicKey())))) {
		t.Fatalf("recorded:\n%s", b)
	}
	// ...and then accepted, while a certificate of another key is a changed key.
	if err := (&HostKeys{Path: kh}).Callback("web1").check(addr, remote, untrusted); err != nil {
		t.Fatalf("recorded key refused: %v", err)
	}
	stranger, _ := newSigner(t)
	if err := (&HostKeys{Path: kh}).Callback("web1").check(addr, remote, sign(t, other, stranger.PublicKey(), ssh.HostCert, "10.0.0.5")); !errors.Is(err, ErrHostKeyChanged) {
		t.Fatalf("certificate of a changed key: %v", err)
	}
}

func TestHostKeysReadEveryFileAndRecordInTheFirst(t *testing.T) {
	dir := t.TempDir()
	key, key2 := newKey(t), newKey(t)
	addr, remote := "10.0.0.5:22", &net.TCPAddr{IP: net.ParseIP("10.0.0.5"), Port: 22}
	second := filepath.Join(dir, "second")
	os.WriteFile(second, []byte("10.0.0.5 "+string(ssh.MarshalAuthorizedKey(key))), 0o600)
	base := &HostKeys{Path: filepath.Join(dir, "base")}
	h := base.Derive(filepath.Join(dir, "first"), []string{second}, true)
	if err := h.Callback("web1").check(addr, remote, key); err != nil {
		t.Fatalf("key in the second file: %v", err)
	}
	if err := h.Callback("db1").check("10.0.0.6:22", remote, key2); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "first")); err != nil || !strings.HasPrefix(string(b), "10.0.0.6 ") {
		t.Fatalf("new keys go to the first file: %q %v", b, err)
	}
	if h.lock() != base.lock() {
		t.Fatal("derived verifiers must share the run's lock")
	}
}

func TestUserCertificateBesideTheKeyIsOfferedFirst(t *testing.T) {
	dir := t.TempDir()
	ca, _ := newSigner(t)
	s, priv := newSigner(t)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "id_ed25519")
	os.WriteFile(key, pem.EncodeToMemory(block), 0o600)
	cert := sign(t, ca, s.PublicKey(), ssh.UserCert, "deploy")
	os.WriteFile(key+"-cert.pub", ssh.MarshalAuthorizedKey(cert), 0o600)

	k, _, err := NewKeyring("")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := k.Auth([]KeyFile{{Path: key, From: "test"}}, nil, false)
	if err != nil || len(auth) != 1 {
		t.Fatalf("auth %v %v", auth, err)
	}
	// Offer through a real handshake is the bed's job; here: the certificate pairs with its key, a stray one fails.
	otherCert := sign(t, ca, newKey(t), ssh.UserCert, "deploy")
	os.WriteFile(key+"-cert.pub", ssh.MarshalAuthorizedKey(otherCert), 0o600)
	k2, _, _ := NewKeyring("")
	if _, err := k2.Auth([]KeyFile{{Path: key, From: "test"}}, nil, false); err == nil || !strings.Contains(err.Error(), "does not certify") {
		t.Fatalf("a certificate of another key beside it: %v", err)
	}
	// A missing optional key is skipped; a missing configured one is an error naming where it was configured.
	if _, err := k2.Auth([]KeyFile{{Path: filepath.Join(dir, "nope"), From: "IdentityFile at cfg:3", Optional: true}, {Path: key + "x", From: "ssh.identity_files"}}, nil, false); err == nil ||
		!strings.Contains(err.Error(), "ssh.identity_files") {
		t.Fatalf("missing key: %v", err)
	}
}
