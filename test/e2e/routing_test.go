package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/test/testbed"
)

// Hosts of the alert routing test: one customer each.
const (
	hostAcme = "c31-debian12" // customer acme
	hostBeta = "c32-debian11" // customer beta
)

// received is one request a bed receiver recorded (test/testbed/receivers).
type received struct {
	Time    time.Time           `json:"time"`
	Path    string              `json:"path"`
	Status  int                 `json:"status"`
	Headers map[string]string   `json:"headers"`
	Form    map[string][]string `json:"form"`
	JSON    map[string]any      `json:"json"`
}

// receivedSince reads the records of a receiver (webhook, pushover, slack) made at or after since.
func (e *env) receivedSince(kind string, since time.Time) []received {
	e.t.Helper()
	f, err := os.Open(filepath.Join(e.bed.Receivers.Dir, kind+".jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	defer f.Close()
	var out []received
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r received
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			e.t.Fatalf("%s record %q: %v", kind, sc.Text(), err)
		}
		if !r.Time.Before(since) {
			out = append(out, r)
		}
	}
	return out
}

// mailsSince returns the mails the bed's SMTP server kept since the given time, each as its raw text.
func (e *env) mailsSince(since time.Time) []string {
	e.t.Helper()
	dir := filepath.Join(e.bed.Receivers.MailDir, "new")
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		info, err := en.Info()
		if err != nil || info.ModTime().Before(since.Add(-time.Second)) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err == nil {
			out = append(out, string(b))
		}
	}
	return out
}

