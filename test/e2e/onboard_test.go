package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/provision/catalog"
)

// TestOnboardFreshDebian12 is the main job: one apply on a fresh Debian 12 host with real systemd leaves Telegraf
// installed, enabled and running with the managed config, its points arriving in the host's own database through a
// write-only user, a read-only user Grafana's datasource can query, and enabled, executing Kapacitor tasks. A second
// plan is empty and a second apply changes and restarts nothing. InfluxDB is the bed's HTTPS one, with its own CA,
// as in the reference rollout: the agent reports over HTTPS, trusting the CA through tls_ca.
func TestOnboardFreshDebian12(t *testing.T) {
	t.Parallel()
	e := newEnvTLS(t, []string{hostFresh}, "", "")
	db := strings.NewReplacer("-", "_", ".", "_").Replace(hostFresh)

	plan := e.must("plan")
	h := hostFresh + "/"
	for _, want := range []string{"+ create " + h + "package:telegraf", "+ create " + h + "influxdb.database:" + db, "+ create " + h + "grafana.datasource:",
		"+ create " + h + "kapacitor.task:" + hostFresh + "-cpu", "↻ restart " + h + "service:telegraf#restart", "password: (sensitive value changed)"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan of a fresh host lacks %q:\n%s", want, plan)
		}
	}

	out := e.must("apply", "--auto-approve")
	if !strings.Contains(out, hostFresh+": ") || strings.Contains(out, "Outcome differs") {
		t.Fatalf("apply did not do what it planned:\n%s", out)
	}

	// On the host: package, service, managed files with their owners and modes.
	got := e.ssh(hostFresh, `dpkg-query -W -f='${db:Status-Status}\n' telegraf; systemctl is-enabled telegraf; systemctl is-active telegraf;
		sudo stat -c '%n %a %U:%G' /etc/telegraf/telegraf.conf /etc/telegraf/telegraf.d/fleetctl-outputs.conf /etc/telegraf/telegraf.d/fleetctl-inputs.conf;
		sudo grep -c skip_database_creation /etc/telegraf/telegraf.d/fleetctl-outputs.conf; grep hostname /etc/telegraf/telegraf.conf;
		sudo grep tls_ca /etc/telegraf/telegraf.d/fleetctl-outputs.conf; sudo stat -c '%n %a %U:%G' `+caPath+`;
		cat /etc/apt/sources.list.d/influxdata.list`)
	for _, want := range []string{"installed\nenabled\nactive\n", "/etc/telegraf/telegraf.conf 644 root:root",
		"fleetctl-outputs.conf 640 root:telegraf", "fleetctl-inputs.conf 644 root:root", `hostname = "` + hostFresh + `"`,
		"signed-by=/etc/apt/keyrings/influxdata-archive.gpg", `tls_ca = "` + caPath + `"`, caPath + " 644 root:root"} {
		if !strings.Contains(got, want) {
			t.Errorf("host state lacks %q:\n%s", want, got)
		}
	}

	// Points from the real Telegraf arrive in the host's database.
	admin, adminPW := e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword
	eventually(t, 90*time.Second, "telegraf's points in "+db, func() (bool, string) {
		_, body := e.influxQuery(db, admin, adminPW, fmt.Sprintf(`SELECT count("uptime") FROM "system" WHERE "host" = '%s'`, hostFresh))
		s := fmt.Sprint(body)
		return strings.Contains(s, "series"), s
	})

	// The write user writes but cannot read; the read user reads.
	wu, ru := catalog.WriteUser(db), catalog.ReadUser(db)
	if code, body := e.influxQuery(db, wu, e.password(hostFresh, catalog.RoleWrite), `SELECT * FROM "system" LIMIT 1`); code == 200 && !strings.Contains(fmt.Sprint(body), "error") {
		t.Errorf("write-only user could read: %d %v", code, body)
	}
	if code, body := e.influxQuery(db, ru, e.password(hostFresh, catalog.RoleRead), `SELECT count("uptime") FROM "system"`); code != 200 || !strings.Contains(fmt.Sprint(body), "series") {
		t.Errorf("read user could not read: %d %v", code, body)
	}
	if code, body := e.influxQuery(db, admin, adminPW, `SHOW GRANTS FOR "`+wu+`"`); code != 200 || !strings.Contains(fmt.Sprint(body), "WRITE") {
		t.Errorf("write user's grant: %d %v", code, body)
	}

	// Grafana's datasource passes its health check with the read user.
	uid := catalog.DatasourceUID(hostFresh)
	eventually(t, 30*time.Second, "grafana datasource health", func() (bool, string) {
		code, body := e.get(e.bed.Grafana.URL, "/api/datasources/uid/"+uid+"/health", e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword)
		return code == 200 && body["status"] == "OK", fmt.Sprint(code, body)
	})

	// Kapacitor has the host's tasks, enabled and executing.
	code, body := e.get(e.bed.Kapacitor.URL, "/kapacitor/v1/tasks?pattern="+hostFresh+"-*&fields=status&fields=executing&fields=dbrps", "", "")
	tasks, _ := body["tasks"].([]any)
	if code != 200 || len(tasks) != 6 {
		t.Fatalf("kapacitor tasks of %s: %d %v", hostFresh, code, body)
	}
	for _, x := range tasks {
		task := x.(map[string]any)
		if task["status"] != "enabled" || task["executing"] != true || !strings.Contains(fmt.Sprint(task["dbrps"]), db) {
			t.Errorf("task not enabled and executing on %s: %v", db, task)
		}
	}

	// Re-runs: nothing to plan, nothing applied, nothing restarted.
	pid := e.ssh(hostFresh, "systemctl show -p MainPID --value telegraf")
	if out := e.must("plan", "--detailed-exitcode"); !strings.Contains(out, "No changes on 1 host.") {
		t.Fatalf("second plan not empty:\n%s", out)
	}
	if out := e.must("apply", "--auto-approve"); !strings.Contains(out, "No changes on 1 host.") || strings.Contains(out, "Applied") {
		t.Fatalf("second apply did something:\n%s", out)
	}
	if again := e.ssh(hostFresh, "systemctl show -p MainPID --value telegraf"); again != pid {
		t.Fatalf("telegraf restarted by a no-op apply: pid %s then %s", pid, again)
	}
}
