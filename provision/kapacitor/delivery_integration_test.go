package kapacitor_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// kapacitorWrite writes line protocol straight into Kapacitor (its /write endpoint), as a subscription would.
func (e *bedEnv) kapacitorWrite(t *testing.T, db, lines string) {
	t.Helper()
	resp, err := http.Post(e.bed.Kapacitor.URL+"/kapacitor/v1/write?db="+db+"&rp=autogen", "text/plain", strings.NewReader(lines))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("kapacitor write: %s", resp.Status)
	}
}

// jsonLines reads a receiver's records (test/testbed/receivers) made since the given time.
func jsonLines(t *testing.T, path string, since time.Time) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(m["time"])); !ts.Before(since) {
			out = append(out, m)
		}
	}
	return out
}

// TestIntegrationRoutingDelivers: the cpu pack's real script (seconds for minutes) for two customers' hosts, each
// publishing to its own topic, with fleetctl's handlers and Kapacitor's SMTP and Pushover settings set by the
// resources: host A's alert reaches A's mailbox on the bed's SMTP server, A's Pushover key through the Pushover
// fake, and the company webhook; none of it reaches B's contacts; the reset arrives too.
func TestIntegrationRoutingDelivers(t *testing.T) {
	e := requireBed(t)
	rc := e.bed.Receivers
	if rc.Dir == "" {
		t.Fatal("the test bed describes no alert receivers: bring it up with this checkout's test/testbed/up")
	}
	ctx := context.Background()
	hostA, hostB := uniqueHost(t, "kra"), uniqueHost(t, "krb")
	for _, h := range []string{hostA, hostB} {
		e.cleanupTasks(t, h)
		e.cleanupTopic(t, kapacitor.HostTopic(h))
	}
	master := secret.New("kr-master")
	var rs []engine.Resource
	smtp, err := kapacitor.NewConfig(e.c, kapacitor.ConfigSpec{Section: "smtp", Options: map[string]any{"enabled": true, "host": rc.SMTPHost,
		"port": int64(rc.SMTPPort), "from": "kapacitor-it@fleet.example"}, Master: master}, nil)
	if err != nil {
		t.Fatal(err)
	}
	push, err := kapacitor.NewConfig(e.c, kapacitor.ConfigSpec{Section: "pushover", Options: map[string]any{"enabled": true, "url": rc.PushoverURL},
		Secrets: map[string]secret.Value{"token": secret.New("kr-token"), "user-key": secret.New("uDEFAULT")}, Master: master}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rs = append(rs, smtp, push)
	hook := kapacitor.HandlerSpec{ID: "company-hook", Kind: "post", Options: map[string]any{"url": rc.WebhookURL + "/kr-company"}}
	rs = append(rs, handlerSet(t, e.c, kapacitor.HostTopic(hostA), hook,
		kapacitor.HandlerSpec{ID: "a-mail", Kind: "smtp", Options: map[string]any{"to": []string{"oncall@" + hostA + ".example"}}},
		kapacitor.HandlerSpec{ID: "a-push", Kind: "pushover", Options: map[string]any{"user-key": "u" + hostA}})...)
	rs = append(rs, handlerSet(t, e.c, kapacitor.HostTopic(hostB), hook,
		kapacitor.HandlerSpec{ID: "b-mail", Kind: "smtp", Options: map[string]any{"to": []string{"ops@" + hostB + ".example"}}},
		kapacitor.HandlerSpec{ID: "b-push", Kind: "pushover", Options: map[string]any{"user-key": "u" + hostB}})...)
	set := fastPack(t, "cpu")
	vars := map[string]any{"cpu_crit_minutes": 1, "cpu_reset_minutes": 1, "cpu_warn_minutes": 30}
	for _, h := range []string{hostA, hostB} {
		scripts, err := set.Render([]string{"cpu"}, alertpacks.Target{Host: h, Database: "kr_" + strings.ReplaceAll(h, "-", "_")}, vars,
			alertpacks.Handlers{Topic: kapacitor.HostTopic(h)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range tasksOf(t, e.c, scripts, "kr_"+strings.ReplaceAll(h, "-", "_")) {
			rs = append(rs, tk)
		}
	}
	resourcetest.Converge(t, ctx, rs...)

	start := time.Now().Add(-time.Second)
	dbA, dbB := "kr_"+strings.ReplaceAll(hostA, "-", "_"), "kr_"+strings.ReplaceAll(hostB, "-", "_")
	mails := func() []string {
		var out []string
		entries, _ := os.ReadDir(filepath.Join(rc.MailDir, "new"))
		for _, en := range entries {
			if info, err := en.Info(); err == nil && !info.ModTime().Before(start) {
				if b, err := os.ReadFile(filepath.Join(rc.MailDir, "new", en.Name())); err == nil {
					out = append(out, string(b))
				}
			}
		}
		return out
	}
	arrived := func(level string) (bool, string) {
		var mail, pushed, posted bool
		for _, m := range mails() {
			mail = mail || strings.Contains(m, "X-RcptTo: oncall@"+hostA+".example") && strings.Contains(m, "Subject: "+level+" - CPU Usage") && strings.Contains(m, hostA)
		}
		for _, r := range jsonLines(t, filepath.Join(rc.Dir, "pushover.jsonl"), start) {
			form, _ := r["form"].(map[string]any)
			pushed = pushed || fmt.Sprint(form["user"]) == "[u"+hostA+"]" && fmt.Sprint(form["token"]) == "[kr-token]" && strings.Contains(fmt.Sprint(form["message"]), level+" - CPU Usage")
		}
		for _, r := range jsonLines(t, filepath.Join(rc.Dir, "webhook.jsonl"), start) {
			body, _ := r["json"].(map[string]any)
			posted = posted || r["path"] == "/webhook/kr-company" && body["level"] == level && strings.Contains(fmt.Sprint(body["id"]), hostA)
		}
		return mail && pushed && posted, fmt.Sprintf("mail=%v pushover=%v webhook=%v", mail, pushed, posted)
	}
	feed := func(idle int, level string) {
		eventually(t, 60*time.Second, 250*time.Millisecond, level+" delivered to A's contacts", func() (bool, string) {
			e.kapacitorWrite(t, dbA, fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=%d\n", hostA, idle))
			e.kapacitorWrite(t, dbB, fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=95\n", hostB))
			return arrived(level)
		})
	}
	feed(3, "CRITICAL")
	feed(95, "OK")
	for _, m := range mails() {
		if strings.Contains(m, hostB) {
			t.Errorf("a mail reached customer B:\n%s", m)
		}
	}
	for _, r := range jsonLines(t, filepath.Join(rc.Dir, "pushover.jsonl"), start) {
		if strings.Contains(fmt.Sprint(r["form"]), hostB) {
			t.Errorf("a push reached customer B: %v", r["form"])
		}
	}
	for _, r := range jsonLines(t, filepath.Join(rc.Dir, "webhook.jsonl"), start) {
		if strings.Contains(fmt.Sprint(r["json"]), hostB) {
			t.Errorf("the webhook got customer B's alert: %v", r["json"])
		}
	}
}
