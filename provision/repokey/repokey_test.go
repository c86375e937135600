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

func newKey(t *testing.T, name string) (*openpgp.Entity, []byte) {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.invalid", &packet.Config{Time: func() time.Time { return time.Unix(1700000000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return e, b.Bytes()
}

func armored(t *testing.T, bin []byte) []byte {
	var b bytes.Buffer
	w, _ := armor.Encode(&b, openpgp.PublicKeyType, nil)
	w.Write(bin)
	w.Close()
	return b.Bytes()
}

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
	for name, data := range map[string][]byte{"binary": bin, "armored": armored(t, bin)} {
		k, err := Verify(data, spaced)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if k.Fingerprint != want || !bytes.Equal(k.Binary, bin) {
			t.Fatalf("%s: got %s", name, k.Fingerprint)
		}
		if got := FingerprintOf(k.Armored); len(got) != 1 || got[0] != want {
			t.Fatalf("%s: armored form lost the key: %v", name, got)
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

func TestVerifyRefusesExtraPrimaryKeys(t *testing.T) {
	e, bin := newKey(t, "repo")
	_, other := newKey(t, "extra")
	_, err := Verify(append(append([]byte{}, bin...), other...), fp(e))
	if err == nil || !strings.Contains(err.Error(), "2 primary keys") {
		t.Fatalf("want refusal of a second primary key, got %v", err)
	}
}

func TestVerifyRefusesGarbage(t *testing.T) {
	if _, err := Verify([]byte("<html>not a key</html>"), "24C975CBA61A024EE1B631787C3D57159FC2F927"); err == nil {
		t.Fatal("garbage accepted")
	}
}
