package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/secret"
)

// Hosts of this file, used by no other test.
const (
	hostCreds    = "sd16-debian12" // systemd 252: the agent's password as an encrypted systemd credential
	hostCredsOld = "sd17-debian11" // systemd 247: the password stays in the 0640 file, and the plan says so
)

const (
	credentialFile = "/etc/telegraf/fleetctl-credentials/telegraf.influxdb_password"
	credentialUnit = "/etc/systemd/system/telegraf.service.d/fleetctl-credentials.conf"
	outputsFile    = "/etc/telegraf/telegraf.d/fleetctl-outputs.conf"
)

// grepTree lists the files under the host's root directories dirs (as the bed machine sees them) that hold
// needle, without printing it.
func grepTree(t *testing.T, root string, needle string, dirs ...string) []string {
	t.Helper()
	var found []string
	for _, d := range dirs {
		_ = filepath.WalkDir(filepath.Join(root, d), func(p string, de fs.DirEntry, err error) error {
			if err != nil || !de.Type().IsRegular() {
				return nil
			}
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(needle)) {
				found = append(found, strings.TrimPrefix(p, root))
			}
			return nil
		})
	}
	return found
}

// pointsSince waits for a point of the host's agent newer than since in its database: the agent authenticates
// with the write user's password and writes.
func (e *env) pointsSince(host string, since time.Time) {
	e.t.Helper()
	db := strings.ReplaceAll(host, "-", "_")
	eventually(e.t, 90*time.Second, "a point of the agent of "+host+" after "+since.Format(time.RFC3339), func() (bool, string) {
		_, body := e.influxQuery(db, e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword,
			fmt.Sprintf(`SELECT count("uptime") FROM "system" WHERE "host" = '%s' AND time > %d`, host, since.UnixNano()))
		s := fmt.Sprint(body)
		return strings.Contains(s, "series"), s
	})
}

