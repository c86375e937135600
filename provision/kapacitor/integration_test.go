package kapacitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/fleetctl/fleetctl/provision/kapacitor"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fleetctl/fleetctl/alertpacks"
	"github.com/fleetctl/fleetctl/provision/engine"
	"github.com/fleetctl/fleetctl/provision/plan"
	"github.com/fleetctl/fleetctl/provision/resourcetest"
)

// Integration tests against the test bed's real Kapacitor 1.5.9 and InfluxDB. They are an external test package:
// they use only the exported API, as the catalog does.

// handMadeScript is a task someone defined without fleetctl.
const handMadeScript = "stream\n    |from()\n        .measurement('cpu')\n    |httpOut('x')\n"

func renderShipped(t *testing.T, host, db string, packs []string, h alertpacks.Handlers) []alertpacks.Script {
	t.Helper()
	set, err := alertpacks.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if packs == nil {
		packs = set.Names()
	}
	scripts, err := set.Render(packs, alertpacks.Target{Host: host, Database: db}, nil, h)
	if err != nil {
		t.Fatal(err)
	}
	return scripts
}

func tasksOf(t *testing.T, c *kapacitor.Client, scripts []alertpacks.Script, db string) []*kapacitor.Task {
	t.Helper()
	tasks, err := kapacitor.TasksFor(c, scripts, kapacitor.DBRP{DB: db, RP: "autogen"})
	if err != nil {
		t.Fatal(err)
	}
	return tasks
}

func resources(tasks []*kapacitor.Task) []engine.Resource {
	out := make([]engine.Resource, len(tasks))
	for i, tk := range tasks {
		out[i] = tk
	}
	return out
}

func actions(chs []plan.Change) []plan.Action { return resourcetest.Actions(chs) }

// TestIntegrationConvergeShippedPacks defines every shipped pack for a host, with every handler, and proves a
// second plan is empty: the raw script, dbrps and status read back exactly as written.
func TestIntegrationConvergeShippedPacks(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	host := uniqueHost(t, "kt-all")
	db := "telegraf_" + strings.ReplaceAll(host, "-", "_")
	e.cleanupTasks(t, host)

	scripts := renderShipped(t, host, db, nil, alertpacks.Handlers{
		LogPath: filepath.Join(t.TempDir(), "alerts.log"),
		Email:   []string{"ops@example.com"}, // the bed's Kapacitor has no SMTP: defining and starting must still work
		Webhook: "http://127.0.0.1:9/kapacitor",
	})
	tasks := tasksOf(t, e.c, scripts, db)
	first := resourcetest.Converge(t, ctx, resources(tasks)...)
	if len(first) != len(tasks) {
		t.Fatalf("first plan: %d changes for %d tasks: %v", len(first), len(tasks), actions(first))
	}
	for _, ch := range first {
		if ch.Action != plan.Create || ch.Kind != kapacitor.KindTask || ch.AfterText == nil {
			t.Errorf("first plan: %+v, want creates with the script", ch)
		}
	}
	for _, tk := range tasks {
		st, err := e.c.Task(ctx, tk.ID())
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != kapacitor.StatusEnabled || !st.Executing || st.Error != "" || st.Type != kapacitor.TypeStream {
			t.Errorf("%s: status %s, executing %v, type %s, error %q", tk.ID(), st.Status, st.Executing, st.Type, st.Error)
		}
		if st.Script != tk.Script() {
			t.Errorf("%s: raw script does not read back as written", tk.ID())
		}
		if !reflect.DeepEqual(st.DBRPs, []kapacitor.DBRP{{DB: db, RP: "autogen"}}) {
			t.Errorf("%s: dbrps %v", tk.ID(), st.DBRPs)
		}
	}
}

