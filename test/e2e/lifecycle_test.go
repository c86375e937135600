package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/catalog"
	"github.com/fleetctl/fleetctl/provision/grafana"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"github.com/fleetctl/fleetctl/provision/views/viewstest"
)

// Hosts of the lifecycle tests: onboarding, dashboards, destroy, orphans.
const (
	hostLeaves    = "c36-debian12" // onboarded, its dashboard edited and repaired, destroyed keeping its data
	hostPurged    = "c37-debian11" // destroyed with its data and agent, then removed from the inventory
	hostVanishes  = "c38-debian13" // onboarded, then unreachable when it is destroyed
	hostOrphanage = "c34-rocky9"   // planned beside orphans planted on the servers
)

// what the servers hold for a host, through their own APIs.
type serverSide struct {
	tasks      int
	datasource bool
	dashboard  bool
	users      int
	database   bool
}

func (e *env) serverSide(host string) serverSide {
	e.t.Helper()
	db := strings.NewReplacer("-", "_", ".", "_").Replace(host)
	var s serverSide
	tasks, _ := e.kapacitor("GET", "/tasks?pattern="+host+"-*&fields=status", nil, 200)["tasks"].([]any)
	s.tasks = len(tasks)
	code, _ := e.get(e.bed.Grafana.URL, "/api/datasources/uid/"+catalog.DatasourceUID(host), e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword)
	s.datasource = code == 200
	code, _ = e.get(e.bed.Grafana.URL, "/api/dashboards/uid/"+catalog.DashboardUID(host), e.bed.Grafana.AdminUser, e.bed.Grafana.AdminPassword)
	s.dashboard = code == 200
	_, users := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, "SHOW USERS")
	for _, u := range []string{catalog.WriteUser(db), catalog.ReadUser(db)} {
		if strings.Contains(fmt.Sprint(users), "["+u+" ") {
			s.users++
		}
	}
	_, dbs := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, "SHOW DATABASES")
	s.database = strings.Contains(fmt.Sprint(dbs), "["+db+"]")
	return s
}

