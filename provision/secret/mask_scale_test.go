package secret

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fleetMasker is the masker of a fleet of n hosts: two derived passwords per host.
func fleetMasker(n int) *Masker {
	m := NewMasker()
	master := New("master-secret-value-123")
	for i := range n {
		m.Add(Derive(master, fmt.Sprintf("c%d-debian12", i), "write"), Derive(master, fmt.Sprintf("c%d-debian12", i), "read"))
	}
	return m
}

func TestMaskOverlappingAndRepeatedSecrets(t *testing.T) {
	m := NewMasker()
	m.Add(New("abcd"), New("abcdef"), New("cdefgh"), New("abcd"), New("xyz"))
	for in, want := range map[string]string{
		"abcdef":         Mask,
		"abcd abcd":      Mask + " " + Mask,
		"zabcdefghz":     "z" + Mask + "ghz",
		"abcdabcdef":     Mask + Mask,
		"xyz cdefgh abc": "xyz " + Mask + " abc",
		"":               "",
		"abc":            "abc",
	} {
		if got := m.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if !m.knows("..cdefgh..") || m.knows("cdefg") {
		t.Error("knows: wrong")
	}
}

func TestMaskCostDoesNotGrowWithTheFleet(t *testing.T) {
	// Every output, log line and file value goes through the masker, and a fleet of n hosts gives it 2n secrets:
	// masking must cost about the same for 10 hosts as for 1000, not 100 times more.
	text := strings.Repeat(`{"host":"c12-debian12","address":"telegraf.d/outputs.conf","action":"update"}`+"\n", 200)
	// A ratio of two costs measured alike (the least of three runs each), not a speed target: a pass over the text
	// per secret made it 55 times more, the index about the same.
	cost := func(n int) float64 {
		m := fleetMasker(n)
		least := 0.0
		for range 3 {
			t0 := time.Now()
			for range 50 {
				m.Mask(text)
			}
			if ns := float64(time.Since(t0).Nanoseconds()) / 50; least == 0 || ns < least {
				least = ns
			}
		}
		return least
	}
	small, large := cost(10), cost(1000)
	if large > 5*small {
		t.Fatalf("masking %d bytes: %.0f ns with 20 secrets, %.0f ns with 2000 (%.0fx)", len(text), small, large, large/small)
	}
}

func BenchmarkMaskFleet(b *testing.B) {
	out := strings.Repeat(`{"host":"c12-debian12","address":"telegraf.d/outputs.conf","action":"update"},`+"\n", 15000)
	line := "read host state: ssh: handshake failed on c12-debian12"
	for _, n := range []int{10, 1000} {
		m := fleetMasker(n)
		b.Run(fmt.Sprintf("hosts=%d/output-1MiB", n), func(b *testing.B) {
			for b.Loop() {
				m.Mask(out)
			}
		})
		b.Run(fmt.Sprintf("hosts=%d/line", n), func(b *testing.B) {
			for b.Loop() {
				m.Mask(line)
			}
		})
	}
}
