package kapacitor

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/fleetctl/fleetctl/provision/plan"
)

const testScript = "stream\n    |from()\n        .measurement('cpu')\n    |where(lambda: \"host\" == 'web1')\n    |httpOut('x')\n"

func stored(server, script string) string { return normScript(marker(server) + "\n" + script) }

func TestMarker(t *testing.T) {
	for _, server := range []string{"web1", "web-db.example.com", `odd"name\x`, "ünï"} {
		got, ok := markedServer(stored(server, testScript))
		if !ok || got != server {
			t.Errorf("markedServer(marker(%q)) = %q, %v", server, got, ok)
		}
	}
	for _, script := range []string{testScript, "// fleetctl: task of server web1\n", "// fleetctl: task of server \"unterminated\n", ""} {
		if s, ok := markedServer(script); ok {
			t.Errorf("markedServer(%q) = %q, want no marker", script, s)
		}
	}
	// Leading blank lines (an editor) do not hide the marker.
	if s, ok := markedServer("\n\n" + stored("web1", testScript)); !ok || s != "web1" {
		t.Errorf("marker after blank lines: %q %v", s, ok)
	}
}

func TestNormScript(t *testing.T) {
	a := "var x = 1  \r\nstream\t\n|from()\n\n\n"
	if got, want := normScript(a), "var x = 1\nstream\n|from()\n"; got != want {
		t.Errorf("normScript = %q, want %q", got, want)
	}
	if normScript(testScript) != testScript {
		t.Error("a normal script must stay as it is")
	}
}

func TestNewTaskRejectsOffline(t *testing.T) {
	c, _ := NewClient(Config{URL: "http://127.0.0.1:1"}) // nothing listens: a request would fail differently
	db := []DBRP{{DB: "telegraf_web1", RP: "autogen"}}
	for name, tc := range map[string]struct {
		server, alert string
		dbrps         []DBRP
		script        string
		want          string
	}{
		"bad tick":    {"web1", "cpu", db, "stream\n    |from(\n", `kapacitor task "web1-cpu": invalid TICK script, not sent: parser: unexpected EOF line 3`},
		"bad id":      {"web 1", "cpu", db, testScript, `invalid kapacitor task id "web 1-cpu"`},
		"slash in id": {"web1", "a/b", db, testScript, "invalid kapacitor task id"},
		"no dbrps":    {"web1", "cpu", nil, testScript, "no dbrps"},
		"empty rp":    {"web1", "cpu", []DBRP{{DB: "x"}}, testScript, "both required"},
	} {
		_, err := NewTask(c, tc.server, tc.alert, tc.dbrps, tc.script)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want %q", name, err, tc.want)
		}
	}
}

