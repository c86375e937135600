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

// TestDerivePinned pins the derivation to values computed outside Go, so that a change of the message (the order
// of host and role, the separator), the hash, the encoding or the length is caught: it would change the password
// of every InfluxDB user of every fleet on its next apply. Recompute with
//
//	printf 'web1\0telegraf' | openssl dgst -sha256 -hmac 'correct horse battery staple' -binary | base64 | tr '+/' '-_' | cut -c1-32
func TestDerivePinned(t *testing.T) {
	m := New("correct horse battery staple")
	for _, c := range []struct{ host, role, want string }{
		{"web1", "telegraf", "ijYLNLNkPIz4Ao_odfHtn8fa7_oSJPSk"},
		{"web1", "grafana", "LXCdAIrzQCiLcCMrx6AAX_XG2uaBafWD"},
		// The same inputs with host and role swapped: a different password, so a swap cannot pass the pins above.
		{"telegraf", "web1", "9uOP4i0nzzYC9owIkP30aDAr19djneh4"},
	} {
		if got := Derive(m, c.host, c.role).Reveal(); got != c.want {
			t.Errorf("Derive(master, %q, %q) = %q, want %q", c.host, c.role, got, c.want)
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
