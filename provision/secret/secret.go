package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
)

// Mask is what a secret looks like in any output.
const Mask = "(sensitive)"

// Value is a secret. Its String, GoString and Format never reveal it.
type Value struct{ s string }

// New wraps s.
func New(s string) Value { return Value{s: s} }

// Reveal returns the secret for use on the wire. Never log or print what it returns.
func (v Value) Reveal() string { return v.s }

// IsZero reports whether the value is empty.
func (v Value) IsZero() bool { return v.s == "" }

func (v Value) String() string                { return Mask }
func (v Value) GoString() string              { return Mask }
func (v Value) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(Mask)) }
func (v Value) MarshalText() ([]byte, error)  { return []byte(Mask), nil }

// Derive returns the password for a (host, role) pair: HMAC-SHA256 of the master secret over "host\x00role", encoded
// as 32 URL-safe characters. The same master always yields the same password, so no state is stored.
func Derive(master Value, host, role string) Value {
	m := hmac.New(sha256.New, []byte(master.s))
	m.Write([]byte(host + "\x00" + role))
	return Value{s: base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:32]}
}

// Fingerprint returns a keyed digest of a secret that can be stored in plain sight (for example in a Grafana
// datasource's jsonData) to tell later whether the secret changed, without revealing it: HMAC-SHA256 keyed by the
// master secret, hex.
func Fingerprint(master, v Value) string {
	m := hmac.New(sha256.New, []byte(master.s))
	m.Write([]byte("fingerprint\x00" + v.s))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Masker replaces every secret it knows with Mask. Safe for concurrent use.
type Masker struct {
	mu      sync.RWMutex
	secrets map[string]struct{}
}

// NewMasker returns an empty masker.
func NewMasker() *Masker { return &Masker{secrets: map[string]struct{}{}} }

// Add registers secrets to be masked. Empty and very short values are ignored: masking them would garble output
// without protecting anything.
func (m *Masker) Add(vs ...Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range vs {
		if len(v.s) >= 4 {
			m.secrets[v.s] = struct{}{}
		}
	}
}

// Mask returns s with every registered secret replaced.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	for sec := range m.secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}