// TestLifecycle is a host's whole life: onboarded with its dashboard (in its group's folder) and the fleet
// overview, a re-plan empty, a dashboard edited in Grafana planned and repaired; destroyed keeping its data (the
// agent stopped and disabled, fleetctl's files gone, every server object but the database deleted), after which a
// plan would create it again; another destroyed with its data and agent, then removed from the inventory, after
// which the plan does not mention it.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	// A group of this test's own: its folder is created by this test's apply (TestRolloutNewInput has a "web").
	e := newEnv(t, []string{hostLeaves, hostPurged}, "[groups.lifecycle]\n", "")
	e.edit(`name = "`+hostLeaves+`"`, `name = "`+hostLeaves+`"`+"\ngroups = [\"lifecycle\"]")
	out := e.must("apply", "--auto-approve")
	for _, want := range []string{"+ create " + hostLeaves + "/grafana.dashboard:" + catalog.DashboardUID(hostLeaves),
		"+ create " + hostLeaves + "/grafana.folder:" + catalog.GroupFolderUID("lifecycle")} {
		if !strings.Contains(out, want) {
			t.Errorf("onboarding lacks %q:\n%s", want, out)
		}
	}
	if out := e.must("plan"); !strings.Contains(out, "No changes on 2 hosts.") {
		t.Fatalf("not converged after onboarding (a dashboard that always differs?):\n%s", out)
	}

	// The dashboards: per host on its datasource, in its group's folder (or the fleet's), and the overview.
	dash := e.grafana("GET", "/api/dashboards/uid/"+catalog.DashboardUID(hostLeaves), nil, 200)
	if meta := dash["meta"].(map[string]any); meta["folderUid"] != catalog.GroupFolderUID("lifecycle") {
		t.Errorf("%s's dashboard in folder %v", hostLeaves, meta["folderUid"])
	}
	model := dash["dashboard"].(map[string]any)
	var titles []string
	for _, p := range model["panels"].([]any) {
		pm := p.(map[string]any)
		titles = append(titles, fmt.Sprint(pm["title"]))
		if ds := pm["datasource"].(map[string]any); ds["uid"] != catalog.DatasourceUID(hostLeaves) {
			t.Errorf("panel %v on datasource %v", pm["title"], ds)
		}
	}
	if got := strings.Join(titles, ", "); got != "CPU, Memory, Disk space, Disk I/O, Network, Load, Processes" {
		t.Errorf("panels: %s", got)
	}
	if meta := e.grafana("GET", "/api/dashboards/uid/"+catalog.DashboardUID(hostPurged), nil, 200)["meta"].(map[string]any); meta["folderUid"] != catalog.FleetFolderUID {
		t.Errorf("%s (no group) has its dashboard in %v", hostPurged, meta["folderUid"])
	}
	e.grafana("GET", "/api/dashboards/uid/"+catalog.OverviewUID, nil, 200)

	// Someone edits the dashboard in Grafana: the plan shows that one change, apply puts it back.
	model["panels"].([]any)[0].(map[string]any)["title"] = "edited in Grafana"
	e.grafana("POST", "/api/dashboards/db", map[string]any{"dashboard": model, "folderUid": catalog.GroupFolderUID("lifecycle"), "overwrite": false}, 200)
	out = e.must("plan")
	if !strings.Contains(out, "~ update "+hostLeaves+"/grafana.dashboard:"+catalog.DashboardUID(hostLeaves)) ||
		!strings.Contains(out, `dashboard.panels[0].title: "edited in Grafana" → "CPU"`) ||
		!strings.Contains(out, "Plan: 0 to create, 1 to update, 0 to delete on 1 of 2 hosts.") {
		t.Fatalf("the edit is not planned as one update:\n%s", out)
	}
	e.must("apply", "--auto-approve")
	if out := e.must("plan"); !strings.Contains(out, "No changes on 2 hosts.") {
		t.Fatalf("the dashboard was not repaired:\n%s", out)
	}

	// Destroy keeping the data.
	before := e.serverSide(hostLeaves)
	if before != (serverSide{tasks: 6, datasource: true, dashboard: true, users: 2, database: true}) {
		t.Fatalf("%s before destroy: %+v", hostLeaves, before)
	}
	out = e.must("destroy", "--host", hostLeaves, "--auto-approve")
	if !strings.Contains(out, "? report "+hostLeaves+"/influxdb.database:") || strings.Contains(out, "delete "+hostLeaves+"/influxdb.database") {
		t.Errorf("destroy without --delete-data must keep and report the database:\n%s", out)
	}
	if got := e.serverSide(hostLeaves); got != (serverSide{database: true}) {
		t.Errorf("%s after destroy: %+v, want only its database", hostLeaves, got)
	}
	if got := e.ssh(hostLeaves, "systemctl is-enabled telegraf; systemctl is-active telegraf; ls /etc/telegraf/telegraf.d/ /etc/telegraf/telegraf.conf 2>&1; dpkg-query -W -f='${db:Status-Status}\\n' telegraf; true"); !strings.Contains(got, "disabled\ninactive\n") ||
		strings.Contains(got, "fleetctl-") || !strings.Contains(got, "No such file") || !strings.Contains(got, "installed") {
		t.Errorf("%s after destroy (agent stopped and disabled, fleetctl's files gone, package kept):\n%s", hostLeaves, got)
	}
	if pid := e.agentPID(hostPurged); pid == "" || pid == "0" {
		t.Errorf("destroying %s stopped %s's agent", hostLeaves, hostPurged)
	}
	// Still in the inventory: a plan would onboard it again, database aside.
	out = e.must("plan", "--limit", hostLeaves)
	for _, want := range []string{"+ create " + hostLeaves + "/grafana.datasource:", "+ create " + hostLeaves + "/influxdb.user:", "+ create " + hostLeaves + "/kapacitor.task:",
		"+ create " + hostLeaves + "/grafana.dashboard:", "~ update " + hostLeaves + "/service:telegraf"} {
		if !strings.Contains(out, want) {
			t.Errorf("re-plan of a destroyed host lacks %q:\n%s", want, out)
		}
	}
	if out := e.must("destroy", "--host", hostLeaves, "--auto-approve"); !strings.Contains(out, "No changes on 1 host.") {
		t.Errorf("a second destroy is not empty:\n%s", out)
	}

	// Destroy with the data and the agent: the JSON report, with a flag for CI instead of the typed name.
	js := e.must("destroy", "--host", hostPurged, "--delete-data", "--yes-delete-data="+hostPurged, "--purge-agent", "--auto-approve", "--format", "json")
	viewstest.OneJSONDocument(t, []byte(js))
	if !strings.Contains(js, `"address": "`+hostPurged+`/influxdb.database:`) || !strings.Contains(js, `"result": "changed"`) {
		t.Errorf("destroy --delete-data JSON:\n%s", js)
	}
	if got := e.serverSide(hostPurged); got != (serverSide{}) {
		t.Errorf("%s after destroy --delete-data: %+v, want nothing", hostPurged, got)
	}
	if got := e.ssh(hostPurged, "dpkg-query -W -f='${db:Status-Status}\\n' telegraf 2>&1; ls /etc/apt/sources.list.d/influxdata.list /etc/apt/keyrings/influxdata-archive.gpg 2>&1; true"); strings.Contains(got, "\ninstalled") || strings.HasPrefix(got, "installed") ||
		strings.Count(got, "No such file") != 2 {
		t.Errorf("%s after --purge-agent (package, repository and key removed):\n%s", hostPurged, got)
	}
	// Removed from the inventory: the plan does not mention it, not even as an orphan.
	ph := e.bed.Host(t, hostPurged)
	e.edit(fmt.Sprintf("[[hosts]]\nname = %q\naddress = %q\nport = %d\n", ph.Name, ph.Address, ph.Port), "")
	if out := e.must("plan"); strings.Contains(out, hostPurged) || strings.Contains(out, strings.ReplaceAll(hostPurged, "-", "_")) {
		t.Errorf("the plan mentions a destroyed host removed from the inventory:\n%s", out)
	}
}