// TestDiffTask is the fixture table of the plan a task gets for each state Kapacitor may report.
func TestDiffTask(t *testing.T) {
	want := stored("web1", testScript)
	dbrps := []DBRP{{DB: "telegraf_web1", RP: "autogen"}}
	running := func(mod func(*TaskState)) *TaskState {
		st := &TaskState{ID: "web1-cpu", Type: "stream", DBRPs: dbrps, Script: want, Status: "enabled", Executing: true, Vars: map[string]json.RawMessage{}}
		if mod != nil {
			mod(st)
		}
		return st
	}
	type exp struct {
		actions []plan.Action
		d       decision
		fields  []plan.Field
		text    bool   // BeforeText/AfterText set on the first change
		reason  string // substring of some change's Reason
	}
	for name, tc := range map[string]struct {
		actual *TaskState
		exp    exp
	}{
		"missing": {nil, exp{
			actions: []plan.Action{plan.Create}, d: decision{create: true},
			fields: []plan.Field{{Name: "type", After: "stream"}, {Name: "dbrps", After: `"telegraf_web1"."autogen"`}, {Name: "status", After: "enabled"}},
		}},
		"in sync":                   {running(nil), exp{actions: []plan.Action{plan.NoOp}}},
		"in sync modulo whitespace": {running(func(s *TaskState) { s.Script = strings.ReplaceAll(want, "\n", "  \r\n") + "\n\n" }), exp{actions: []plan.Action{plan.NoOp}}},
		"disabled": {running(func(s *TaskState) { s.Status, s.Executing = "disabled", false }), exp{
			actions: []plan.Action{plan.Update}, d: decision{update: true},
			fields: []plan.Field{{Name: "status", Before: "disabled", After: "enabled"}},
		}},
		"disabled and edited": {running(func(s *TaskState) { s.Status, s.Executing, s.Script = "disabled", false, want+"|log()\n" }), exp{
			actions: []plan.Action{plan.Update}, d: decision{update: true}, text: true,
			fields: []plan.Field{{Name: "status", Before: "disabled", After: "enabled"}},
		}},
		"script edited while enabled": {running(func(s *TaskState) { s.Script = strings.Replace(want, "'x'", "'y'", 1) }), exp{
			actions: []plan.Action{plan.Update, plan.Reload}, d: decision{update: true, reload: true}, text: true,
			reason: reasonScriptReload,
		}},
		"dbrps changed while enabled": {running(func(s *TaskState) { s.DBRPs = []DBRP{{DB: "other", RP: "autogen"}} }), exp{
			actions: []plan.Action{plan.Update, plan.Reload}, d: decision{update: true, reload: true},
			fields: []plan.Field{{Name: "dbrps", Before: `"other"."autogen"`, After: `"telegraf_web1"."autogen"`}},
			reason: reasonDBRPReload,
		}},
		"extra dbrp": {running(func(s *TaskState) { s.DBRPs = append(s.DBRPs, DBRP{DB: "a", RP: "b"}) }), exp{
			actions: []plan.Action{plan.Update, plan.Reload}, d: decision{update: true, reload: true},
			fields: []plan.Field{{Name: "dbrps", Before: `"a"."b", "telegraf_web1"."autogen"`, After: `"telegraf_web1"."autogen"`}},
		}},
		"enabled, not executing": {running(func(s *TaskState) { s.Executing, s.Error = false, "boom" }), exp{
			actions: []plan.Action{plan.Reload}, d: decision{reload: true}, reason: "enabled but not executing (error: boom)",
		}},
		"vars set behind our back": {running(func(s *TaskState) {
			s.Vars = map[string]json.RawMessage{"critLevel": json.RawMessage(`{"type":"int","value":5}`)}
		}), exp{
			actions: []plan.Action{plan.Update}, d: decision{recreate: true},
			fields: []plan.Field{{Name: "vars", Before: "critLevel"}}, reason: "cannot remove with a PATCH",
		}},
		"from a template": {running(func(s *TaskState) { s.TemplateID = "tpl" }), exp{
			actions: []plan.Action{plan.Update}, d: decision{recreate: true},
			fields: []plan.Field{{Name: "template-id", Before: "tpl"}}, reason: "created from a template",
		}},
		"hand-made task of the same name": {running(func(s *TaskState) { s.Script = testScript }), exp{
			actions: []plan.Action{plan.Update, plan.Reload}, d: decision{update: true, reload: true}, text: true,
			reason: "not created by fleetctl",
		}},
		"batch task of the same name": {running(func(s *TaskState) { s.Type = "batch"; s.Script = "batch|query('select 1')\n" }), exp{
			actions: []plan.Action{plan.Update, plan.Reload}, d: decision{update: true, reload: true}, text: true,
			fields: []plan.Field{{Name: "type", Before: "batch", After: "stream"}},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			chs, d := diffTask(want, dbrps, tc.actual)
			got := make([]plan.Action, len(chs))
			for i, c := range chs {
				got[i] = c.Action
			}
			if !reflect.DeepEqual(got, tc.exp.actions) {
				t.Fatalf("actions = %v, want %v (%+v)", got, tc.exp.actions, chs)
			}
			if d != tc.exp.d {
				t.Errorf("decision = %+v, want %+v", d, tc.exp.d)
			}
			if tc.exp.fields != nil && !reflect.DeepEqual(chs[0].Fields, tc.exp.fields) {
				t.Errorf("fields = %+v, want %+v", chs[0].Fields, tc.exp.fields)
			}
			if tc.exp.text {
				if chs[0].BeforeText == nil || chs[0].AfterText == nil || *chs[0].AfterText != want || *chs[0].BeforeText == want {
					t.Errorf("want before and after texts for a unified diff, got %+v", chs[0])
				}
			} else if tc.actual != nil && (chs[0].BeforeText != nil || chs[0].AfterText != nil) {
				t.Errorf("no script change, yet texts are set: %+v", chs[0])
			}
			if tc.exp.reason != "" {
				found := false
				for _, c := range chs {
					found = found || strings.Contains(c.Reason, tc.exp.reason)
				}
				if !found {
					t.Errorf("no change has reason %q: %+v", tc.exp.reason, chs)
				}
			}
			for _, c := range chs {
				if c.Action == plan.Reload && c.Reason == "" {
					t.Errorf("a reload without a reason: %+v", c)
				}
			}
		})
	}
}

