package remote

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeys verifies host keys against known_hosts files. An unknown host is refused unless AcceptNew is set, in
// which case its key is recorded in Path; a changed key is always refused. A host certificate is accepted when an
// @cert-authority line trusts its signer for the host; otherwise the key it certifies is checked like a plain key,
// as OpenSSH does.
type HostKeys struct {
	Path      string
	Extra     []string // more files read (not written), such as the later files of UserKnownHostsFile
	AcceptNew bool

	mu     sync.Mutex  // serialises reads and appends of the files across hosts dialed in parallel
	shared *sync.Mutex // set by Derive: every verifier of a run takes the same lock
}

// Derive returns a verifier for other files or another policy that shares h's lock, so verifiers of one run never
// read a file while another appends to it.
func (h *HostKeys) Derive(path string, extra []string, acceptNew bool) *HostKeys {
	return &HostKeys{Path: path, Extra: extra, AcceptNew: acceptNew, shared: h.lock()}
}

func (h *HostKeys) lock() *sync.Mutex {
	if h.shared != nil {
		return h.shared
	}
	return &h.mu
}

// ErrHostKeyChanged and ErrHostUnknown classify host key refusals.
var (
	ErrHostKeyChanged = errors.New("host key changed")
	ErrHostUnknown    = errors.New("host key unknown")
)

type hostKeyCheck struct {
	hk   *HostKeys
	host string
	err  error // the refusal, kept because the ssh package wraps callback errors in its own text
}

// Callback returns the verifier for one host (its inventory name is used in messages).
func (h *HostKeys) Callback(host string) *hostKeyCheck { return &hostKeyCheck{hk: h, host: host} }

func (c *hostKeyCheck) check(addr string, remote net.Addr, key ssh.PublicKey) error {
	h := c.hk
	mu := h.lock()
	mu.Lock()
	defer mu.Unlock()
	var files []string
	for _, f := range append([]string{h.Path}, h.Extra...) {
		if _, err := os.Stat(f); err == nil {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		key = plainKey(key)
		if !h.AcceptNew {
			c.err = fmt.Errorf("%w: %s (%s) offers %s %s and %s does not exist; check the fingerprint, then run with --accept-new-host-keys (or ssh.accept_new_host_keys = true) to record it",
				ErrHostUnknown, c.host, addr, key.Type(), ssh.FingerprintSHA256(key), h.Path)
			return c.err
		}
		if err := os.MkdirAll(filepath.Dir(h.Path), 0o700); err != nil {
			return fmt.Errorf("create known_hosts folder: %w", err)
		}
		return h.record(addr, key)
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		c.err = fmt.Errorf("read known_hosts %s: %w", strings.Join(files, ", "), err)
		return c.err
	}
	err = cb(addr, remote, key)
	if cert, ok := key.(*ssh.Certificate); ok && err != nil && strings.Contains(err.Error(), "no authorities for hostname") {
		// No @cert-authority line trusts the signer: check the certified key as a plain key, as OpenSSH does.
		key = cert.Key
		err = cb(addr, remote, key)
	}
	var ke *knownhosts.KeyError
	if errors.As(err, &ke) {
		// knownhosts lists matching @cert-authority lines among the keys it wanted: they are no host's key, and a
		// host without a certificate is unknown, not changed, where only a CA is listed for its name.
		ke.Want = slices.DeleteFunc(ke.Want, func(k knownhosts.KnownKey) bool { return isCertAuthorityLine(k.Filename, k.Line) })
	}
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ke) && len(ke.Want) > 0:
		want := ""
		for i, k := range ke.Want {
			if i > 0 {
				want += ", "
			}
			want += fmt.Sprintf("%s %s (%s:%d)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line)
		}
		// The removal names the file: ssh-keygen -R alone edits ~/.ssh/known_hosts, not a custom ssh.known_hosts.
		c.err = fmt.Errorf("%w: %s (%s) now offers %s %s but known_hosts has %s; if the host was really reinstalled, remove the old key (ssh-keygen -f %s -R %s) and run again",
			ErrHostKeyChanged, c.host, addr, key.Type(), ssh.FingerprintSHA256(key), want, Quote(h.Path), Quote(knownhosts.Normalize(addr)))
		return c.err
	case errors.As(err, &ke):
		if !h.AcceptNew {
			c.err = fmt.Errorf("%w: %s (%s) offers %s %s, not in %s; check the fingerprint, then run with --accept-new-host-keys (or ssh.accept_new_host_keys = true) to record it",
				ErrHostUnknown, c.host, addr, key.Type(), ssh.FingerprintSHA256(key), h.Path)
			return c.err
		}
		return h.record(addr, key)
	case errors.As(err, new(*knownhosts.RevokedError)):
		c.err = fmt.Errorf("%w: %s (%s) offers %s %s, which known_hosts marks @revoked", ErrHostKeyChanged, c.host, addr, key.Type(), ssh.FingerprintSHA256(plainKey(key)))
		return c.err
	default:
		c.err = fmt.Errorf("verify host key of %s: %w", c.host, err)
		return c.err
	}
}

// isCertAuthorityLine reports whether line n (1-based) of file is an @cert-authority line.
func isCertAuthorityLine(file string, n int) bool {
	b, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return n >= 1 && n <= len(lines) && strings.HasPrefix(strings.TrimSpace(lines[n-1]), "@cert-authority")
}

// plainKey is the key a certificate certifies, or key itself.
func plainKey(key ssh.PublicKey) ssh.PublicKey {
	if cert, ok := key.(*ssh.Certificate); ok {
		return cert.Key
	}
	return key
}

// record appends the key for addr to the known_hosts file.
func (h *HostKeys) record(addr string, key ssh.PublicKey) error {
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
	f, err := os.OpenFile(h.Path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	b.WriteString(line)
	b.WriteByte('\n')
	if _, err := f.Write(b.Bytes()); err != nil {
		return fmt.Errorf("record host key: %w", err)
	}
	return nil
}
