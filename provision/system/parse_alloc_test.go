package system

import (
	"encoding/base64"
	"runtime"
	"strings"
	"testing"
)

// hostOutput is a read of a typical onboarded host: os-release, the agent's three files, its package and service.
func hostOutput() []byte {
	conf := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("[[inputs.cpu]]\n  percpu = true\n", 40)))
	var lines []string
	lines = append(lines, marker+"os-release", `ID=debian`, `VERSION_ID="12"`, marker+"init", "systemd")
	for _, f := range []string{"/etc/telegraf/telegraf.conf", "/etc/telegraf/telegraf.d/a.conf", "/etc/telegraf/telegraf.d/b.conf"} {
		lines = append(lines, marker+"file "+f, "640 root telegraf 1700000000", conf)
	}
	lines = append(lines, marker+"pkg telegraf", "dpkg installed 1.37.2-1", marker+"svc telegraf", "ActiveState=active",
		"LoadState=loaded", "MainPID=42", "UnitFileState=enabled", marker+"end", "")
	return []byte(strings.Join(lines, "\n"))
}

func TestParseFactsAllocatesForWhatItReads(t *testing.T) {
	// A host's read is a few KiB: parsing it must not cost a buffer sized for the largest read there could be
	// (that was 1 MiB per host, 90% of what a plan allocated).
	out := hostOutput()
	const runs = 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range runs {
		if _, err := ParseFacts(out); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	per := (after.TotalAlloc - before.TotalAlloc) / runs
	if limit := uint64(16*len(out) + 64<<10); per > limit {
		t.Fatalf("ParseFacts of %d bytes allocated %d bytes, want at most %d", len(out), per, limit)
	}
}

func TestParseFactsReadsLongLines(t *testing.T) {
	// A file of several MiB is one base64 line: the buffer grows to it.
	big := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 3<<20)))
	out := marker + "file /etc/big\n644 root root 1\n" + big + "\n" + marker + "end\n"
	f, err := ParseFacts([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Files["/etc/big"].Content) != 3<<20 {
		t.Fatalf("read %d bytes of /etc/big, want %d", len(f.Files["/etc/big"].Content), 3<<20)
	}
}

func BenchmarkParseFacts(b *testing.B) {
	out := hostOutput()
	b.ReportAllocs()
	b.SetBytes(int64(len(out)))
	for b.Loop() {
		if _, err := ParseFacts(out); err != nil {
			b.Fatal(err)
		}
	}
}