func TestReadDigest(t *testing.T) {
	a := &TaskState{ID: "x", Script: "s\n", Status: "enabled"}
	b := &TaskState{ID: "x", Script: "s  \n\n", Status: "enabled"}
	c := &TaskState{ID: "x", Script: "s\n", Status: "disabled"}
	if readDigest(a) != readDigest(b) {
		t.Error("whitespace-only differences should not change the digest")
	}
	if readDigest(a) == readDigest(c) || readDigest(nil) == readDigest(a) {
		t.Error("state differences must change the digest")
	}
}

func TestPruneDiff(t *testing.T) {
	p := &Prune{server: "web1", keep: map[string]bool{"web1-cpu": true}, read: true, found: []TaskState{
		{ID: "web1-cpu", Script: stored("web1", testScript), Status: "enabled"},       // still wanted
		{ID: "web1-swap", Script: stored("web1", testScript), Status: "enabled"},      // ours, unwanted → delete
		{ID: "web1-db-cpu", Script: stored("web1-db", testScript), Status: "enabled"}, // another server's
		{ID: "web1-test", Script: testScript, Status: "disabled"},                     // hand-made
	}}
	chs := p.Diff(nil)
	if len(chs) != 2 {
		t.Fatalf("changes = %+v", chs)
	}
	if c := chs[0]; c.Action != plan.Delete || c.Kind != KindTask || c.Name != "web1-swap" || c.BeforeText == nil || c.Reason != reasonPrune {
		t.Errorf("first change = %+v, want delete of web1-swap", c)
	}
	if c := chs[1]; c.Action != plan.Report || c.Name != "web1-test" || c.Reason != reasonUnmanaged {
		t.Errorf("second change = %+v, want a report of web1-test", c)
	}
	p.found = p.found[:1]
	if chs := p.Diff(nil); len(chs) != 1 || chs[0].Action != plan.NoOp {
		t.Errorf("nothing to prune: %+v", chs)
	}
}

// Planned absent (destroy), a task is deleted when it exists, and a prune deletes every task marked for its server.
func TestAbsentTaskAndPrune(t *testing.T) {
	task, err := NewTask(nil, "web1", "cpu", []DBRP{{DB: "web1", RP: "autogen"}}, testScript)
	if err != nil {
		t.Fatal(err)
	}
	task.Absent()
	task.read = true
	if chs := task.Diff(nil); len(chs) != 1 || chs[0].Action != plan.NoOp {
		t.Errorf("absent, missing: %+v", chs)
	}
	task.actual = &TaskState{ID: "web1-cpu", Script: stored("web1", testScript), Status: "enabled"}
	if chs := task.Diff(nil); len(chs) != 1 || chs[0].Action != plan.Delete || chs[0].BeforeText == nil {
		t.Errorf("absent, present: %+v", chs)
	}
	p := &Prune{server: "web1", keep: map[string]bool{"web1-cpu": true}, read: true, found: []TaskState{
		{ID: "web1-cpu", Script: stored("web1", testScript), Status: "enabled"},
		{ID: "web1-test", Script: testScript, Status: "disabled"}, // hand-made: reported, never deleted
	}}
	p.Absent()
	chs := p.Diff(nil)
	if len(chs) != 2 || chs[0].Action != plan.Delete || chs[0].Name != "web1-cpu" || chs[0].Reason != reasonDestroy || chs[1].Action != plan.Report {
		t.Errorf("absent prune: %+v", chs)
	}
}
