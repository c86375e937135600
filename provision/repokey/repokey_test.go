package repokey

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

var keyConfig = &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Time: func() time.Time { return time.Unix(1700000000, 0) }}

// newKey makes a key shaped like InfluxData's (and the bed's): a primary key and a signing subkey. It returns the
// entity (with its secret parts) and the public key's packets.
func newKey(t *testing.T, name string) (*openpgp.Entity, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.invalid", keyConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddSigningSubkey(keyConfig); err != nil {
		t.Fatal(err)
	}
	return e, public(t, e)
}

func public(t *testing.T, e *openpgp.Entity) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func armored(t *testing.T, bin []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, map[string]string{"Comment": "made by a test"})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(bin)
	w.Close()
	b.WriteString("\n")
	return b.Bytes()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func fp(e *openpgp.Entity) string { return hexs(e.PrimaryKey.Fingerprint) }

func hexs(b []byte) string {
	const h = "0123456789ABCDEF"
	out := make([]byte, 0, len(b)*2)
	for _, c := range b {
		out = append(out, h[c>>4], h[c&15])
	}
	return string(out)
}

func TestVerifyAcceptsPinnedPrimary(t *testing.T) {
	e, bin := newKey(t, "repo")
	want := fp(e)
	// Spaces and lower case in the pin are tolerated, as users paste them from gpg output.
	spaced := strings.ToLower(want[:4] + " " + want[4:])
	var first *Key
	for name, data := range map[string][]byte{"binary": bin, "armored": armored(t, bin), "armored, blank lines around": cat([]byte("\n\n"), armored(t, bin), []byte("\n\n"))} {
		k, err := Verify(data, spaced)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.Fingerprint != want {
			t.Fatalf("%s: got %s", name, k.Fingerprint)
		}
		// Both forms are exactly the key, and the same whatever form was fetched.
		for form, out := range map[string][]byte{"Binary": k.Binary, "Armored": k.Armored} {
			if c := Inspect(out); !c.Clean() || c.Fingerprints[0] != want {
				t.Fatalf("%s: %s is not exactly the key: %+v", name, form, c)
			}
		}
		if first == nil {
			first = k
		} else if !bytes.Equal(first.Binary, k.Binary) || !bytes.Equal(first.Armored, k.Armored) {
			t.Fatalf("%s: the re-encoded key differs from another form's", name)
		}
		if !bytes.HasPrefix(k.Armored, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n")) || bytes.Contains(k.Armored, []byte("Comment")) {
			t.Fatalf("%s: the armored form is not fleetctl's own:\n%s", name, k.Armored)
		}
	}
}

// The re-encoded key still does its job: a signature of the signing subkey (what the repositories are signed with)
// verifies against it, and the entity reads back whole.
func TestVerifiedKeyStillVerifiesSignatures(t *testing.T) {
	e, bin := newKey(t, "repo")
	k, err := Verify(armored(t, bin), fp(e))
	if err != nil {
		t.Fatal(err)
	}
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, e, strings.NewReader("Release"), keyConfig); err != nil {
		t.Fatal(err)
	}
	for form, ring := range map[string][]byte{"Binary": k.Binary, "Armored": k.Armored} {
		var kr openpgp.EntityList
		if form == "Armored" {
			kr, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(ring))
		} else {
			kr, err = openpgp.ReadKeyRing(bytes.NewReader(ring))
		}
		if err != nil || len(kr) != 1 || len(kr[0].Subkeys) != len(e.Subkeys) || len(kr[0].Identities) != 1 {
			t.Fatalf("%s: read back %d keys (%v)", form, len(kr), err)
		}
		signer, err := openpgp.CheckDetachedSignature(kr, strings.NewReader("Release"), bytes.NewReader(sig.Bytes()), keyConfig)
		if err != nil || fp(signer) != fp(e) {
			t.Fatalf("%s: a subkey signature does not verify against the re-encoded key: %v", form, err)
		}
	}
}

// A key with several user IDs and a third-party certification: the result is the same on every run (user IDs are
// kept in a map by the parser) and carries only the key's own signatures.
func TestVerifyReencodesStablyAndOnlyTheKeysOwn(t *testing.T) {
	e, _ := newKey(t, "repo")
	for _, n := range []string{"zeta", "alpha", "mid"} {
		if err := e.AddUserId(n, "", n+"@example.invalid", keyConfig); err != nil {
			t.Fatal(err)
		}
	}
	other, _ := newKey(t, "certifier")
	if err := e.SignIdentity("repo <repo@example.invalid>", other, keyConfig); err != nil {
		t.Fatal(err)
	}
	bin := public(t, e)
	var first []byte
	for range 20 {
		k, err := Verify(bin, fp(e))
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = k.Binary
		} else if !bytes.Equal(first, k.Binary) {
			t.Fatal("the re-encoded key differs between runs")
		}
	}
	if len(first) >= len(bin) {
		t.Errorf("the third-party certification was kept: %d bytes from %d", len(first), len(bin))
	}
	kr, err := openpgp.ReadKeyRing(bytes.NewReader(first))
	if err != nil || len(kr) != 1 || len(kr[0].Identities) != 4 {
		t.Fatalf("read back: %v", err)
	}
	for name, id := range kr[0].Identities {
		for _, s := range id.Signatures {
			if !s.CheckKeyIdOrFingerprint(kr[0].PrimaryKey) {
				t.Errorf("%s: a signature by another key survived", name)
			}
		}
	}
}

