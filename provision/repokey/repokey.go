package repokey

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key is a verified repository key, re-encoded by fleetctl from what it parsed: the primary key, its user IDs and
// subkeys with their self-signatures, and nothing else of the fetched file.
type Key struct {
	Fingerprint string // primary key fingerprint, 40 uppercase hex
	Binary      []byte // the key's packets: what apt's signed-by names
	Armored     []byte // Binary armored, one block: what rpm, dnf, yum and zypper read
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

// Contents is what a key file holds as the tools that read it see it: apt, rpm and gpg take every armored block
// of a file and every primary key in it, so every one is listed here.
type Contents struct {
	Fingerprints []string // every primary key, in file order (a key fleetctl cannot fingerprint is named by its version)
	Blocks       int      // armored blocks; 0 for a binary file
	Problems     []string // what is not one clean key: data around the blocks, blocks that do not decode, secret keys
	binary       []byte   // the packets of every block that decoded, concatenated
}

// Clean reports whether the file is exactly one key: one block at most, one primary key, nothing else.
func (c Contents) Clean() bool {
	return c.Blocks <= 1 && len(c.Fingerprints) == 1 && len(c.Problems) == 0
}

const armorBegin = "-----BEGIN PGP "

// Inspect reads a key file, armored or binary, never failing: whatever it cannot read is a Problem.
func Inspect(data []byte) Contents {
	var c Contents
	if len(data) > 0 && data[0]&0x80 != 0 {
		// Binary: an OpenPGP packet header has its top bit set, armored text never does.
		c.binary = data
		c.Fingerprints, c.Problems = primaries(data, "")
		return c
	}
	starts := blockStarts(data)
	if len(starts) == 0 {
		if len(bytes.TrimSpace(data)) > 0 {
			c.Problems = append(c.Problems, "neither an armored OpenPGP block nor binary OpenPGP data")
		}
		return c
	}
	if n := len(bytes.TrimSpace(data[:starts[0]])); n > 0 {
		c.Problems = append(c.Problems, fmt.Sprintf("%d bytes of other data before the armored block", n))
	}
	c.Blocks = len(starts)
	for i, start := range starts {
		end := len(data)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		where := ""
		if len(starts) > 1 {
			where = fmt.Sprintf("block %d: ", i+1)
		}
		seg := data[start:end]
		blk, err := armor.Decode(bytes.NewReader(seg))
		if err != nil {
			c.Problems = append(c.Problems, where+"not a valid armored block: "+err.Error())
			continue
		}
		body, err := io.ReadAll(blk.Body)
		if err != nil {
			c.Problems = append(c.Problems, where+"armored data does not decode: "+err.Error())
			continue
		}
		if blk.Type != openpgp.PublicKeyType {
			c.Problems = append(c.Problems, fmt.Sprintf("%sa %s, not a %s", where, blk.Type, openpgp.PublicKeyType))
		}
		if n := trailing(seg); n > 0 {
			c.Problems = append(c.Problems, fmt.Sprintf("%s%d bytes of other data after the armored block", where, n))
		}
		fps, problems := primaries(body, where)
		c.Fingerprints = append(c.Fingerprints, fps...)
		c.Problems = append(c.Problems, problems...)
		c.binary = append(c.binary, body...)
	}
	return c
}

// blockStarts are the offsets of every armor header line.
func blockStarts(data []byte) []int {
	var out []int
	for off := 0; ; {
		i := bytes.Index(data[off:], []byte(armorBegin))
		if i < 0 {
			return out
		}
		if at := off + i; at == 0 || data[at-1] == '\n' || data[at-1] == '\r' {
			out = append(out, at)
		}
		off += i + len(armorBegin)
	}
}

// trailing counts the non-blank bytes after a block's armor tail line.
func trailing(seg []byte) int {
	i := bytes.Index(seg, []byte("-----END PGP "))
	if i < 0 {
		return 0 // armor.Decode has refused it already
	}
	rest := seg[i:]
	if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
		return len(bytes.TrimSpace(rest[nl+1:]))
	}
	return 0
}

// primaries walks the packets of bin without interpreting them, so a key of an algorithm fleetctl cannot use is
// still seen, and names every primary key.
func primaries(bin []byte, where string) (fps, problems []string) {
	br := bytes.NewReader(bin)
	r := packet.NewOpaqueReader(br)
	for {
		read := len(bin) - br.Len()
		op, err := r.Next()
		if errors.Is(err, io.EOF) && read == len(bin) {
			return fps, problems
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%sunreadable OpenPGP data after %d bytes of packets: %v", where, read, err))
			return fps, problems
		}
		switch op.Tag {
		case 6: // public key, a primary one (subkeys are tag 14)
			fps = append(fps, rawFingerprint(op.Contents))
		case 5: // secret key
			fps = append(fps, rawFingerprint(publicPart(op)))
			problems = append(problems, where+"holds secret key material")
		}
	}
}

