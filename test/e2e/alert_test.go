package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAlertFiresAndResets onboards a host with a team pack of short durations, writes points above the threshold
// for that host, and sees Kapacitor raise CRITICAL in the alert log; points below reset it to OK.
func TestAlertFiresAndResets(t *testing.T) {
	t.Parallel()
	packs, err := filepath.Abs("testdata/packs")
	if err != nil {
		t.Fatal(err)
	}
	alertLog := filepath.Join(t.TempDir(), "alerts.log") // Kapacitor runs on this machine and writes it
	e := newEnv(t, []string{hostAlert}, fmt.Sprintf("[alerts]\nlog = %q\npacks_dir = %q\n", alertLog, packs),
		`alert_packs = ["probe"]`+"\n"+`vars = { probe_crit = 50 }`)
	e.must("apply", "--auto-approve")
	db := strings.ReplaceAll(hostAlert, "-", "_")

	// Kapacitor subscribes to the new database within its sync interval: keep the points coming until it reacts.
	ts := time.Now().Add(-time.Minute)
	feed := func(value int, level string) {
		eventually(t, 60*time.Second, "alert "+level, func() (bool, string) {
			var lines strings.Builder
			for i := 0; i < 4; i++ {
				ts = ts.Add(time.Second)
				fmt.Fprintf(&lines, "e2e_probe,host=%s value=%d %d\n", hostAlert, value, ts.UnixNano())
				// Another host's points must not move this host's alert.
				fmt.Fprintf(&lines, "e2e_probe,host=other value=%d %d\n", 100-value, ts.UnixNano())
			}
			e.influxWrite(db, lines.String())
			b, _ := os.ReadFile(alertLog)
			return strings.Contains(string(b), `"level":"`+level+`"`) && strings.Contains(string(b), "Probe - "+hostAlert), string(b)
		})
	}
	feed(90, "CRITICAL")
	feed(10, "OK")
	b, _ := os.ReadFile(alertLog)
	if strings.Contains(string(b), "Probe - other") {
		t.Fatalf("another host's points raised this host's task:\n%s", b)
	}
}
