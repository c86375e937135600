package secret

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestValueNeverPrints(t *testing.T) {
	v := New("hunter2-very-secret")
	for _, out := range []string{
		v.String(), fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q", v, v, v, v, v),
		fmt.Sprintf("%v", struct{ P Value }{v}),
	} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret leaked: %q", out)
		}
	}
	b, err := json.Marshal(struct{ P Value }{v})
	if err != nil || strings.Contains(string(b), "hunter2") {
		t.Fatalf("secret leaked in JSON: %s %v", b, err)
	}
	if v.Reveal() != "hunter2-very-secret" {
		t.Fatal("Reveal lost the value")
	}
}

func TestDeriveIsStableAndDistinct(t *testing.T) {
	m := New("master-1")
	a1, a2 := Derive(m, "web1", "write"), Derive(m, "web1", "write")
	if a1.Reveal() != a2.Reveal() || len(a1.Reveal()) != 32 {
		t.Fatalf("derive not stable: %d chars", len(a1.Reveal()))
	}
	for _, other := range []Value{Derive(m, "web1", "read"), Derive(m, "web2", "write"), Derive(New("master-2"), "web1", "write"),
		// The separator keeps ("web1w", "rite") apart from ("web1", "write").
		Derive(m, "web1w", "rite")} {
		if other.Reveal() == a1.Reveal() {
			t.Fatal("distinct inputs derived the same password")
		}
	}
}

func TestFingerprintHidesSecret(t *testing.T) {
	m := New("master")
	f := Fingerprint(m, New("pw"))
	if f == Fingerprint(m, New("pw2")) || f != Fingerprint(m, New("pw")) || strings.Contains(f, "pw") {
		t.Fatal("fingerprint not a stable keyed digest")
	}
}

func TestMasker(t *testing.T) {
	m := NewMasker()
	m.Add(New("s3cr3t-pass"), New(""), New("ab"))
	got := m.Mask(`password = "s3cr3t-pass" ab`)
	if got != `password = "`+Mask+`" ab` {
		t.Fatalf("got %q", got)
	}
}