// rawFingerprint is a key packet body's fingerprint (RFC 9580 5.5.4): SHA-1 over 0x99, a two-octet length and the
// body for version 4; SHA-256 over 0x9A or 0x9B, a four-octet length and the body for versions 5 and 6.
func rawFingerprint(body []byte) string {
	if len(body) == 0 {
		return "an empty key packet"
	}
	switch v := body[0]; v {
	case 4:
		h := sha1.New()
		h.Write([]byte{0x99, byte(len(body) >> 8), byte(len(body))})
		h.Write(body)
		return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
	case 5, 6:
		h := sha256.New()
		n := len(body)
		h.Write([]byte{0x95 + v, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
		h.Write(body)
		return strings.ToUpper(hex.EncodeToString(h.Sum(nil)))
	default:
		return fmt.Sprintf("a version %d key", v)
	}
}

// publicPart is the public key packet body of a secret key packet, when it parses.
func publicPart(op *packet.OpaquePacket) []byte {
	p, err := op.Parse()
	sk, ok := p.(*packet.PrivateKey)
	if err != nil || !ok {
		return []byte{0}
	}
	var b bytes.Buffer
	if err := sk.PublicKey.Serialize(&b); err != nil {
		return []byte{0}
	}
	pub, err := packet.NewOpaqueReader(&b).Next()
	if err != nil {
		return []byte{0}
	}
	return pub.Contents
}

// fix is what every refusal of a key file tells the user to do.
func fix(want string) string {
	return fmt.Sprintf("point telegraf.key_url at a file holding only the key %s, such as the output of `gpg --armor --export %s`", want, want)
}

// Verify accepts a key file (armored or binary) only if it is exactly one key whose primary fingerprint is want:
// one armored block and nothing around it (or binary packets and nothing else), one primary key. apt and rpm would
// trust every key of the file, so anything more is refused. What it returns is that key re-encoded from what was
// parsed, never the file's bytes.
func Verify(data []byte, want string) (*Key, error) {
	want = NormalizeFingerprint(want)
	c := Inspect(data)
	switch {
	case c.Blocks > 1:
		return nil, fmt.Errorf("repository key file holds %d armored blocks (primary keys %s); exactly one block is expected: %s",
			c.Blocks, strings.Join(c.Fingerprints, ", "), fix(want))
	case len(c.Problems) > 0:
		return nil, fmt.Errorf("repository key file is not one clean key: %s: %s", strings.Join(c.Problems, "; "), fix(want))
	case len(c.Fingerprints) == 0:
		return nil, fmt.Errorf("repository key file holds no key: %s", fix(want))
	case len(c.Fingerprints) > 1:
		return nil, fmt.Errorf("repository key file holds %d primary keys (%s); exactly one, %s, is expected: %s",
			len(c.Fingerprints), strings.Join(c.Fingerprints, ", "), want, fix(want))
	case c.Fingerprints[0] != want:
		return nil, fmt.Errorf("repository key's primary fingerprint is %s, but %s is pinned (telegraf.key_fingerprint): refusing it", c.Fingerprints[0], want)
	}
	ents, err := openpgp.ReadKeyRing(bytes.NewReader(c.binary))
	if err != nil {
		return nil, fmt.Errorf("parse repository key %s: %w", want, err)
	}
	if len(ents) != 1 {
		return nil, fmt.Errorf("parse repository key %s: %d usable keys in it, want 1", want, len(ents))
	}
	bin, err := serialize(ents[0])
	if err != nil {
		return nil, fmt.Errorf("re-encode repository key %s: %w", want, err)
	}
	var armored bytes.Buffer
	w, err := armor.Encode(&armored, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	armored.WriteByte('\n')
	// What is installed must be what was checked: the re-encoded forms are read back like any key file.
	for _, out := range [][]byte{bin, armored.Bytes()} {
		if got := Inspect(out); !got.Clean() || got.Fingerprints[0] != want {
			return nil, fmt.Errorf("re-encode repository key %s: the result reads as %v", want, got.Fingerprints)
		}
	}
	return &Key{Fingerprint: want, Binary: bin, Armored: armored.Bytes()}, nil
}

// serialize writes the entity's primary key, its revocations and verified direct-key signature, its user IDs (by
// name, for a stable result) with the signatures the primary key made on them, and its subkeys with their
// revocations and binding signatures. Third-party certifications are left out: they add no trust to apt or rpm,
// only bytes.
func serialize(e *openpgp.Entity) ([]byte, error) {
	var b bytes.Buffer
	own := func(sig *packet.Signature) bool { return sig.CheckKeyIdOrFingerprint(e.PrimaryKey) }
	if err := e.PrimaryKey.Serialize(&b); err != nil {
		return nil, err
	}
	sigs := append([]*packet.Signature{}, e.Revocations...)
	if e.SelfSignature != nil {
		sigs = append(sigs, e.SelfSignature) // a version 6 key's direct-key signature, verified by ReadEntity
	}
	for _, s := range sigs {
		if err := s.Serialize(&b); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(e.Identities))
	for name := range e.Identities {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		id := e.Identities[name]
		if err := id.UserId.Serialize(&b); err != nil {
			return nil, err
		}
		for _, s := range id.Signatures {
			if !own(s) {
				continue
			}
			if err := s.Serialize(&b); err != nil {
				return nil, err
			}
		}
	}
	for _, sk := range e.Subkeys {
		if err := sk.PublicKey.Serialize(&b); err != nil {
			return nil, err
		}
		for _, s := range append(append([]*packet.Signature{}, sk.Revocations...), sk.Sig) {
			if err := s.Serialize(&b); err != nil {
				return nil, err
			}
		}
	}
	return b.Bytes(), nil
}
