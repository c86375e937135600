package secret

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
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
	mu sync.RWMutex
	// byHead holds the secrets by their first maskHead bytes, longest first: finding them in a text costs a
	// lookup per byte of the text however many secrets there are (a fleet of 1000 hosts has 2000), where
	// searching the text for each secret in turn cost a pass over it per secret.
	byHead map[string][]string
}

// maskHead is the shortest secret masked, and the length of the index's keys.
const maskHead = 4

// NewMasker returns an empty masker.
func NewMasker() *Masker { return &Masker{byHead: map[string][]string{}} }

// Add registers secrets to be masked. Empty and very short values are ignored: masking them would garble output
// without protecting anything.
func (m *Masker) Add(vs ...Value) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range vs {
		if len(v.s) < maskHead {
			continue
		}
		h := v.s[:maskHead]
		if slices.Contains(m.byHead[h], v.s) {
			continue
		}
		l := append(m.byHead[h], v.s)
		slices.SortStableFunc(l, func(a, b string) int { return len(b) - len(a) })
		m.byHead[h] = l
	}
}

// find returns where the first secret in s starts and how long it is (the longest of those starting there), or
// -1. The caller holds the lock.
func (m *Masker) find(s string) (int, int) {
	for i := 0; i+maskHead <= len(s); i++ {
		for _, sec := range m.byHead[s[i:i+maskHead]] {
			if strings.HasPrefix(s[i:], sec) {
				return i, len(sec)
			}
		}
	}
	return -1, 0
}

// Mask returns s with every registered secret replaced.
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.byHead) == 0 {
		return s
	}
	i, n := m.find(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	for ; i >= 0; i, n = m.find(s) {
		b.WriteString(s[:i])
		b.WriteString(Mask)
		s = s[i+n:]
	}
	b.WriteString(s)
	return b.String()
}