func TestVerifyRefusesOtherKey(t *testing.T) {
	e, _ := newKey(t, "repo")
	_, other := newKey(t, "attacker")
	_, err := Verify(other, fp(e))
	if err == nil || !strings.Contains(err.Error(), "refusing") || !strings.Contains(err.Error(), fp(e)) {
		t.Fatalf("want refusal naming the pin, got %v", err)
	}
}

// Every way to smuggle a second key (or anything else) in behind the pinned one is refused, saying what is in the
// file and what to serve instead; and Inspect, which the plan shows a host's key file with, sees every key.
func TestVerifyRefusesAnythingButTheOneKey(t *testing.T) {
	e, bin := newKey(t, "repo")
	x, extra := newKey(t, "extra")
	pin, extraFP := fp(e), fp(x)
	// A primary key of an algorithm the parser does not know (id 99): gpg and rpm may read what fleetctl's parser
	// skips, so it must count all the same.
	odd := []byte{0x04, 0x65, 0x53, 0xf1, 0x00, 99, 0x00, 0x08, 0xff}
	oddPacket := cat([]byte{0xc6, byte(len(odd))}, odd)
	oddFP := rawFingerprint(odd)
	var secret bytes.Buffer
	if err := x.SerializePrivate(&secret, keyConfig); err != nil {
		t.Fatal(err)
	}
	var signature bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&signature, e, strings.NewReader("x"), keyConfig); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		data   []byte
		err    []string // in Verify's error
		keys   []string // what Inspect lists
		blocks int
	}{
		{"pinned block, then a block with another key", cat(armored(t, bin), armored(t, extra)),
			[]string{"2 armored blocks", pin, extraFP, "exactly one block"}, []string{pin, extraFP}, 2},
		{"another key's block first", cat(armored(t, extra), armored(t, bin)),
			[]string{"2 armored blocks"}, []string{extraFP, pin}, 2},
		{"pinned block twice", cat(armored(t, bin), armored(t, bin)), []string{"2 armored blocks"}, []string{pin, pin}, 2},
		{"pinned block, then trailing junk", cat(armored(t, bin), []byte("junk after the key\n")),
			[]string{"18 bytes of other data after the armored block"}, []string{pin}, 1},
		{"junk before the pinned block", cat([]byte("hello\n"), armored(t, bin)),
			[]string{"5 bytes of other data before the armored block"}, []string{pin}, 1},
		{"two primaries in one block", armored(t, cat(bin, extra)),
			[]string{"2 primary keys", pin, extraFP, "exactly one, " + pin}, []string{pin, extraFP}, 1},
		{"binary with two keys", cat(bin, extra), []string{"2 primary keys"}, []string{pin, extraFP}, 0},
		{"binary, an unknown kind of key after the pinned one", cat(bin, oddPacket), []string{"2 primary keys", oddFP}, []string{pin, oddFP}, 0},
		{"binary, then garbage", cat(bin, []byte{0x01, 0x02, 0x03}), []string{"unreadable OpenPGP data after"}, []string{pin}, 0},
		{"secret key material", secret.Bytes(), []string{"secret key material"}, []string{extraFP}, 0},
		{"a signature block after the key", cat(armored(t, bin), signature.Bytes()), []string{"2 armored blocks"}, []string{pin}, 2},
		{"a block that is not a key", signature.Bytes(), []string{"a PGP SIGNATURE, not a PGP PUBLIC KEY BLOCK"}, nil, 1},
		{"html", []byte("<html>not a key</html>"), []string{"neither an armored OpenPGP block nor binary"}, nil, 0},
		{"empty", nil, []string{"holds no key"}, nil, 0},
	} {
		_, err := Verify(c.data, pin)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range append(c.err, "point telegraf.key_url at a file holding only the key "+pin, "gpg --armor --export "+pin) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error lacks %q: %v", c.name, w, err)
			}
		}
		got := Inspect(c.data)
		if strings.Join(got.Fingerprints, " ") != strings.Join(c.keys, " ") || got.Blocks != c.blocks || got.Clean() {
			t.Errorf("%s: Inspect: %+v, want keys %v in %d blocks, not clean", c.name, got, c.keys, c.blocks)
		}
	}
}

// A block cut short is reported; a changed byte inside a block is refused by Verify (the checksum line is not
// checked by the parser, as RFC 9580 has it, so the key's own signatures or its fingerprint have to catch it).
func TestBrokenArmor(t *testing.T) {
	e, bin := newKey(t, "repo")
	a := armored(t, bin)
	cut := a[:bytes.Index(a, []byte("-----END"))-20]
	if c := Inspect(cut); len(c.Problems) == 0 || c.Clean() {
		t.Errorf("a block without its end is not reported: %+v", c)
	}
	if _, err := Verify(cut, fp(e)); err == nil {
		t.Error("a block without its end accepted")
	}
	for i := len(bin) - 40; i < len(bin); i += 7 {
		flipped := append([]byte{}, bin...)
		flipped[i] ^= 0x10
		if _, err := Verify(armored(t, flipped), fp(e)); err == nil {
			t.Errorf("a key with byte %d changed accepted", i)
		}
	}
}