// TestIntegrationDrift changes a converged task behind fleetctl's back in each way it can drift and checks the
// plan and the repair.
func TestIntegrationDrift(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	host := uniqueHost(t, "kt-drift")
	db := "telegraf_" + strings.ReplaceAll(host, "-", "_")
	e.cleanupTasks(t, host)
	scripts := renderShipped(t, host, db, []string{"cpu"}, alertpacks.Handlers{LogPath: "/tmp/fleetctl-kapacitor-test.log"})
	task := tasksOf(t, e.c, scripts, db)[0]
	id := task.ID()
	resourcetest.Converge(t, ctx, task)

	t.Run("disabled", func(t *testing.T) {
		if _, err := e.c.UpdateTask(ctx, id, kapacitor.TaskPatch{Status: kapacitor.StatusDisabled}); err != nil {
			t.Fatal(err)
		}
		chs := resourcetest.Converge(t, ctx, task)
		if got := actions(chs); !reflect.DeepEqual(got, []plan.Action{plan.Update}) {
			t.Fatalf("plan = %v, want [update]", got)
		}
		if f := chs[0].Fields; len(f) != 1 || f[0] != (plan.Field{Name: "status", Before: "disabled", After: "enabled"}) {
			t.Errorf("fields = %+v", f)
		}
		st, _ := e.c.Task(ctx, id)
		if st.Status != kapacitor.StatusEnabled || !st.Executing {
			t.Errorf("after apply: %s, executing %v", st.Status, st.Executing)
		}
	})

	t.Run("script edited and reloaded", func(t *testing.T) {
		// Someone defines another pipeline (an extra log node) and reloads it, as `kapacitor define` does.
		edited := strings.Replace(task.Script(), "    |groupBy('host')\n", "    |groupBy('host')\n    |log()\n", 1)
		if _, err := e.c.UpdateTask(ctx, id, kapacitor.TaskPatch{Script: edited, Status: kapacitor.StatusDisabled}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.c.UpdateTask(ctx, id, kapacitor.TaskPatch{Status: kapacitor.StatusEnabled}); err != nil {
			t.Fatal(err)
		}
		if st, _ := e.c.Task(ctx, id); !strings.Contains(st.Dot, "log") {
			t.Fatalf("the edited pipeline does not run:\n%s", st.Dot)
		}
		chs := resourcetest.Converge(t, ctx, task)
		if got := actions(chs); !reflect.DeepEqual(got, []plan.Action{plan.Update, plan.Reload}) {
			t.Fatalf("plan = %v, want [update reload]", got)
		}
		if chs[0].BeforeText == nil || *chs[0].BeforeText != edited || *chs[0].AfterText != task.Script() {
			t.Errorf("update lacks before and after scripts: %+v", chs[0])
		}
		if chs[1].Reason != kapacitor.ReasonScriptReload || chs[1].Address == "" {
			t.Errorf("reload = %+v", chs[1])
		}
		// The running pipeline is fleetctl's again: without the reload Kapacitor would still run the log node.
		st, _ := e.c.Task(ctx, id)
		if strings.Contains(st.Dot, "log") || !st.Executing {
			t.Errorf("after apply the task still runs the edited pipeline (executing %v):\n%s", st.Executing, st.Dot)
		}
	})

	t.Run("deleted", func(t *testing.T) {
		if err := e.c.DeleteTask(ctx, id); err != nil {
			t.Fatal(err)
		}
		if got := actions(resourcetest.Converge(t, ctx, task)); !reflect.DeepEqual(got, []plan.Action{plan.Create}) {
			t.Fatalf("plan = %v, want [create]", got)
		}
	})

	t.Run("vars set", func(t *testing.T) {
		vars := map[string]any{"vars": map[string]any{"critLevel": map[string]any{"type": "int", "value": 1}}}
		if err := e.c.DoForTest(ctx, http.MethodPatch, "/tasks/"+id, nil, vars, nil); err != nil {
			t.Fatal(err)
		}
		chs := resourcetest.Converge(t, ctx, task)
		if got := actions(chs); !reflect.DeepEqual(got, []plan.Action{plan.Update}) || !strings.Contains(chs[0].Reason, "deleted and created again") {
			t.Fatalf("plan = %v (%+v), want [update] re-creating the task", got, chs)
		}
		st, _ := e.c.Task(ctx, id)
		if len(st.Vars) != 0 || !st.Executing {
			t.Errorf("after apply: vars %v, executing %v", st.Vars, st.Executing)
		}
	})

	t.Run("dbrps changed", func(t *testing.T) {
		if _, err := e.c.UpdateTask(ctx, id, kapacitor.TaskPatch{DBRPs: []kapacitor.DBRP{{DB: db, RP: "autogen"}, {DB: "other", RP: "autogen"}}}); err != nil {
			t.Fatal(err)
		}
		chs := resourcetest.Converge(t, ctx, task)
		if got := actions(chs); !reflect.DeepEqual(got, []plan.Action{plan.Update, plan.Reload}) || chs[1].Reason != kapacitor.ReasonDBRPReload {
			t.Fatalf("plan = %v (%+v), want [update reload]", got, chs)
		}
	})
}

// TestIntegrationKapacitorKeepsOldScript documents the quirk Reload exists for: a PATCHed script is stored, but
// the running task keeps the old pipeline until it is disabled and enabled.
func TestIntegrationKapacitorKeepsOldScript(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	host := uniqueHost(t, "kt-quirk")
	e.cleanupTasks(t, host)
	task := tasksOf(t, e.c, renderShipped(t, host, "db", []string{"memory"}, alertpacks.Handlers{}), "db")[0]
	resourcetest.Converge(t, ctx, task)
	edited := strings.Replace(task.Script(), "    |groupBy('host')\n", "    |groupBy('host')\n    |log()\n", 1)
	st, err := e.c.UpdateTask(ctx, task.ID(), kapacitor.TaskPatch{Script: edited})
	if err != nil {
		t.Fatal(err)
	}
	if !st.Executing || strings.Contains(st.Dot, "log") {
		t.Errorf("Kapacitor %s now reloads PATCHed scripts (dot:\n%s): Reload may be unnecessary", e.bed.Kapacitor.Version, st.Dot)
	}
	if got, _ := e.c.Task(ctx, task.ID()); got.Script != edited {
		t.Error("the PATCHed script was not stored")
	}
}

// TestIntegrationPrune: tasks of a server that no pack renders any more are deleted, other tasks matching the
// server's prefix are left alone.
func TestIntegrationPrune(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	host := uniqueHost(t, "kt-prune")
	e.cleanupTasks(t, host)
	all := tasksOf(t, e.c, renderShipped(t, host, "db", []string{"cpu", "memory", "swap"}, alertpacks.Handlers{}), "db")
	resourcetest.Converge(t, ctx, resources(all)...)
	// A hand-made task and another server's task whose names start with "<host>-".
	hand := host + "-hand"
	if _, err := e.c.CreateTask(ctx, kapacitor.NewTaskRequest{ID: hand, Type: kapacitor.TypeStream, DBRPs: []kapacitor.DBRP{{DB: "db", RP: "autogen"}}, Script: handMadeScript, Status: kapacitor.StatusDisabled}); err != nil {
		t.Fatal(err)
	}
	other := tasksOf(t, e.c, renderShipped(t, host+"-db", "db", []string{"cpu"}, alertpacks.Handlers{}), "db")
	resourcetest.Converge(t, ctx, resources(other)...)

	// The host now only wants cpu. A small page size makes Read page through the listing.
	small, err := kapacitor.NewClient(kapacitor.Config{URL: e.bed.Kapacitor.URL, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	p, err := kapacitor.NewPrune(small, host, kapacitor.KeepIDs(all[:1]))
	if err != nil {
		t.Fatal(err)
	}
	hp, steps, err := engine.PlanHost(ctx, host, []engine.Declared{engine.OnServer(all[0]), engine.OnServer(p)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]plan.Action{}
	for _, ch := range hp.Changes {
		if ch.Kind == kapacitor.KindTask && ch.Action != plan.NoOp {
			got[ch.Name] = ch.Action
		}
	}
	want := map[string]plan.Action{all[1].ID(): plan.Delete, all[2].ID(): plan.Delete, hand: plan.Report}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("prune plan = %v, want %v", got, want)
	}
	if _, err := engine.ApplyHost(ctx, steps); err != nil {
		t.Fatal(err)
	}
	left, err := e.c.List(ctx, host+"-")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tk := range left {
		ids = append(ids, tk.ID)
	}
	if wantIDs := []string{all[0].ID(), other[0].ID(), hand}; !sameSet(ids, wantIDs) {
		t.Errorf("tasks left = %v, want %v", ids, wantIDs)
	}
	// Converged: only the report of the hand-made task remains, which changes nothing.
	if again := resourcetest.Pending(t, ctx, all[0], p); len(again) > 0 {
		t.Errorf("after prune, still pending: %+v", again)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

// TestIntegrationBadTickOffline: a broken script never reaches Kapacitor.
func TestIntegrationBadTickOffline(t *testing.T) {
	e := requireBed(t)
	ct := &countingTransport{}
	c, err := kapacitor.NewClient(kapacitor.Config{URL: e.bed.Kapacitor.URL, HTTPClient: &http.Client{Transport: ct}})
	if err != nil {
		t.Fatal(err)
	}
	host := uniqueHost(t, "kt-bad")
	scripts := renderShipped(t, host, "db", []string{"load"}, alertpacks.Handlers{})
	broken := strings.Replace(scripts[0].Text, ".as('load_per_core')", ".as('load_per_core'", 1)
	if _, err := kapacitor.NewTask(c, host, "load", []kapacitor.DBRP{{DB: "db", RP: "autogen"}}, broken); err == nil || !strings.Contains(err.Error(), "invalid TICK script, not sent") {
		t.Errorf("NewTask with a broken script: %v", err)
	}
	// A team's pack with a syntax error fails at rendering, naming the template and line.
	dir := t.TempDir()
	writePack(t, dir, "broken", map[string]string{
		"pack.toml":   "doc = \"broken\"\n",
		"broken.tick": "stream\n    |from()\n        .measurement('x'\n    |where(lambda: \"host\" == '$reported_hostname')\n",
	})
	set, err := alertpacks.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Render([]string{"broken"}, alertpacks.Target{Host: host, Database: "db"}, nil, alertpacks.Handlers{}); err == nil || !strings.Contains(err.Error(), "broken.tick:4") {
		t.Errorf("render of a broken pack: %v", err)
	}
	if n := ct.n.Load(); n != 0 {
		t.Errorf("%d requests reached Kapacitor", n)
	}
	// The same client does reach the server, so zero was not for lack of trying.
	if err := c.Ping(context.Background()); err != nil || ct.n.Load() != 1 {
		t.Errorf("ping: %v, %d requests", err, ct.n.Load())
	}
}

func writePack(t *testing.T, dir, name string, files map[string]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
	for f, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name, f), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fastPack copies a shipped pack into a temporary pack directory with its durations counted in seconds instead
// of minutes, so the real template can fire within a test.
func fastPack(t *testing.T, pack string) *alertpacks.Set {
	t.Helper()
	set, err := alertpacks.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := set.Pack(pack)
	if !ok {
		t.Fatalf("no shipped pack %s", pack)
	}
	dir := t.TempDir()
	files := map[string]string{}
	for _, tpl := range p.Templates {
		files[tpl.File] = strings.ReplaceAll(tpl.Source, ".unit(1m)", ".unit(1s)")
	}
	toml, err := fs.ReadFile(packsFS(t), pack+"/pack.toml")
	if err != nil {
		t.Fatal(err)
	}
	files["pack.toml"] = string(toml)
	writePack(t, dir, pack, files)
	fast, err := alertpacks.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fast
}

func packsFS(t *testing.T) fs.FS {
	t.Helper()
	return os.DirFS(filepath.Join("..", "..", "alertpacks", "packs"))
}

// TestIntegrationAlertFires: each threshold pack's real script (durations in seconds instead of minutes) goes
// CRITICAL when the host's points stay above the threshold and back to OK when they stay below, seen through
// Kapacitor's alert API, the log handler's file and the alerts the script writes back to InfluxDB. Other hosts'
// points and the points each pack must skip are written alongside and must not alert.
func TestIntegrationAlertFires(t *testing.T) {
	e := requireBed(t)
	for _, tc := range []struct {
		pack      string
		vars      map[string]any
		event     string // alert id, after "<Kind> - <host>"
		high, low func(host string) string
		level     string // what high raises: CRITICAL unless set
		metric    string // the metric tag the script writes back: the pack's name unless set
	}{
		{
			pack: "cpu", vars: map[string]any{"cpu_crit": 80, "cpu_crit_minutes": 2, "cpu_reset_minutes": 2}, event: "CPU - %s",
			high: func(h string) string {
				return fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=3\ncpu,host=%s,cpu=cpu0 usage_idle=99\ncpu,host=other,cpu=cpu-total usage_idle=1\n", h, h)
			},
			low: func(h string) string { return fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=95\n", h) },
		},
		{
			// Between the warn and the critical threshold: WARNING, then OK.
			pack: "cpu", vars: map[string]any{"cpu_warn": 70, "cpu_crit": 80, "cpu_warn_minutes": 2, "cpu_crit_minutes": 2, "cpu_reset_minutes": 2},
			event: "CPU - %s", level: "WARNING",
			high: func(h string) string { return fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=25\n", h) },
			low:  func(h string) string { return fmt.Sprintf("cpu,host=%s,cpu=cpu-total usage_idle=95\n", h) },
		},
		{
			pack: "procs", vars: map[string]any{"procs_total_crit_minutes": 2, "procs_total_warn_minutes": 2, "procs_total_reset_minutes": 2},
			event: "Processes - %s", metric: "procs_total",
			high: func(h string) string {
				return fmt.Sprintf("processes,host=%s total=5000i,zombies=0i\nprocesses,host=other total=9000i,zombies=0i\n", h)
			},
			low: func(h string) string { return fmt.Sprintf("processes,host=%s total=120i,zombies=0i\n", h) },
		},
		{
			pack: "memory", vars: map[string]any{"memory_crit_minutes": 2, "memory_reset_minutes": 2}, event: "Memory - %s",
			high: func(h string) string {
				return fmt.Sprintf("mem,host=%s used_percent=97.5\nmem,host=other used_percent=99\n", h)
			},
			low: func(h string) string { return fmt.Sprintf("mem,host=%s used_percent=12.5\n", h) },
		},
		{
			pack: "swap", vars: map[string]any{"swap_crit_minutes": 2, "swap_reset_minutes": 2}, event: "Swap - %s",
			high: func(h string) string {
				// Telegraf's second swap series has only the in and out counters.
				return fmt.Sprintf("swap,host=%s used_percent=75,total=100i\nswap,host=%s in=1i,out=2i\n", h, h)
			},
			low: func(h string) string {
				return fmt.Sprintf("swap,host=%s used_percent=1,total=100i\nswap,host=%s in=1i,out=2i\n", h, h)
			},
		},
		{
			pack: "load", vars: map[string]any{"load_crit_minutes": 2, "load_reset_minutes": 2}, event: "Load - %s",
			high: func(h string) string {
				// 10 / 2 cores = 5 per core; the uptime-only series must be skipped.
				return fmt.Sprintf("system,host=%s load1=9,load5=10,n_cpus=2i\nsystem,host=%s uptime=100i\n", h, h)
			},
			low: func(h string) string {
				return fmt.Sprintf("system,host=%s load1=0.1,load5=0.2,n_cpus=2i\nsystem,host=%s uptime=101i\n", h, h)
			},
		},
		{
			pack: "disk", vars: map[string]any{"disk_crit_minutes": 2, "disk_reset_minutes": 2}, event: "Disk - %s /data",
			high: func(h string) string {
				// /data is full; / is fine; the squashfs image is always full and must be ignored.
				return fmt.Sprintf("disk,host=%s,path=/data,fstype=ext4 used_percent=95\ndisk,host=%s,path=/,fstype=ext4 used_percent=10\ndisk,host=%s,path=/snap/core/1,fstype=squashfs used_percent=100\n", h, h, h)
			},
			low: func(h string) string {
				return fmt.Sprintf("disk,host=%s,path=/data,fstype=ext4 used_percent=20\ndisk,host=%s,path=/,fstype=ext4 used_percent=10\n", h, h)
			},
		},
	} {
		t.Run(tc.pack, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			host := uniqueHost(t, "kt-fire")
			db := "telegraf_" + strings.ReplaceAll(host, "-", "_")
			e.cleanupTasks(t, host)
			e.createDatabase(t, db)

			set := fastPack(t, tc.pack)
			if tc.level == "" {
				tc.level = "CRITICAL"
			}
			if tc.metric == "" {
				tc.metric = tc.pack
			}
			// Four state durations: at or above and below, for the warn and the critical level.
			if src := set.Packs()[0].Templates[0].Source; strings.Count(src, ".unit(1s)") != 4 {
				t.Fatalf("the %s template changed shape; the test no longer exercises it:\n%s", tc.pack, src)
			}
			logPath := filepath.Join(t.TempDir(), "alerts.log")
			scripts, err := set.Render([]string{tc.pack}, alertpacks.Target{Host: host, Database: db}, tc.vars, alertpacks.Handlers{LogPath: logPath})
			if err != nil {
				t.Fatal(err)
			}
			task := tasksOf(t, e.c, scripts, db)[0]
			resourcetest.Converge(t, ctx, task)

			eventID := fmt.Sprintf(tc.event, host)
			waitLevel := func(lines, want string) {
				t.Helper()
				eventually(t, 90*time.Second, 250*time.Millisecond, fmt.Sprintf("alert %q goes %s", eventID, want), func() (bool, string) {
					if err := e.influx.write(ctx, db, lines); err != nil {
						return false, err.Error()
					}
					levels, err := e.alertLevels(ctx, task.ID())
					if err != nil {
						return false, err.Error()
					}
					for id, l := range levels {
						if id != eventID && l != "OK" {
							t.Fatalf("alert %q is %s: only %q may alert (%v)", id, l, eventID, levels)
						}
					}
					return levels[eventID] == want, fmt.Sprintf("levels %v", levels)
				})
			}
			waitLevel(tc.high(host), tc.level)
			waitLevel(tc.low(host), "OK")

			// No node failed on a point (a lambda on a missing field counts as an error and drops the point).
			st, err := e.c.Task(ctx, task.ID())
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(st.Dot, `errors="`) && !onlyZeroErrors(st.Dot) {
				t.Errorf("nodes reported errors:\n%s", st.Dot)
			}

			// The log handler wrote both state changes, and only those (stateChangesOnly). Kapacitor updates the
			// topic's state before its handlers finish, so the reset's line may still be on its way: wait for it.
			var data []byte
			eventually(t, 30*time.Second, 100*time.Millisecond, "the alert log holds both state changes", func() (bool, string) {
				data, err = os.ReadFile(logPath)
				if err != nil {
					return false, err.Error()
				}
				return strings.Count(string(data), "\n") >= 2, string(data)
			})
			var levels []string
			for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
				var ev struct {
					ID, Message, Level string
				}
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				if ev.ID != eventID || !strings.Contains(ev.Message, " on "+host) || !strings.HasPrefix(ev.Message, ev.Level+" - ") {
					t.Errorf("log event %+v", ev)
				}
				levels = append(levels, ev.Level)
			}
			if !reflect.DeepEqual(levels, []string{tc.level, "OK"}) {
				t.Errorf("logged levels = %v, want [%s OK]", levels, tc.level)
			}
			// influxDBOut wrote both alerts back into the host's database, as the seed script does (it flushes
			// every 10 s).
			eventually(t, 30*time.Second, 250*time.Millisecond, "alerts written back to InfluxDB", func() (bool, string) {
				series, err := e.influx.query(ctx, fmt.Sprintf(`SELECT * FROM "%s"."autogen"."kapacitor_alerts" WHERE "metric" = '%s'`, db, tc.metric))
				if err != nil {
					return false, err.Error()
				}
				return len(series) == 1 && len(series[0].Values) == 2, fmt.Sprint(series)
			})
		})
	}
}

// TestIntegrationDeadmanFires: the deadman pack with a 2 s interval goes CRITICAL once the host stops reporting and
// OK when it reports again.
func TestIntegrationDeadmanFires(t *testing.T) {
	e := requireBed(t)
	ctx := context.Background()
	host := uniqueHost(t, "kt-dead")
	db := "telegraf_" + strings.ReplaceAll(host, "-", "_")
	e.cleanupTasks(t, host)
	e.createDatabase(t, db)

	set, err := alertpacks.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := set.Render([]string{"deadman"}, alertpacks.Target{Host: host, Database: db},
		map[string]any{"deadman_interval": "2s"}, alertpacks.Handlers{LogPath: filepath.Join(t.TempDir(), "alerts.log")})
	if err != nil {
		t.Fatal(err)
	}
	task := tasksOf(t, e.c, scripts, db)[0]
	resourcetest.Converge(t, ctx, task)

	eventID := "Deadman - " + host
	level := func() (string, string) {
		levels, err := e.alertLevels(ctx, task.ID())
		if err != nil {
			return "", err.Error()
		}
		return levels[eventID], fmt.Sprint(levels)
	}
	write := func() {
		if err := e.influx.write(ctx, db, fmt.Sprintf("system,host=%s load1=0.5,load5=0.5,n_cpus=2i\n", host)); err != nil {
			t.Fatal(err)
		}
	}
	// Report until the task has grouped a few of the host's points: a deadman only watches groups it has seen.
	eventually(t, 60*time.Second, 250*time.Millisecond, "host's points reach the task", func() (bool, string) {
		write()
		st, err := e.c.Task(ctx, task.ID())
		if err != nil {
			return false, err.Error()
		}
		n := processedInto(st.Dot, "groupby")
		return n >= 4, fmt.Sprintf("%d points grouped", n)
	})
	// Silence.
	eventually(t, 60*time.Second, 250*time.Millisecond, "deadman goes CRITICAL", func() (bool, string) {
		l, msg := level()
		return l == "CRITICAL", msg
	})
	eventually(t, 60*time.Second, 250*time.Millisecond, "deadman back to OK", func() (bool, string) {
		write()
		l, msg := level()
		return l == "OK", msg
	})
}

// processedInto reads from a running task's dot graph how many points reached the first node whose name starts
// with node ("groupby" for groupby3).
func processedInto(dot, node string) int {
	for _, line := range strings.Split(dot, "\n") {
		_, rest, ok := strings.Cut(line, "-> "+node)
		if !ok {
			continue
		}
		_, n, ok := strings.Cut(rest, `processed="`)
		if !ok {
			continue
		}
		var v int
		fmt.Sscanf(n, "%d", &v)
		return v
	}
	return 0
}

// onlyZeroErrors reports whether every node of a dot graph says errors="0".
func onlyZeroErrors(dot string) bool {
	for _, part := range strings.Split(dot, `errors="`)[1:] {
		if !strings.HasPrefix(part, `0"`) {
			return false
		}
	}
	return true
}