// pendingAddresses lists the changes of a JSON plan that alter something, as "action address".
func pendingAddresses(t *testing.T, out string) []string {
	t.Helper()
	var doc struct {
		Plan struct {
			Hosts []struct {
				Error   string `json:"error"`
				Changes []struct {
					Address string `json:"address"`
					Action  string `json:"action"`
				} `json:"changes"`
			} `json:"hosts"`
		} `json:"plan"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, out)
	}
	var got []string
	for _, h := range doc.Plan.Hosts {
		if h.Error != "" {
			t.Fatalf("a host failed to plan: %s", h.Error)
		}
		for _, c := range h.Changes {
			if c.Action != "no-op" && c.Action != "report" {
				got = append(got, c.Action+" "+c.Address)
			}
		}
	}
	return got
}

// TestAlertRouting: two customers (groups) with their own contacts and the company's webhook for both. Points above
// the threshold for acme's host make a real alert that reaches acme's mailbox (through Kapacitor's SMTP service,
// set by fleetctl, to the bed's SMTP server), acme's Pushover key, acme's Slack channel and the company webhook,
// and nothing of beta's;
// the reset arrives too. A changed contact is one handler's diff; a handler edited or deleted in Kapacitor is
// repaired; a removed route deletes its handler; every re-plan is empty.
func TestAlertRouting(t *testing.T) {
	t.Parallel()
	packs, err := filepath.Abs("testdata/packs")
	if err != nil {
		t.Fatal(err)
	}
	rc := testbed.Require(t).Receivers
	if rc.Dir == "" {
		t.Fatal("the test bed describes no alert receivers: bring it up with this checkout's test/testbed/up")
	}
	dir := t.TempDir()
	hookToken, pushToken := "hook-"+fmt.Sprint(time.Now().UnixNano()), "push-"+fmt.Sprint(time.Now().UnixNano())
	pushDefaultKey := "uDEFAULT"
	for name, v := range map[string]string{"hook-token": hookToken, "pushover-token": pushToken, "pushover-user": pushDefaultKey,
		"slack-url": rc.SlackURL + "/acme-workspace"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, nil, fmt.Sprintf(`alert_routes = ["company-hook"]

[kapacitor.services.smtp]
enabled = true
host = %q
port = %d
from = "kapacitor@fleet.example"

[kapacitor.services.pushover]
enabled = true
url = %q
token = { file = %q }
user-key = { file = %q }

[kapacitor.services.slack]
enabled = true
url = { file = %q }

[alerts]
packs_dir = %q

[alerts.contacts.company-hook]
kind = "post"
url = %q
headers = { X-Fleet = "e2e", Authorization = { file = %q } }

[alerts.contacts.acme-mail]
kind = "smtp"
to = ["oncall@acme.example"]

[alerts.contacts.acme-push]
kind = "pushover"
user-key = "uACME"

[alerts.contacts.acme-slack]
kind = "slack"
channel = "#acme-alerts"

[alerts.contacts.beta-mail]
kind = "smtp"
to = ["ops@beta.example"]

[alerts.contacts.beta-push]
kind = "pushover"
user-key = "uBETA"

[groups.acme]
alert_routes_add = ["acme-mail", "acme-push", "acme-slack"]

[groups.beta]
alert_routes_add = ["beta-mail", "beta-push"]
`, rc.SMTPHost, rc.SMTPPort, rc.PushoverURL, filepath.Join(dir, "pushover-token"), filepath.Join(dir, "pushover-user"), filepath.Join(dir, "slack-url"), packs, rc.WebhookURL+"/company",
		filepath.Join(dir, "hook-token")), "")
	e.hosts = []string{hostAcme, hostBeta}
	for _, hc := range []struct{ name, group string }{{hostAcme, "acme"}, {hostBeta, "beta"}} {
		h := e.bed.Host(t, hc.name)
		e.addHost(fmt.Sprintf("name = %q\naddress = %q\nport = %d\ngroups = [%q]\nalert_packs = [\"probe\"]\nvars = { probe_crit = 50 }\n",
			h.Name, h.Address, h.Port, hc.group))
	}
	t.Cleanup(func() {
		for _, out := range e.outputs {
			for _, s := range []string{hookToken, pushToken} {
				if strings.Contains(out, s) {
					t.Errorf("a contact's or service's secret appeared in fleetctl's output:\n%s", strings.ReplaceAll(out, s, "<THE SECRET>"))
				}
			}
		}
	})

	plan := pendingAddresses(t, e.must("plan", "--format", "json"))
	for _, want := range []string{
		"create " + hostAcme + "/kapacitor.handler:fleetctl-" + hostAcme + "/company-hook",
		"create " + hostAcme + "/kapacitor.handler:fleetctl-" + hostAcme + "/acme-mail",
		"create " + hostAcme + "/kapacitor.handler:fleetctl-" + hostAcme + "/acme-push",
		"create " + hostBeta + "/kapacitor.handler:fleetctl-" + hostBeta + "/beta-push",
	} {
		if !strings.Contains(strings.Join(plan, "\n"), want) {
			t.Errorf("first plan lacks %q:\n%s", want, strings.Join(plan, "\n"))
		}
	}
	e.must("apply", "--auto-approve")
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("re-plan after apply is not empty:\n%s", out)
	}
	// The service settings are Kapacitor's now (whatever an earlier test had set), the secrets only as set.
	smtp := e.kapacitor("GET", "/config/smtp/", nil, 200)["options"].(map[string]any)
	push := e.kapacitor("GET", "/config/pushover/", nil, 200)["options"].(map[string]any)
	if smtp["enabled"] != true || smtp["host"] != rc.SMTPHost || smtp["port"] != float64(rc.SMTPPort) || push["url"] != rc.PushoverURL || push["token"] != true {
		t.Fatalf("service settings: smtp %v, pushover %v", smtp, push)
	}

	start := time.Now()
	dbA, dbB := strings.ReplaceAll(hostAcme, "-", "_"), strings.ReplaceAll(hostBeta, "-", "_")
	ts := time.Now().Add(-time.Minute)
	delivered := func(level string) (bool, string) {
		var state []string
		mailOK := false
		for _, m := range e.mailsSince(start) {
			if strings.Contains(m, "X-RcptTo: oncall@acme.example") && strings.Contains(m, level+" - probe") && strings.Contains(m, hostAcme) {
				mailOK = true
			}
		}
		state = append(state, fmt.Sprintf("mail=%v", mailOK))
		pushOK := false
		for _, r := range e.receivedSince("pushover", start) {
			if r.Status == 200 && first(r.Form["user"]) == "uACME" && first(r.Form["token"]) == pushToken &&
				strings.Contains(first(r.Form["message"]), level+" - probe") {
				pushOK = true
			}
		}
		state = append(state, fmt.Sprintf("pushover=%v", pushOK))
		hookOK := false
		for _, r := range e.receivedSince("webhook", start) {
			if r.Path == "/webhook/company" && r.Headers["Authorization"] == hookToken && r.Headers["X-Fleet"] == "e2e" &&
				r.JSON["level"] == level && strings.Contains(fmt.Sprint(r.JSON["id"]), hostAcme) {
				hookOK = true
			}
		}
		state = append(state, fmt.Sprintf("webhook=%v", hookOK))
		slackOK := false
		for _, r := range e.receivedSince("slack", start) {
			if b, _ := json.Marshal(r.JSON); r.Status == 200 && r.Path == "/slack/acme-workspace" && r.JSON["channel"] == "#acme-alerts" &&
				strings.Contains(string(b), level+" - probe") {
				slackOK = true
			}
		}
		state = append(state, fmt.Sprintf("slack=%v", slackOK))
		return mailOK && pushOK && hookOK && slackOK, strings.Join(state, " ")
	}
	feed := func(value int, level string) {
		eventually(t, 90*time.Second, "alert "+level+" delivered to acme's contacts and the company webhook", func() (bool, string) {
			var a, bl strings.Builder
			for i := 0; i < 4; i++ {
				ts = ts.Add(time.Second)
				fmt.Fprintf(&a, "e2e_probe,host=%s value=%d %d\n", hostAcme, value, ts.UnixNano())
				fmt.Fprintf(&bl, "e2e_probe,host=%s value=10 %d\n", hostBeta, ts.UnixNano())
			}
			e.influxWrite(dbA, a.String())
			e.influxWrite(dbB, bl.String())
			return delivered(level)
		})
	}
	feed(90, "CRITICAL")
	feed(10, "OK")
	// Nothing of acme's alert reached beta's contacts, and beta's host never alerted.
	for _, m := range e.mailsSince(start) {
		if strings.Contains(m, "ops@beta.example") || strings.Contains(m, hostBeta) {
			t.Errorf("a mail reached customer beta:\n%s", m)
		}
	}
	for _, r := range e.receivedSince("pushover", start) {
		if first(r.Form["user"]) == "uBETA" {
			t.Errorf("a push reached customer beta: %+v", r.Form)
		}
	}

	// A changed contact is one handler's change, on the one host that routes to it; no task changes.
	e.edit(`to = ["oncall@acme.example"]`, `to = ["oncall2@acme.example"]`)
	if got := pendingAddresses(t, e.must("plan", "--format", "json")); strings.Join(got, ",") !=
		"update "+hostAcme+"/kapacitor.handler:fleetctl-"+hostAcme+"/acme-mail" {
		t.Fatalf("a changed contact plans %v, want one handler update", got)
	}
	e.must("apply", "--auto-approve")

	// Drift: one handler edited in Kapacitor, another deleted: both repaired, then nothing.
	topicA := "/alerts/topics/fleetctl-" + hostAcme + "/handlers/"
	e.kapacitor("PUT", topicA+"acme-push", map[string]any{"id": "acme-push", "kind": "pushover", "options": map[string]any{"user-key": "uMALLORY"}}, 200)
	e.kapacitor("DELETE", topicA+"company-hook", nil, 204)
	got := pendingAddresses(t, e.must("plan", "--format", "json"))
	if strings.Join(got, ",") != "create "+hostAcme+"/kapacitor.handler:fleetctl-"+hostAcme+"/company-hook,update "+hostAcme+"/kapacitor.handler:fleetctl-"+hostAcme+"/acme-push" {
		t.Fatalf("drift plans %v", got)
	}
	e.must("apply", "--auto-approve")
	if h := e.kapacitor("GET", topicA+"acme-push", nil, 200); fmt.Sprint(h["options"]) != "map[user-key:uACME]" {
		t.Errorf("the edited handler was not repaired: %v", h)
	}
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("re-plan after repair is not empty:\n%s", out)
	}

	// A route removed from the customer deletes its handler on the customer's host; the topic stays.
	e.edit(`alert_routes_add = ["acme-mail", "acme-push", "acme-slack"]`, `alert_routes_add = ["acme-mail", "acme-slack"]`)
	if got := pendingAddresses(t, e.must("plan", "--format", "json")); strings.Join(got, ",") !=
		"delete "+hostAcme+"/kapacitor.handler:fleetctl-"+hostAcme+"/acme-push" {
		t.Fatalf("a removed route plans %v, want its handler's deletion", got)
	}
	e.must("apply", "--auto-approve")
	e.kapacitor("GET", topicA+"acme-push", nil, 404)
	e.kapacitor("GET", "/alerts/topics/fleetctl-"+hostAcme, nil, 200)
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes") {
		t.Fatalf("re-plan after the route's removal is not empty:\n%s", out)
	}
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