// TestDestroyUnreachable: a host that cannot be reached any more still has its servers' side removed, and the
// plan and the report say its own side was skipped.
func TestDestroyUnreachable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, []string{hostVanishes}, "", "")
	e.must("apply", "--auto-approve")
	h := e.bed.Host(t, hostVanishes)
	e.edit(fmt.Sprintf("address = %q", h.Address), fmt.Sprintf("address = %q", unreachable))
	out, errOut, code := e.run("destroy", "--host", hostVanishes, "--auto-approve")
	if code != 0 {
		t.Fatalf("destroy of an unreachable host: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "? report "+hostVanishes+"/host:ssh (unreachable") || strings.Count(out, "the host side was skipped") < 2 ||
		!strings.Contains(out, "- delete "+hostVanishes+"/grafana.datasource:") {
		t.Errorf("the plan and the report must say the host side was skipped:\n%s", out)
	}
	if got := e.serverSide(hostVanishes); got != (serverSide{database: true}) {
		t.Errorf("servers after destroying unreachable %s: %+v, want only its database", hostVanishes, got)
	}
	// The host itself was not touched.
	if got := e.ssh(hostVanishes, "systemctl is-active telegraf; ls /etc/telegraf/telegraf.d/; true"); !strings.Contains(got, "active") || !strings.Contains(got, "fleetctl-outputs.conf") {
		t.Errorf("the unreachable host was changed:\n%s", got)
	}
}

// TestOrphansAndPrune plants objects with fleetctl's marks for a host no inventory has (a task, a datasource, a
// dashboard, users, a handler in its topic), and look-alikes without them: plan reports exactly the marked ones apart from the hosts (text and JSON), apply --prune deletes them,
// keeping the database without --delete-data, and the look-alikes survive.
func TestOrphansAndPrune(t *testing.T) {
	e := newEnv(t, []string{hostOrphanage}, "", "")
	gone := "gone-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))[:10]
	db := strings.ReplaceAll(gone, "-", "_")
	// Marked: a task with fleetctl's marker line, a datasource with its uid and fingerprint, a tagged dashboard with
	// its uid, the write user with WRITE on its database.
	script := "// fleetctl: task of server \"" + gone + "\"; fleetctl apply overwrites changes made in Kapacitor\nstream|from().measurement('cpu')\n"
	e.influxExec(`CREATE DATABASE "` + db + `"`)
	e.influxExec(`CREATE USER "` + db + `_telegraf" WITH PASSWORD 'x'`)
	e.influxExec(`GRANT WRITE ON "` + db + `" TO "` + db + `_telegraf"`)
	e.kapacitor("POST", "/tasks", map[string]any{"id": gone + "-cpu", "type": "stream", "dbrps": []map[string]string{{"db": db, "rp": "autogen"}}, "script": script, "status": "disabled"}, 200)
	e.grafana("POST", "/api/datasources", map[string]any{"uid": catalog.DatasourceUID(gone), "name": "InfluxDB " + gone, "type": "influxdb", "access": "proxy",
		"url": "http://127.0.0.1:1", "jsonData": map[string]any{grafana.FingerprintKey: "x", "dbName": db}}, 200)
	e.grafana("POST", "/api/dashboards/db", map[string]any{"dashboard": map[string]any{"uid": catalog.DashboardUID(gone), "title": gone, "tags": []string{"fleetctl"}, "panels": []any{}}}, 200)
	// A handler in the gone host's topic, as its alert routes made it.
	goneTopic := kapacitor.HostTopic(gone)
	handler := map[string]any{"id": "route-oncall", "kind": "log", "options": map[string]any{"path": "/tmp/" + gone + ".log"}}
	e.kapacitor("POST", "/alerts/topics/"+goneTopic+"/handlers", handler, 200)
	// Look-alikes without the marks: never touched.
	e.influxExec(`CREATE USER "` + db + `_grafana" WITH PASSWORD 'x'`) // no READ grant
	e.kapacitor("POST", "/tasks", map[string]any{"id": gone + "-manual", "type": "stream", "dbrps": []map[string]string{{"db": db, "rp": "autogen"}},
		"script": "stream|from().measurement('cpu')\n", "status": "disabled"}, 200)
	e.grafana("POST", "/api/datasources", map[string]any{"uid": "fleetctl-" + gone + "-hand", "name": "by hand " + gone, "type": "influxdb", "access": "proxy", "url": "http://127.0.0.1:1"}, 200)
	e.grafana("POST", "/api/dashboards/db", map[string]any{"dashboard": map[string]any{"uid": "fleetctl-" + gone + "-hand", "title": "by hand " + gone, "panels": []any{}}}, 200)
	handTopic := gone + "-pager" // a topic of the user's own tasks: not named for a server by fleetctl
	e.kapacitor("POST", "/alerts/topics/"+handTopic+"/handlers", handler, 200)
	t.Cleanup(func() {
		e.kapacitor("DELETE", "/alerts/topics/"+handTopic, nil, 204)
		e.kapacitor("DELETE", "/alerts/topics/"+goneTopic, nil, 204, 404)
		e.influxExec(`DROP DATABASE "` + db + `"`)
		e.influxExec(`DROP USER "` + db + `_grafana"`)
		e.kapacitor("DELETE", "/tasks/"+gone+"-manual", nil, 204)
		e.grafana("DELETE", "/api/datasources/uid/fleetctl-"+gone+"-hand", nil, 200)
		e.grafana("DELETE", "/api/dashboards/uid/fleetctl-"+gone+"-hand", nil, 200)
	})

	marked := []string{"delete orphans/kapacitor.task:" + gone + "-cpu", "delete orphans/grafana.datasource:" + catalog.DatasourceUID(gone),
		"delete orphans/grafana.dashboard:" + catalog.DashboardUID(gone), "delete orphans/influxdb.user:" + db + "_telegraf",
		"report orphans/influxdb.database:" + db, "delete orphans/kapacitor.handler:" + goneTopic + "/route-oncall"}
	unmarked := []string{gone + "-manual", "-hand", db + "_grafana", handTopic}
	// The host's own plan is kept to its database and users (--only): the orphans are the point here, and they are
	// looked for whatever --only selects.
	only := "*/influxdb.*"
	out := e.must("plan", "--only", only)
	if !strings.Contains(out, "Orphans: ") || !strings.Contains(out, "apply --prune deletes") {
		t.Fatalf("no orphans section:\n%s", out)
	}
	for _, want := range marked {
		if !strings.Contains(out, want) {
			t.Errorf("orphans lack %q:\n%s", want, out)
		}
	}
	for _, not := range unmarked {
		if strings.Contains(out, not) {
			t.Errorf("an object without fleetctl's marks (%s) is reported:\n%s", not, out)
		}
	}
	js := e.must("plan", "--only", only, "--format", "json", "--prune", "--delete-data")
	viewstest.OneJSONDocument(t, []byte(js))
	if !strings.Contains(js, `"orphans": [`) || !strings.Contains(js, `"address": "orphans/influxdb.database:`+db+`"`) || !strings.Contains(js, `"prune": true`) {
		t.Errorf("JSON orphans with --prune --delete-data:\n%s", js)
	}

	// apply --prune: the marked objects go, the database stays (no --delete-data), the look-alikes stay.
	out = e.must("apply", "--only", only, "--prune", "--auto-approve")
	if !strings.Contains(out, "orphans") || !strings.Contains(out, "- delete orphans/influxdb.user:"+db+"_telegraf") {
		t.Errorf("the report does not show the pruned orphans:\n%s", out)
	}
	// Left: the database, and the look-alike task and user (named like the host's, without the marks).
	if got := e.serverSide(gone); got != (serverSide{tasks: 1, users: 1, database: true}) {
		t.Errorf("after prune: %+v, want the database and the unmarked task and user", got)
	}
	e.kapacitor("GET", "/tasks/"+gone+"-manual", nil, 200)
	e.grafana("GET", "/api/datasources/uid/fleetctl-"+gone+"-hand", nil, 200)
	e.grafana("GET", "/api/dashboards/uid/fleetctl-"+gone+"-hand", nil, 200)
	e.kapacitor("GET", "/alerts/topics/"+handTopic+"/handlers/route-oncall", nil, 200)
	e.kapacitor("GET", "/alerts/topics/"+goneTopic+"/handlers/route-oncall", nil, 404)
	_, users := e.influxQuery("", e.bed.InfluxDB.AdminUser, e.bed.InfluxDB.AdminPassword, "SHOW USERS")
	if !strings.Contains(fmt.Sprint(users), db+"_grafana") {
		t.Errorf("the unmarked user was dropped: %v", users)
	}
	if out := e.must("plan", "--only", only); strings.Contains(out, gone+"-cpu") {
		t.Errorf("pruned orphans still reported:\n%s", out)
	}
}
