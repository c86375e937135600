package repokey

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// Key is a verified repository key.
type Key struct {
	Fingerprint string // primary key fingerprint, 40 uppercase hex
	Binary      []byte // the key file de-armored: what apt's signed-by and rpm want
	Armored     []byte // the key file as armored text
}

// NormalizeFingerprint strips spaces and upper-cases.
func NormalizeFingerprint(fp string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(fp), " ", ""))
}

// Fetch reads the key from an http(s) URL, a file:// URL or a local path.
func Fetch(ctx context.Context, client *http.Client, src string) ([]byte, error) {
	if p, ok := strings.CutPrefix(src, "file://"); ok {
		src = p
	}
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		b, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("read repository key: %w", err)
		}
		return b, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch repository key %s: %w", src, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch repository key: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch repository key %s: HTTP %s", src, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("fetch repository key %s: %w", src, err)
	}
	return b, nil
}

// Verify parses a key file (armored or binary) and accepts it only if it holds exactly one primary key and that
// key's fingerprint is want. A second primary key would be trusted by apt and rpm too, so it is refused.
func Verify(data []byte, want string) (*Key, error) {
	want = NormalizeFingerprint(want)
	binary := data
	armored := data
	if blk, err := armor.Decode(bytes.NewReader(data)); err == nil {
		if binary, err = io.ReadAll(blk.Body); err != nil {
			return nil, fmt.Errorf("decode armored repository key: %w", err)
		}
	} else {
		var b bytes.Buffer
		w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
		if err != nil {
			return nil, err
		}
		_, _ = w.Write(data)
		w.Close()
		armored = b.Bytes()
	}
	ents, err := openpgp.ReadKeyRing(bytes.NewReader(binary))
	if err != nil {
		return nil, fmt.Errorf("parse repository key: %w", err)
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("repository key file holds no key")
	}
	var fps []string
	for _, e := range ents {
		fps = append(fps, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	}
	if len(fps) > 1 {
		return nil, fmt.Errorf("repository key file holds %d primary keys (%s); exactly one, %s, is expected", len(fps), strings.Join(fps, ", "), want)
	}
	if fps[0] != want {
		return nil, fmt.Errorf("repository key's primary fingerprint is %s, but %s is pinned (telegraf.key_fingerprint): refusing it", fps[0], want)
	}
	return &Key{Fingerprint: fps[0], Binary: binary, Armored: armored}, nil
}

// FingerprintOf returns the primary fingerprints in a key file, for showing what a host has.
func FingerprintOf(data []byte) []string {
	binary := data
	if blk, err := armor.Decode(bytes.NewReader(data)); err == nil {
		if b, err := io.ReadAll(blk.Body); err == nil {
			binary = b
		}
	}
	ents, err := openpgp.ReadKeyRing(bytes.NewReader(binary))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		out = append(out, strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint)))
	}
	return out
}
