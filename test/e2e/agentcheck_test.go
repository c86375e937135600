package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/catalog"
)

// Hosts of this file, used by no other test.
const (
	hostCheck  = "c21-debian12" // gets a configuration its real agent refuses
	hostBatchA = "c24-rocky9"   // the rollout with batches and a failure budget: onboarded first
	hostBatchB = "c25-suse15"   // … and last, once the budget allows it
)

// derivedPassword is the password derivation as README documents it, written out here apart from the code under
// test: HMAC-SHA256 keyed by the master secret over "host\x00role", base64url, the first 32 characters; the
// roles are "telegraf" (the write user) and "grafana" (the read user).
func derivedPassword(master, host, role string) string {
	m := hmac.New(sha256.New, []byte(master))
	m.Write([]byte(host + "\x00" + role))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))[:32]
}

// TestAgentRefusesBrokenConfig: the configuration check is the real agent's own (`telegraf config check` of the
// telegraf the bed's package installs). Asked for an input that agent was built without, apply fails at the check,
// puts the previous files back and leaves the running agent alone; nothing of the refused change takes effect.
// On the way, the passwords fleetctl gave the host's users are the documented derivation.
func TestAgentRefusesBrokenConfig(t *testing.T) {
	t.Parallel()
	host := hostCheck
	e := newEnv(t, []string{host}, "", "")
	e.must("apply", "--auto-approve")

	db := strings.ReplaceAll(host, "-", "_")
	master, err := os.ReadFile(filepath.Join(e.bed.Dir, "secrets", "fleet-master"))
	if err != nil {
		t.Fatal(err)
	}
	wpass := derivedPassword(strings.TrimSpace(string(master)), host, "telegraf")
	rpass := derivedPassword(strings.TrimSpace(string(master)), host, "grafana")
	if code := e.influxWriteAs(db, catalog.WriteUser(db), wpass, "fleetctl_e2e_probe value=1"); code != 204 {
		t.Errorf("the write user does not have the derived password: write answered %d", code)
	}
	if code, body := e.influxQuery(db, catalog.ReadUser(db), rpass, "SHOW MEASUREMENTS"); code != 200 || strings.Contains(fmt.Sprint(body), "error") {
		t.Errorf("the read user does not have the derived password: %d %v", code, body)
	}
	if got := e.ssh(host, "sudo cat /etc/telegraf/telegraf.d/fleetctl-outputs.conf"); !strings.Contains(got, `password = "`+wpass+`"`) {
		t.Error("the agent's outputs file does not hold the write user's derived password")
	}

	const inputs = "/etc/telegraf/telegraf.d/fleetctl-inputs.conf"
	before := e.ssh(host, "sudo cat "+inputs)
	pid := e.agentPID(host)
	if v := e.ssh(host, "telegraf --version"); !strings.Contains(v, e.bed.Repo.TelegrafVersion) {
		t.Fatalf("the host's agent is not the bed's telegraf %s: %s", e.bed.Repo.TelegrafVersion, v)
	}

	// x509_cert is a real Telegraf input, from the user's own folder, and one the bed's telegraf is built without
	// (it has every input fleetctl ships): only the agent itself can tell.
	if err := os.MkdirAll(filepath.Join(e.dir, "inputs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dir, "inputs", "x509_cert.conf"), []byte("[[inputs.x509_cert]]\n  sources = [\"/etc/ssl/certs/ca-certificates.crt\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.edit("[telegraf]\n", "[telegraf]\ninputs_dir = \"inputs\"\n")
	e.edit(`port = 22`, "port = 22\ninputs_add = [\"x509_cert\"]")
	out, stderr, code := e.run("apply", "--auto-approve")
	if code != 1 || !strings.Contains(out, "configuration check failed") || !strings.Contains(out+stderr, "x509_cert") {
		t.Fatalf("want the agent's check to refuse the x509_cert input: exit %d\n%s\n%s", code, out, stderr)
	}
	if got := e.ssh(host, "sudo cat "+inputs); got != before {
		t.Errorf("the refused inputs file was not restored:\n%s", got)
	}
	if now := e.agentPID(host); now != pid {
		t.Errorf("the agent was restarted onto a refused configuration: pid %s, before %s", now, pid)
	}
	if got := strings.TrimSpace(e.ssh(host, "systemctl is-active telegraf")); got != "active" {
		t.Errorf("agent %s after the refused change", got)
	}
	if got := e.ssh(host, "sudo ls -a /etc/telegraf/telegraf.d/"); strings.Contains(got, ".fleetctl-") {
		t.Errorf("temporary files left beside the agent's configuration:\n%s", got)
	}
	// Nothing of it took effect: the change is still pending, and only it.
	if s := hostSection(e.must("plan"), host); !strings.Contains(s, addressed("~ update file:"+inputs, host)) || !strings.Contains(s, "+[[inputs.x509_cert]]") {
		t.Errorf("the refused change is not pending any more:\n%s", s)
	}

	e.edit("port = 22\ninputs_add = [\"x509_cert\"]", `port = 22`)
	if out := e.must("plan"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("with the input removed again the host should be as before:\n%s", out)
	}
}

// TestBatchWithFailureBudget: batches and a failure budget together. Failures within the budget let later batches
// run; the failure that exceeds it stops the rollout before the next batch; a failing canary stops it whatever the
// budget; percentages resolve against the selected hosts. Hosts are named so that name, natural and file order
// agree; batch-2 and batch-3 cannot be reached.
func TestBatchWithFailureBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, "", "")
	e.edit(`use_agent = false`, "use_agent = false\nconnect_timeout = \"2s\"")
	a, b := e.bed.Host(t, hostBatchA), e.bed.Host(t, hostBatchB)
	e.addHost(fmt.Sprintf("name = \"batch-1\"\naddress = %q\nport = %d", a.Address, a.Port))
	e.addHost(`name = "batch-2"` + "\naddress = \"" + unreachable + "\"")
	e.addHost(`name = "batch-3"` + "\naddress = \"10.210.0.251\"") // also in the bed's subnet, with no host
	e.addHost(fmt.Sprintf("name = \"batch-4\"\naddress = %q\nport = %d", b.Address, b.Port))
	row := func(out, host, result string) bool { return regexpMatch(`(?m)^`+host+` +`+result+` `, out) }

	// Batches of one, one failure tolerated: batch-2's failure is within it, batch-3's exceeds it, batch-4 never
	// starts.
	out, _, code := e.run("apply", "--auto-approve", "--batch", "1", "--max-fail", "1")
	if code != 1 || !row(out, "batch-1", "changed") || !row(out, "batch-2", "failed") || !row(out, "batch-3", "failed") ||
		!row(out, "batch-4", "not started") || !strings.Contains(out, "Stopped early: 2 hosts failed, more than --max-fail allows (1).") {
		t.Fatalf("--batch 1 --max-fail 1: exit %d\n%s", code, out)
	}
	if e.databaseExists("batch_4") {
		t.Fatal("batch-4 was changed after the budget was exceeded")
	}

	// A failing canary stops the rollout even with budget to spare.
	out, _, code = e.run("apply", "--auto-approve", "--batch", "2", "--max-fail", "10")
	if code != 1 || !row(out, "batch-2", "failed") || !row(out, "batch-3", "not started") || !row(out, "batch-4", "not started") ||
		!strings.Contains(out, "Stopped early: the canary batch (the first 2 hosts) had 1 failed.") {
		t.Fatalf("--batch 2 --max-fail 10: exit %d\n%s", code, out)
	}

	// 25% of 4 hosts is a batch of one, 50% a budget of two: both failures are within it, so batch-4 runs.
	out, _, code = e.run("apply", "--auto-approve", "--batch", "25%", "--max-fail", "50%")
	if code != 1 || !row(out, "batch-2", "failed") || !row(out, "batch-3", "failed") || !row(out, "batch-4", "changed") ||
		strings.Contains(out, "Stopped early") {
		t.Fatalf("--batch 25%% --max-fail 50%%: exit %d\n%s", code, out)
	}
	if out := e.must("plan", "--limit", "batch-1,batch-4"); !strings.Contains(out, "No changes on 2 hosts.") {
		t.Fatalf("the reachable hosts did not converge:\n%s", out)
	}
}