// TestAgentPasswordAsEncryptedCredential: on a systemd >= 250 host with a Telegraf that has the systemd secret
// store, the agent's InfluxDB password is an encrypted systemd credential, loaded by a drop-in of the unit and read
// through Telegraf's secret store. The plan says so; after apply the password is nowhere in plain text under /etc
// (nor in the staging places), the agent writes with it, and a re-plan is empty. Rotating the master secret
// rolls out as any change: the credential is encrypted again, the agent restarted, its points keep coming with
// the new password, and the re-plan is empty.
func TestAgentPasswordAsEncryptedCredential(t *testing.T) {
	t.Parallel()
	host := hostCreds
	e := newEnv(t, []string{host}, "", "")
	h := e.bed.Host(t, host)

	plan := e.must("plan")
	for _, want := range []string{
		"+ create " + host + "/credential:telegraf.influxdb_password (encrypted on the host: systemd 252",
		"+ create " + host + "/file:" + credentialUnit,
		"LoadCredentialEncrypted=telegraf.influxdb_password:" + credentialFile,
		"[[secretstores.systemd]]",
	} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if strings.Contains(plan, "in plain text") {
		t.Errorf("plan says the password goes in plain text on a systemd 252 host:\n%s", plan)
	}
	e.must("apply", "--auto-approve")
	applied := time.Now()

	pass := e.password(host, catalog.RoleWrite)
	checkAtRest := func(pass string) {
		t.Helper()
		if found := grepTree(t, h.Root, pass, "etc", "tmp", "var/tmp", "root", "home"); len(found) > 0 {
			t.Errorf("the agent's password is in plain text on %s in %v", host, found)
		}
		got := strings.TrimSpace(e.ssh(host, "sudo stat -c '%a %U:%G' "+credentialFile+"; sudo grep -c '@{fleetctl:influxdb_password}' "+outputsFile))
		if got != "600 root:root\n1" {
			t.Errorf("credential or reference on %s: %q, want 600 root:root and the reference", host, got)
		}
		// The credential holds the password: decrypted on the host as root and compared there, never printed.
		got = e.ssh(host, "sudo systemd-creds decrypt --name=telegraf.influxdb_password "+credentialFile+" - 2>/dev/null | sha256sum | cut -c1-64")
		if sum := sha256.Sum256([]byte(pass)); strings.TrimSpace(got) != hex.EncodeToString(sum[:]) {
			t.Errorf("the credential on %s does not decrypt to the write user's password", host)
		}
	}
	checkAtRest(pass)
	e.pointsSince(host, applied)
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("re-plan not empty:\n%s", out)
	}
	js := e.must("plan", "--format", "json")
	if !strings.Contains(js, `"reason": "encrypted on the host: systemd 252, telegraf `+e.bed.Repo.TelegrafVersion) {
		t.Errorf("the JSON plan does not say where the password is kept:\n%s", js)
	}

	// Rotation of the master secret.
	var rnd [18]byte
	_, _ = rand.Read(rnd[:])
	master := hex.EncodeToString(rnd[:])
	if err := os.WriteFile(filepath.Join(e.dir, "rotated-master"), []byte(master+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.edit(`master = { file = "secrets/fleet-master" }`, `master = { file = "rotated-master" }`)
	newPass := secret.Derive(secret.New(master), host, catalog.RoleWrite).Reveal()
	pid := e.agentPID(host)
	plan = e.must("plan")
	for _, want := range []string{"~ update " + host + "/credential:telegraf.influxdb_password", "content: (sensitive value changed)",
		"~ update " + host + "/influxdb.user:", "↻ restart " + host + "/service:telegraf#restart"} {
		if !strings.Contains(plan, want) {
			t.Errorf("rotation plan lacks %q:\n%s", want, plan)
		}
	}
	e.must("apply", "--auto-approve")
	rotated := time.Now()
	if now := e.agentPID(host); now == pid {
		t.Errorf("the agent was not restarted onto the new credential (pid %s)", pid)
	}
	checkAtRest(newPass)
	e.pointsSince(host, rotated)
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("re-plan after the rotation not empty:\n%s", out)
	}
	for _, s := range []string{master, newPass, secret.Derive(secret.New(master), host, catalog.RoleRead).Reveal()} {
		for _, out := range e.outputs {
			if strings.Contains(out, s) {
				t.Errorf("a rotated secret appeared in fleetctl's output")
			}
		}
	}
}

// TestAgentPasswordFallsBackToTheFile: on systemd 247 (no encrypted credentials) the password stays in the
// agent's 0640 outputs file, and the plan says so, with the reason, whenever it writes that file; a re-plan is
// empty, and its JSON still says where the password is kept.
func TestAgentPasswordFallsBackToTheFile(t *testing.T) {
	t.Parallel()
	host := hostCredsOld
	e := newEnv(t, []string{host}, "", "")
	want := "? report " + host + "/credential:telegraf (in plain text in " + outputsFile +
		", readable by root and the agent only: systemd 247 has no encrypted credentials (they need 250))"
	if plan := e.must("plan"); !strings.Contains(plan, want) || strings.Contains(plan, "credential:telegraf.influxdb_password") {
		t.Errorf("plan does not say the password goes in the file, and why:\n%s", plan)
	}
	e.must("apply", "--auto-approve")
	got := strings.TrimSpace(e.ssh(host, "sudo stat -c '%a %U:%G' "+outputsFile+"; sudo grep -c 'password = \""+e.password(host, catalog.RoleWrite)+"\"' "+outputsFile+
		"; sudo ls /etc/telegraf/fleetctl-credentials "+credentialUnit+" 2>&1 | grep -c 'No such file'"))
	if got != "640 root:telegraf\n1\n2" {
		t.Errorf("file fallback on %s: %q, want the password in the 0640 file and no credential nor drop-in", host, got)
	}
	e.pointsSince(host, time.Now().Add(-time.Second))
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("re-plan not empty:\n%s", out)
	}
	if js := e.must("plan", "--format", "json"); !strings.Contains(js, `"reason": "in the configuration file, readable by root and the agent only: systemd 247 has no encrypted credentials (they need 250)"`) {
		t.Errorf("the JSON plan does not say where the password is kept:\n%s", js)
	}
}
